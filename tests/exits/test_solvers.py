"""Exit methods against the brute-force oracle, through the registry."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings

import solvers
from tests.reference import exits_objective
from formulations.exits import ExitProblem
from formulations.exits.strategies import exit_problems
from solvers.algorithms.exits import lagrangian_bound
from solvers.algorithms.exits._common import plan_of
from solvers.registry import methods
from tests.helpers import examples

KIND = "exits"
EXACT = [m.name for m in methods(KIND) if m.exact and not m.oracle]
HEURISTICS = [m.name for m in methods(KIND) if not m.exact]


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def better_or_equal(problem, a, b):
    """a is at least as good as b (up to float noise)."""
    tol = 1e-9 * max(1.0, abs(b))
    return a <= b + tol if problem.sense == "min" else a >= b - tol


def check_solution(problem, sol):
    if sol.assignment is not None:
        assert close(sol.objective, exits_objective(problem, sol.assignment))


@settings(max_examples=examples(250))
@given(exit_problems(max_samples=30, max_exits=4, max_nodes=3, max_blocks=5))
def test_exact_methods_equal_brute_force(problem):
    oracle = solvers.solve(problem, method="brute_force")
    for name in EXACT:
        sol = solvers.exits(problem, method=name)
        assert sol.status.value in ("optimal", "infeasible"), (name, sol.message)
        assert sol.status == oracle.status, (name, sol.message, oracle.message)
        if oracle.status.value == "optimal":
            assert close(sol.objective, oracle.objective), (name, sol.objective, oracle.objective)
            assert better_or_equal(problem, sol.bound, oracle.objective)  # a proven bound never crosses
            assert sol.gap is not None and sol.gap < 1e-6
        check_solution(problem, sol)


@settings(max_examples=examples(200))
@given(exit_problems(max_samples=30, max_exits=4, max_nodes=3, max_blocks=5, dp_exact=True))
def test_dp_equals_exact_where_its_condition_holds(problem):
    ref = solvers.solve(problem, method="brute_force")
    ex = solvers.exits(problem, method="exact")
    sol = solvers.exits(problem, method="dp")
    assert sol.status == ref.status == ex.status, sol.message
    if ref.status.value == "optimal":
        assert close(sol.objective, ref.objective) and close(sol.objective, ex.objective)
        assert "exact DP" in sol.message


@settings(max_examples=examples(150))
@given(exit_problems(max_samples=30, max_exits=4, max_nodes=3, max_blocks=5))
def test_heuristics_never_beat_optimum_and_bound_holds(problem):
    ref = solvers.solve(problem, method="brute_force")
    for name in HEURISTICS:
        sol = solvers.exits(problem, method=name)
        check_solution(problem, sol)
        if ref.status.value == "infeasible":
            assert sol.assignment is None, name
            continue
        if sol.assignment is not None:
            assert problem.violations(sol.assignment) == [], name  # every constraint, listed independently
            assert better_or_equal(problem, ref.objective, sol.objective), (name, sol.objective, ref.objective)
            if sol.status.value == "optimal":
                assert close(sol.objective, ref.objective)
        if sol.bound is not None:
            assert better_or_equal(problem, sol.bound, ref.objective), (name, sol.bound, ref.objective)
    # greedy's stated guarantee: never worse than the best final-exit-only plan
    base = plan_of(problem, np.zeros(problem.n_exits, bool), np.full(problem.n_exits, np.inf))
    if base.result.feasible:
        g = solvers.exits(problem, method="greedy")
        assert better_or_equal(problem, g.objective, base.result.objective)


@settings(max_examples=examples(150))
@given(exit_problems(max_samples=30, max_exits=4, max_nodes=3, max_blocks=5, constrained=True))
def test_lagrangian_bound_never_crosses_optimum(problem):
    ref = solvers.solve(problem, method="brute_force")
    if ref.status.value == "optimal":
        assert better_or_equal(problem, lagrangian_bound(problem), ref.objective)


def _tiny(**changes):
    data = {
        "kind": "exits", "version": 1, "nodes": ["device", "edge"],
        "links": [{"mbps": 8.0, "rtt_ms": 1.0}], "input_bytes": 3000, "result_bytes": 1000,
        "blocks": [{"name": "b1", "ms": [5, 1], "output_bytes": 2000},
                   {"name": "b2", "ms": [6, 1], "output_bytes": 1000}],
        "exits": [{"name": "e1", "after": "b1", "ms": [1, 0.5]}, {"name": "final", "after": "b2", "ms": [1, 0.5]}],
        "samples": {"confidence": [[0.9, 1.0], [0.3, 0.8], [0.6, 0.7]], "correct": [[1, 1], [0, 1], [0, 1]]},
    }
    data.update(changes)
    return ExitProblem.from_dict(data)


@pytest.mark.parametrize("name", [m.name for m in methods(KIND)])
def test_infeasible_accuracy_floor_is_a_status(name):
    problem = _tiny(samples={"confidence": [[0.9, 1.0], [0.3, 0.8]], "correct": [[1, 0], [0, 0]]},
                    constraints={"accuracy_min": 0.75})
    sol = solvers.exits(problem, method=name)
    assert sol.status.value == "infeasible", sol.message
    assert sol.assignment is None


def test_infeasible_latency_limit_is_a_status():
    problem = _tiny(objective="accuracy", constraints={"latency_max_ms": 0.5})
    for name in ("exact", "brute_force"):
        sol = solvers.exits(problem, method=name)
        assert sol.status.value == "infeasible", name
    for name in HEURISTICS:  # no proof: no plan, and never the claim "optimal"
        sol = solvers.exits(problem, method=name)
        assert sol.assignment is None and sol.status.value != "optimal", name


def test_exact_time_limit_returns_status_and_bound():
    rng = np.random.default_rng(3)
    N, E = 300, 5
    conf = rng.random((N, E))
    correct = (rng.random((N, E)) < 0.5 + 0.1 * np.arange(E)).astype(int)
    problem = _tiny().with_samples(conf[:, :2], correct[:, :2], constraints={"accuracy_min": 0.7})
    sol = solvers.exits(problem, method="exact", time_limit=0.01)
    assert sol.status.value in ("optimal", "time_limit")
    assert sol.bound is not None
    if sol.assignment is not None:
        check_solution(problem, sol)
        assert sol.bound <= sol.objective + 1e-9


def test_same_seed_same_result():
    rng = np.random.default_rng(0)
    conf = np.sort(rng.random((40, 2)), axis=1)
    correct = (rng.random((40, 2)) < 0.7).astype(int)
    problem = _tiny().with_samples(conf, correct, constraints={"accuracy_min": 0.6})
    for name in ("exact", "greedy", "dp", "msdnet", "edgent"):
        a = solvers.exits(problem, method=name, seed=7) if name == "exact" else solvers.exits(problem, method=name)
        b = solvers.exits(problem, method=name, seed=7) if name == "exact" else solvers.exits(problem, method=name)
        assert a.assignment == b.assignment, name


def test_default_method_is_fast_with_a_bound_and_front_end_rejects_other_kinds():
    """The default answers fast (``dp``, with the Lagrangian bound when it is a heuristic); exact on request."""
    problem = _tiny()
    sol = solvers.exits(problem)
    assert sol.method == "dp" and sol.bound is not None
    exact = solvers.exits(problem, method="exact")
    assert exact.status.value == "optimal" and sol.bound <= exact.objective + 1e-9 <= sol.objective + 2e-9
    with pytest.raises(TypeError):
        solvers.exits(object())
    with pytest.raises(ValueError, match="method"):
        solvers.exits(problem, method="nope")


@settings(max_examples=examples(100))
@given(exit_problems(max_samples=30, max_exits=4, max_nodes=3, max_blocks=5, nested=False))
def test_dp_never_better_than_optimum_off_its_condition(problem):
    ref = solvers.solve(problem, method="brute_force")
    sol = solvers.exits(problem, method="dp")
    if sol.assignment is not None:
        assert ref.status.value == "optimal"
        assert better_or_equal(problem, ref.objective, sol.objective)
    if sol.status.value == "optimal":
        assert close(sol.objective, ref.objective)


@settings(max_examples=examples(80))
@given(exit_problems(max_samples=30, max_exits=4, max_nodes=3, max_blocks=5))
def test_dp_rate_model_is_a_feasible_heuristic(problem):
    ref = solvers.solve(problem, method="brute_force")
    sol = solvers.exits(problem, method="dp", model="rates")
    assert sol.status.value != "optimal" or ref.status.value == "infeasible"
    if sol.assignment is not None:
        check_solution(problem, sol)
        assert better_or_equal(problem, ref.objective, sol.objective)


def test_dp_rejects_an_unknown_model():
    with pytest.raises(ValueError, match="`model`"):
        solvers.exits(_tiny(), method="dp", model="nope")
