"""Stationary LP against brute force over deterministic stationary policies, through the registry."""

import numpy as np
import pytest
from hypothesis import given, settings

import solvers
from formulations.offloading.lp import capacity_slack
from formulations.offloading.strategies import tiny_offloading
from solvers.algorithms.offloading.brute_force import deterministic_policies
from solvers.registry import methods
from tests.helpers import examples

EXACT = [m.name for m in methods("offloading") if m.exact and not m.oracle]


def test_registry_lists_the_methods():
    names = [m.name for m in methods("offloading")]
    assert names[:3] == ["stationary_lp", "brute_force", "dpp"]
    assert "stationary_lp" in EXACT
    assert solvers.registry.default_method(type("P", (), {"kind": "offloading"})()) == "stationary_lp"


@settings(max_examples=examples(60))
@given(tiny_offloading())
def test_exact_methods_equal_brute_force(problem):
    oracle = solvers.solve(problem, method="brute_force")
    for name in EXACT:
        sol = solvers.solve(problem, method=name)
        assert sol.status == oracle.status, name
        if oracle.status.value == "optimal":
            assert sol.objective == pytest.approx(oracle.objective, rel=1e-6, abs=1e-6), name
            assert sol.bound <= sol.objective + 1e-6
            # recompute the policy's cost from the instance's own numbers, not by evaluate
            assert stationary_cost(problem, sol.assignment) == pytest.approx(sol.objective, rel=1e-9, abs=1e-9)
            best = oracle.details["best_deterministic"]
            if best is not None:  # randomization can only help
                assert sol.objective <= best + 1e-6


@settings(max_examples=examples(40))
@given(tiny_offloading())
def test_every_feasible_deterministic_policy_costs_at_least_p_star(problem):
    """Independent check without any LP on the oracle side: every feasible deterministic policy costs >= p*."""
    sol = solvers.offloading(problem)
    for local, send in deterministic_policies(problem):
        served, load = problem.served_rates(local, send)
        if (served >= problem.rates - 1e-9).all() and (load <= problem.server_capacity + 1e-9).all():
            assert sol.status.value == "optimal"
            assert problem.evaluate({"local": local, "send": [send[k, : l.n_states] for k, l in enumerate(problem.links)]}).objective >= sol.objective - 1e-6


@settings(max_examples=examples(40))
@given(tiny_offloading())
def test_slack_sign_matches_feasibility(problem):
    eps = capacity_slack(problem)
    sol = solvers.offloading(problem)
    assert (sol.status.value == "optimal") == (eps >= -1e-9)


def test_brute_force_refuses_big_instances():
    from formulations.offloading.strategies import synthetic

    with pytest.raises(ValueError, match="`problem`"):
        solvers.solve(synthetic(10, 2, seed=0), method="brute_force")


def stationary_cost(problem, assignment) -> float:
    """``sum_m c_m local_m + sum_{l,w} pi_{l,w} c_{l,w} send_{l,w}``, straight from the link data
    (the stationary distribution computed here for i.i.d. links, taken from ``Link.stationary`` otherwise)."""
    cost = sum(d.local_cost * x for d, x in zip(problem.devices, assignment["local"]))
    for link, per_state in zip(problem.links, assignment["send"]):
        pi = link.probs if link.probs is not None else link.stationary
        cost += sum(p * c * x for p, c, x in zip(pi, link.costs, per_state))
    return float(cost)
