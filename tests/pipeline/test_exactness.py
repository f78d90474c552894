"""Exactness of the pipeline integer model under fractional data (issue 15).

Every exact method is compared with brute force on instances with
fractional times, releases and deadlines: status and value.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings

import solvers
from formulations.pipeline import PipelineProblem
from formulations.pipeline.problem import Config, Task
from formulations.pipeline.strategies import pipeline_problems
from tests.helpers import examples


def _close(a, b):
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def _random_float_instance(seed, n=4, m=3):
    """Random float times and releases, rounded to 2, 3 or 6 decimals or not at all
    (decimal data whose float sums are not the decimal sums)."""
    rng = np.random.default_rng(seed)
    digits = [2, 3, 6, None][seed % 4]

    def ms(size):
        x = rng.uniform(1, 400, size)
        return x if digits is None else np.round(x, digits)

    tasks = []
    for j in range(n):
        configs = [Config(f"c{c}", tuple(float(x) for x in ms(m)), float(rng.uniform(0.5, 1)))
                   for c in range(int(rng.integers(1, 3)))]
        tasks.append(Task(f"t{j}", tuple(configs), float(ms(1)[0] / 8) if rng.random() < 0.5 else 0.0))
    return PipelineProblem([f"s{k}" for k in range(m)], tasks, objective="makespan")


@pytest.mark.parametrize("seed", range(24))
def test_deadline_equal_to_a_float_latency_is_met(seed):
    """Issue 15 case 2: a deadline equal to the float latency of the optimal
    schedule was reported infeasible by `exact` (floored times, deadline
    compared after rounding). Now the deadline is relaxed outward and
    the plan re-checked in floats."""
    free = _random_float_instance(seed)
    best = solvers.solve(free, method="brute_force")
    latency = max(free.schedule(best.assignment).latency_ms.values())
    tight = PipelineProblem(free.stages, free.tasks, objective="makespan", deadline_ms=latency)
    oracle = solvers.solve(tight, method="brute_force")
    assert oracle.status.value == "optimal"
    sol = solvers.solve(tight, method="exact")
    assert sol.status.value == "optimal", sol.message
    assert _close(sol.objective, oracle.objective)
    assert tight.is_feasible(sol.assignment)


@settings(max_examples=examples(40))
@given(pipeline_problems(max_tasks=4, max_stages=3, max_configs=2, fractional=True))
def test_exact_matches_brute_force_on_fractional_data(problem):
    oracle = solvers.solve(problem, method="brute_force")
    sol = solvers.solve(problem, method="exact")
    if oracle.status.value == "infeasible":
        assert sol.status.value == "infeasible"
        return
    assert sol.status.value == "optimal", sol.message
    assert _close(sol.objective, oracle.objective)
    # the bound is valid for the float problem
    if problem.objective == "makespan":
        assert sol.bound <= oracle.objective * (1 + 1e-9) + 1e-9
    else:
        assert sol.bound >= oracle.objective * (1 - 1e-9) - 1e-9


def test_large_instance_honours_time_limit_and_never_loses_to_ig():
    """Issue 15 case 6 / issue 12: `exact` with a limit on a large flow shop
    stops within 10% + 1 s (building included) and is never worse than `ig`."""
    import time

    rng = np.random.default_rng(0)
    problem = PipelineProblem.from_matrix(rng.uniform(1, 99, (60, 5)).round(2).tolist())
    solvers.solve(problem, method="lower_bound")  # warms up the imports (scipy, ortools)
    fast = solvers.solve(problem, method="ig")
    limit = max(3.0, 2.5 * fast.runtime_s)  # the warm start (ig) fits in its share of the limit
    started = time.perf_counter()
    sol = solvers.solve(problem, method="exact", time_limit=limit)
    assert time.perf_counter() - started <= limit * 1.1 + 1.0
    assert sol.assignment is not None and sol.bound is not None
    assert sol.objective <= fast.objective + 1e-9
    assert sol.bound <= sol.objective * (1 + 1e-9)  # float noise of the static bound only


def test_ig_is_deterministic_by_default():
    """Issue 12: the default `ig` stops by an iteration budget, not wall-clock time."""
    from solvers.algorithms.pipeline.neh import default_iterations

    problem = _random_float_instance(3, n=12, m=4)
    a = solvers.solve(problem, method="ig")
    b = solvers.solve(problem, method="ig")
    assert a.assignment == b.assignment
    assert a.details["iterations"] == default_iterations(problem.n, problem.m)
