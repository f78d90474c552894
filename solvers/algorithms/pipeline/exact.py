"""Exact pipeline scheduling: CP-SAT interval model; enumeration for the rate."""

from __future__ import annotations

import itertools
import math

import numpy as np

from formulations.pipeline import ACCURACY_TOL, rate_from_load
from formulations.pipeline.model import build_cpsat

from ...cpsat import run_cpsat
from ...registry import MethodResult, register
from ...solution import Status
from .bounds import objective_bound
from .configs import choose_configs
from .neh import neh_order

__all__ = ["exact", "enumerate_rate", "ENUMERATE_LIMIT"]

#: For ``"rate"``, enumerate configuration vectors when there are at most this many.
ENUMERATE_LIMIT = 20_000


def enumerate_rate(problem) -> tuple[list[int] | None, float]:
    """Best configuration vector for ``"rate"`` by enumeration (order is irrelevant).

    Returns ``(config, max load ms)``; ``(None, inf)`` if none is feasible.
    O(prod_j C_j * n m), vectorized per task.
    """
    n = problem.n
    allowed = [np.flatnonzero(problem.admissible(j)) for j in range(n)]
    acc = [np.nan_to_num(a) for a in problem.accuracy]
    floor = None if problem.accuracy_min is None else problem.accuracy_min - ACCURACY_TOL
    combos = np.array(list(itertools.product(*allowed)), dtype=np.int64).reshape(-1, n)
    if combos.size == 0:
        return None, math.inf
    loads = np.zeros((len(combos), problem.m))
    mean = np.zeros(len(combos))
    for j in range(n):
        loads += problem.times[j][combos[:, j]]
        mean += acc[j][combos[:, j]]
    top = loads.max(axis=1)
    if floor is not None:
        top = np.where(mean / n >= floor, top, np.inf)
    i = int(np.argmin(top))
    if not np.isfinite(top[i]):
        return None, math.inf
    return combos[i].tolist(), float(top[i])


