"""``neh`` and ``ig`` on both kernels: bounds from brute force and NEH, determinism, deadlines, agreement.

The numba kernel is optional (the ``fast`` extra): its cases skip without it.
"""

import itertools
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import solvers
from formulations.errors import OptionError
from formulations.pipeline import PipelineProblem
from formulations.pipeline.strategies import flowshop_problems
from solvers.algorithms.pipeline import compiled, kernel, neh
from tests.helpers import examples

NUMBA = pytest.mark.skipif(not compiled.available(), reason="numba (the `fast` extra) is not installed")
KERNELS = ["numpy", pytest.param("numba", marks=NUMBA)]


def _release_order_makespan(problem) -> float:
    order = sorted(range(problem.n), key=lambda j: (problem.release_ms[j], j))
    return problem.evaluate(problem.assignment(order, [0] * problem.n)).objective


@pytest.mark.parametrize("kern", KERNELS)
@settings(max_examples=examples(30), deadline=None, suppress_health_check=list(HealthCheck))
@given(problem=flowshop_problems(max_tasks=6, releases=True))
def test_ig_between_brute_force_and_neh(kern, problem):
    """optimum <= ig <= neh <= release order (ig keeps the best order seen, NEH tries release order)."""
    opt = solvers.pipeline(problem, method="brute_force").objective
    first = solvers.pipeline(problem, method="neh").objective
    sol = solvers.pipeline(problem, method="ig", iterations=5, seed=1, kernel=kern)
    assert sol.details["kernel"] == kern and sol.details["iterations"] == (5 if problem.n > 1 else 0)
    tol = 1e-9 * max(1.0, opt)
    assert opt - tol <= sol.objective <= first + tol
    assert first <= _release_order_makespan(problem) + tol


@pytest.mark.parametrize("kern", KERNELS)
def test_ig_reaches_the_optimum_on_tiny_instances(kern):
    """A fixed sample of 30 instances of 2-6 tasks: 40 iterations find the brute-force optimum."""
    rng = np.random.default_rng(23)
    for _ in range(30):
        n, m = int(rng.integers(2, 7)), int(rng.integers(1, 5))
        times = rng.integers(0, 20, (n, m)).tolist()
        release = rng.integers(0, 30, n).tolist() if rng.random() < 0.5 else None
        problem = PipelineProblem.from_matrix(times, release_ms=release)
        P, r = np.array(times, float), np.zeros(n) if release is None else np.array(release, float)
        opt = min(kernel.makespans(P[list(p)].T.copy(), r[list(p)]) for p in itertools.permutations(range(n)))
        sol = solvers.pipeline(problem, method="ig", iterations=40, seed=0, kernel=kern)
        assert sol.objective == pytest.approx(float(opt))


@pytest.mark.parametrize("kern", KERNELS)
def test_ig_is_deterministic_for_a_seed_and_iterations(kern):
    problem = PipelineProblem.from_matrix(np.random.default_rng(5).integers(1, 99, (25, 5)).tolist())
    runs = [solvers.pipeline(problem, method="ig", iterations=15, seed=s, kernel=kern) for s in (3, 3, 4)]
    assert runs[0].assignment == runs[1].assignment and runs[0].objective == runs[1].objective
    assert all(r.details["iterations"] == 15 for r in runs)


@pytest.mark.parametrize("kern", KERNELS)
def test_ig_honours_time_limit_and_time_budget(kern):
    problem = PipelineProblem.from_matrix(np.random.default_rng(1).uniform(1, 99, (150, 5)).round(2).tolist())
    solvers.pipeline(PipelineProblem.from_matrix([[1, 2], [2, 1], [1, 1]]), method="ig", iterations=1, kernel=kern)
    for options in ({"time_limit": 0.3}, {"time_budget": 0.3}):
        started = time.perf_counter()
        sol = solvers.solve(problem, method="ig", kernel=kern, **options)
        assert time.perf_counter() - started <= 0.3 * 1.1 + 0.1 + 0.25, options  # as in test_stopping_rule
        assert sol.assignment is not None and problem.is_feasible(sol.assignment)


@NUMBA
def test_compiled_insertion_agrees_with_the_numpy_kernel():
    """Same best position (ties by idle time, then first) and value as :func:`kernel.insertion_values`."""
    from solvers.algorithms.pipeline import _numba_kernels as K

    rng = np.random.default_rng(2)
    for trial in range(40):
        L, m = int(rng.integers(0, 9)), int(rng.integers(1, 5))
        P = rng.integers(0, 10, (L + 1, m)).astype(float)
        rel = rng.integers(0, 20, L + 1).astype(float) if trial % 2 else np.zeros(L + 1)
        seq = np.arange(L, dtype=np.int64)
        e, q, rs = np.empty((L + 2, m)), np.empty((L + 2, m)), np.empty(L + 2)
        pos, value = K.best_insert(P, rel, seq, L, L, e, q, rs)
        values, spread = kernel.insertion_values(P[:L].T.copy(), rel[:L], P[L][:, None], rel[L], with_sum=True)
        assert value == values[0].min()
        assert pos == kernel.pick_position(values[0], spread[0])


@NUMBA
def test_both_kernels_start_from_the_same_neh_order_and_never_leave_it_worse():
    problem = PipelineProblem.from_matrix(np.random.default_rng(9).integers(1, 99, (30, 6)).tolist())
    first = solvers.pipeline(problem, method="neh")
    for kern in ("numpy", "numba"):
        sol = solvers.pipeline(problem, method="ig", iterations=0, kernel=kern)  # NEH + local search only
        assert sol.objective <= first.objective


def test_kernel_option_errors(monkeypatch):
    problem = PipelineProblem.from_matrix([[1, 2], [2, 1]])
    with pytest.raises(OptionError, match="`kernel`"):
        solvers.pipeline(problem, method="ig", kernel="fortran")
    monkeypatch.setattr(compiled, "available", lambda: False)
    with pytest.raises(OptionError, match="needs numba"):
        solvers.pipeline(problem, method="ig", kernel="numba")
    assert solvers.pipeline(problem, method="ig").details["kernel"] == "numpy"
    assert neh.default_iterations(50, 10) == neh.default_iterations(50, 10, "numpy")


def test_auto_kernel_never_loads_numba_under_a_short_limit(monkeypatch):
    monkeypatch.setattr(compiled, "available", lambda: True)
    monkeypatch.setattr(compiled, "loaded", lambda: False)
    monkeypatch.setattr(compiled, "cached", lambda: True)
    now = time.perf_counter()
    assert neh.resolve_kernel("auto") == "numba"  # no wall-clock stop: deterministic choice
    assert neh.resolve_kernel("auto", now + neh.LOAD_S / 2) == "numpy"
    assert neh.resolve_kernel("auto", now + 2 * neh.LOAD_S + 1) == "numba"
    monkeypatch.setattr(compiled, "cached", lambda: False)  # a compile (~10 s) would be needed
    assert neh.resolve_kernel("auto", now + 2 * neh.LOAD_S + 1) == "numpy"


def test_default_budget_is_deterministic_and_sized_per_kernel():
    assert neh.default_iterations(20, 5, "numba") == neh.MAX_ITERATIONS["numba"]
    assert neh.default_iterations(50, 10, "numpy") == 750_000 // (25_000 + 3_000)
    assert neh.default_iterations(10_000, 20, "numba") == 0
