"""Exactness of the exits integer model under fractional data (issues 12, 15).

Brute force (float enumeration with the problem's own evaluator) is the
oracle for status and value; bounds must be valid for the float problem.
"""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import solvers
from formulations.errors import InfeasibleAssignmentError
from formulations.exits import ExitProblem
from formulations.exits.strategies import exit_problems
from tests.helpers import examples


def _close(a, b):
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def _valid_bound(problem, bound, optimum):
    if bound is None:
        return True
    if problem.sense == "min":
        return bound <= optimum * (1 + 1e-9) + 1e-12
    return bound >= optimum * (1 - 1e-9) - 1e-12


@settings(max_examples=examples(30))
@given(exit_problems(max_samples=12, max_exits=3, max_nodes=2, max_blocks=4, fractional=True))
def test_exact_matches_brute_force_on_fractional_data(problem):
    oracle = solvers.solve(problem, method="brute_force")
    sol = solvers.solve(problem, method="exact")
    assert sol.status.value == oracle.status.value, sol.message
    if oracle.status.value == "optimal":
        assert _close(sol.objective, oracle.objective)
        assert _valid_bound(problem, sol.bound, oracle.objective)


@settings(max_examples=examples(25))
@given(exit_problems(max_samples=12, max_exits=3, max_nodes=2, max_blocks=4, fractional=True,
                     objective="latency", constrained=False))
def test_latency_cap_equal_to_a_float_latency_is_met(problem):
    """The cap sits exactly at the float mean latency of the latency-optimal
    plan: the relaxed integer model must not reject it (no `infeasible`)."""
    best = solvers.solve(problem, method="brute_force")
    cap = problem.evaluate(best.assignment).mean_latency_ms
    data = problem.to_dict(inline_samples=True)
    data["objective"] = "accuracy"
    data["constraints"] = {"latency_max_ms": cap}
    capped = ExitProblem.from_dict(data)
    oracle = solvers.solve(capped, method="brute_force")
    assert oracle.status.value == "optimal"
    sol = solvers.solve(capped, method="exact")
    assert sol.status.value == "optimal", sol.message
    assert _close(sol.objective, oracle.objective)


@settings(max_examples=examples(25))
@given(exit_problems(max_samples=12, max_exits=3, max_nodes=2, max_blocks=4), st.data())
def test_threshold_restriction_loses_nothing_against_random_thresholds(problem, data):
    """`exact` searches only observed confidences as thresholds; no plan with
    arbitrary thresholds (drawn uniformly, almost surely not observed) beats it."""
    sol = solvers.solve(problem, method="exact")
    E = problem.n_exits
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    for _ in range(10):
        place = np.sort(rng.integers(0, problem.n_nodes, problem.n_blocks))
        kept = np.r_[rng.random(E - 1) < 0.6, True]
        tau = np.r_[rng.uniform(-0.1, 1.1, E - 1), -np.inf]
        for e, fixed in problem.fixed_thresholds.items():
            tau[e] = fixed
        plan = problem.assignment(place, kept, tau)
        try:
            value = problem.evaluate(plan).objective
        except InfeasibleAssignmentError:  # violates a constraint or max_exits
            continue
        assert sol.status.value == "optimal"
        if problem.sense == "min":
            assert sol.objective <= value * (1 + 1e-9) + 1e-12
        else:
            assert sol.objective >= value - 1e-12