@register("pipeline", "exact", exact=True, searches=True)
def exact(problem, *, time_limit=None, num_workers: int = 1, seed: int = 0, hint: bool = True,
          enumerate_limit: int = ENUMERATE_LIMIT) -> MethodResult:
    """Exact: CP-SAT interval model with a proven bound; enumeration for small ``"rate"`` instances.

    ``"makespan"``: the model of :func:`formulations.pipeline.model.build_cpsat`
    (one optional interval per configuration and stage, no-overlap per
    stage, one order shared by all stages through precedence literals), warm-started
    from NEH. ``"rate"``: enumeration when the product of admissible
    choices is at most ``enumerate_limit``, else the CP-SAT bottleneck-load
    model.

    Parameters
    ----------
    time_limit : float, optional
        Seconds. When reached: status ``time_limit``, the best schedule
        found (if any) and CP-SAT's proven bound (at least the
        stage-load/task-length bound).
    num_workers : int
        CP-SAT workers (1 is deterministic).
    seed : int
        CP-SAT ``random_seed``.
    hint : bool
        Warm start from the NEH schedule.

    Returns
    -------
    MethodResult
        ``optimal`` with the proven bound, ``infeasible``, or ``time_limit``
        with the better of CP-SAT's incumbent and the NEH warm start (if
        any) and the larger of CP-SAT's bound and the static bound of
        :func:`~.bounds.objective_bound`.

    Notes
    -----
    NP-hard for three or more stages (and for two with releases or
    configuration choice). Measured (``benchmarks/bench_pipeline.py``, one
    worker): all ten of Taillard's 20x5 optima proven, 2.5 s median, 21 s at most.
    """
    from ortools.sat.python import cp_model

    reason = problem.infeasibility_reason()
    if reason:
        return MethodResult(Status.INFEASIBLE, message=reason)
    n = problem.n
    if problem.objective == "rate":
        choices = math.prod(int(problem.admissible(j).sum()) for j in range(n))
        if choices <= enumerate_limit:
            config, top = enumerate_rate(problem)
            if config is None:
                return MethodResult(Status.INFEASIBLE, message=f"enumerated {choices} configuration vectors: none feasible")
            return MethodResult(
                Status.OPTIMAL, problem.assignment(range(n), config), bound=rate_from_load(n, top),
                message=f"enumerated {choices} configuration vectors", details={"enumerated": choices},
            )
    static, _ = objective_bound(problem)
    lb_ms = static if problem.objective == "makespan" else (n * 1000.0 / static if static > 0 else None)
    built = build_cpsat(problem, lower_bound_ms=lb_ms)
    warm = _add_hint(problem, built) if hint and problem.objective == "makespan" else None
    solver, code, backend = run_cpsat(built.model, time_limit=time_limit, num_workers=num_workers, seed=seed)
    if code == cp_model.INFEASIBLE:
        return MethodResult(Status.INFEASIBLE, message=f"no schedule meets the constraints {backend}")
    units = built.units_per_ms
    raw = solver.best_objective_bound / units
    if problem.objective == "makespan":
        bound = max(raw, static)
    else:
        bound = min(rate_from_load(n, raw), static)
    details = {"units_per_ms": units, "branches": solver.num_branches, "wall_s": solver.wall_time}
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        if warm is not None and problem.is_feasible(warm):  # the warm start is the best schedule known
            return MethodResult(Status.TIME_LIMIT, warm, bound=bound, details=details,
                                message=f"CP-SAT found none in time; returning its NEH warm start {backend}")
        return MethodResult(Status.TIME_LIMIT, bound=bound, message=f"no schedule found in time {backend}", details=details)
    config = [next(c for c, v in enumerate(row) if solver.boolean_value(v)) for row in built.y]
    if problem.objective == "makespan":
        order = built.order(solver)
    else:
        order = list(range(n))
    assignment = problem.assignment(order, config)
    if not problem.is_feasible(assignment):  # only possible when ns-rounding hides a deadline miss
        return MethodResult(Status.TIME_LIMIT, bound=bound, message=f"rounded model accepted an infeasible schedule {backend}", details=details)
    status = Status.OPTIMAL if code == cp_model.OPTIMAL else Status.TIME_LIMIT
    if status == Status.TIME_LIMIT and warm is not None and problem.is_feasible(warm):
        if problem.evaluate(warm).objective < problem.evaluate(assignment).objective:
            assignment = warm  # keep the better of CP-SAT's incumbent and the warm start
    if status == Status.OPTIMAL and units_exact(units, problem):
        # exact integer data: the proven integer optimum is the float optimum
        bound = problem.evaluate(assignment).objective
    return MethodResult(status, assignment, bound=bound, message=backend, details=details)


def units_exact(units: int, problem) -> bool:
    """Whether every time (ms) is a whole number of ``1/units`` ms."""
    vals = np.concatenate([t.ravel() for t in problem.times] + [problem.release_ms])
    scaled = vals * units
    return bool(np.all(np.abs(scaled - np.round(scaled)) <= 1e-9 * np.maximum(1.0, np.abs(scaled))))


def _add_hint(problem, built):
    """Hint the NEH schedule (configurations, precedences, starts); return its assignment or None."""

    config = choose_configs(problem, "bottleneck")
    if config is None:
        return None
    for j, row in enumerate(built.y):
        for c, var in enumerate(row):
            built.model.add_hint(var, c == config[j])
    order = neh_order(problem, config)
    sched = problem.schedule(problem.assignment(order, config))
    pos = {j: p for p, j in enumerate(order)}
    for (i, j), lit in built.before.items():
        built.model.add_hint(lit, pos[i] < pos[j])
    # hint start times (in model units) of the NEH schedule
    for pos, j in enumerate(order):
        for k in range(problem.m):
            built.model.add_hint(built.start[j][k], int(math.floor(sched.start_ms[pos, k] * built.units_per_ms + 1e-9)))
    return problem.assignment(order, config)
