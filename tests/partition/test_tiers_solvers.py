"""k-tier partition methods against brute force over every monotone tier assignment.

Example counts follow the Hypothesis profile (tests/conftest.py); set
``TIERS_EXAMPLES=N`` to run every property here on N examples (the
"thousands of random instances" check of docs/tiers.md).
"""

import math
import os

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import solvers
from formulations.partition import PartitionProblem, TieredPartitionProblem
from formulations.partition.strategies import partition_problems
from formulations.partition.tier_cutgraph import objective_terms
from formulations.partition.tier_strategies import tiered_instances
from solvers.algorithms.partition.tier_brute_force import brute_force_front, monotone_assignments
from tests.reference import partition_objective


EXAMPLES = int(os.environ.get("TIERS_EXAMPLES", "0"))


def examples(default=None):
    """``settings(max_examples=...)``: ``TIERS_EXAMPLES`` if set, else ``default`` (else the profile's)."""
    count = EXAMPLES or default
    return settings(max_examples=count) if count else (lambda f: f)


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def check_against_brute_force(problem, method):
    truth = solvers.solve(problem, method="brute_force")
    sol = solvers.solve(problem, method=method)
    assert sol.status.value == truth.status.value, (sol.message, truth.message)
    if truth.status.value == "optimal":
        assert close(sol.objective, truth.objective), (sol.objective, truth.objective)
        assert sol.bound <= sol.objective + 1e-6 * max(1.0, sol.objective)
        assert sol.bound <= truth.objective + 1e-6 * max(1.0, truth.objective)
        assert problem.is_feasible(sol.assignment)
        # the independent certificate: tests/reference.py recomputes it from the instance dict
        assert close(sol.objective, partition_objective(problem, sol.assignment))


@examples()
@given(tiered_instances())
def test_mincut_equals_brute_force(problem):
    check_against_brute_force(problem, "mincut")


@examples(40)
@given(tiered_instances(constraints=True))
def test_ilp_equals_brute_force_with_constraints(problem):
    check_against_brute_force(problem, "ilp")


@examples(20)
@given(tiered_instances(n_tiers=(3, 4), constraints=True), st.data())
def test_ilp_with_limits_at_attained_values(problem, data):
    """Limits equal to values some assignment attains (the boundary case of the float check)."""
    points = [problem.measures(t) for t in monotone_assignments(problem) if not problem.structural_violations(t)]
    if not points:
        return
    latency, energy, _ = data.draw(st.sampled_from(points))
    limits = {"latency_max_ms": latency}
    if problem.energy is not None and data.draw(st.booleans()):
        limits = {"energy_max_mj": energy}
    check_against_brute_force(problem.replace(constraints=limits), "ilp")


@examples(30)
@given(tiered_instances(objectives=("weighted",)))
def test_cost_decomposition_matches_the_evaluator(problem):
    a, b = problem.objective_weights
    terms = objective_terms(problem, a, b)
    for tiers in list(monotone_assignments(problem))[:50]:
        latency, energy, _ = problem.measures(tiers)
        assert close(terms.value(problem, tiers), a * latency + b * energy)


@examples(40)
@given(partition_problems())
def test_two_tiers_equal_the_partition_solver(problem):
    if problem.device_budget:
        return
    tiered = TieredPartitionProblem.from_partition(problem)
    old = solvers.partition(problem)
    new = solvers.partition(tiered)
    assert new.status.value == old.status.value
    if old.status.value == "optimal":
        assert close(new.objective, old.objective)
        mask = problem.device_mask(set(new.assignment["device"]))
        assert close(problem.latency(mask), old.objective)


def hull_vertices(points):
    """Indices of the vertices of the lower-left convex hull of (latency, energy) points sorted by latency."""
    hull = []
    for i, (x, y) in enumerate(points):
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = points[hull[-2]], points[hull[-1]]
            if (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1) <= 0:  # not a strict left turn: drop the middle
                hull.pop()
            else:
                break
        hull.append(i)
    return hull


@examples(40)
@given(tiered_instances(objectives=("latency", "energy"), constraints=True))
def test_pareto_front_equals_brute_force_front(problem):
    truth = brute_force_front(problem)
    front = solvers.pareto(problem)
    got = [(s.details["latency_ms"], s.details["energy_mj"]) for s in front]
    assert got == [(lat, en) for lat, en, _ in truth]  # dyadic data: exact equality
    for sol in front:
        value = problem.evaluate(sol.assignment)
        assert (value.latency_ms, value.energy_mj) == (sol.details["latency_ms"], sol.details["energy_mj"])
    hull = hull_vertices(got)
    for i, sol in enumerate(front):
        if i in hull:
            assert sol.details["supported"], (i, got)
        if sol.details["supported"] and 0 < i < len(got) - 1:
            # on or below the chord of its neighbours' hull vertices
            left = max(h for h in hull if h <= i)
            right = min(h for h in hull if h >= i)
            if left != right:
                (x1, y1), (x2, y2), (x, y) = got[left], got[right], got[i]
                assert (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1) <= 1e-9


@examples(25)
@given(tiered_instances(n_tiers=(2, 3), budget=True, constraints=True))
def test_ilp_with_device_budgets_equals_brute_force(problem):
    check_against_brute_force(problem, "ilp")


@examples(15)
@given(tiered_instances(n_tiers=(2, 3), objectives=("energy",), budget=True, pins=False))
def test_pareto_front_with_a_budget(problem):
    truth = brute_force_front(problem)
    got = [(s.details["latency_ms"], s.details["energy_mj"]) for s in solvers.pareto(problem)]
    assert got == [(lat, en) for lat, en, _ in truth]


@examples(20)
@given(tiered_instances(n_tiers=(3,)))
def test_networkx_backend_agrees(problem):
    if problem.infeasibility_reason():
        return
    fast = solvers.solve(problem, method="mincut")
    slow = solvers.solve(problem, method="mincut", backend="networkx")
    assert close(fast.objective, slow.objective)


def test_mincut_refuses_constraints_and_budgets():
    from formulations import load
    from tests.helpers import INSTANCES

    problem = load(INSTANCES / "partition" / "tiers" / "worked_example.json")
    with pytest.raises(ValueError, match="ilp"):
        solvers.solve(problem.replace(constraints={"latency_max_ms": 100}), method="mincut")
    assert solvers.solve(problem.replace(constraints={"latency_max_ms": 100})).method == "ilp"
    assert solvers.partition(problem).method == "mincut"


def test_ilp_time_limit_covers_the_model_build_and_returns_a_plan():
    """20,000 layers, time_limit=1: the build stops at the limit and the min-cut plan is returned
    (it took 6.6-8 s and returned no plan before)."""
    from formulations.partition.generators import synthetic_dnn

    problem = TieredPartitionProblem.from_partition(synthetic_dnn(20000, seed=1))
    sol = solvers.solve(problem, method="ilp", time_limit=1)
    assert sol.assignment is not None and "time limit" in sol.message
    assert sol.objective == pytest.approx(solvers.solve(problem, method="mincut").objective, rel=1e-9)
