"""Exact exit placement, thresholds and split by CP-SAT."""

from __future__ import annotations

import time

import numpy as np

from formulations.exits.model import build_cpsat

from ...cpsat import run_cpsat
from ...registry import MethodResult, register
from ...solution import Status
from ._common import evaluation_details

__all__ = ["exact"]


def _read_plan(problem, built, solver) -> dict:
    place = [int(np.argmax([solver.value(v) for v in row])) for row in built.x]
    thresholds = {}
    for e, ze in enumerate(built.z):
        for t, v in enumerate(ze):
            if solver.value(v):
                thresholds[problem.exits[e].name] = float(built.thresholds[e][t])
    return {"placement": place, "thresholds": thresholds}


def _solve(problem, rounding, time_limit, num_workers, seed, hint):
    from ortools.sat.python import cp_model

    built = build_cpsat(problem, rounding=rounding)
    if hint is not None:
        place = hint["placement"]
        for i, row in enumerate(built.x):
            for n, v in enumerate(row):
                built.model.add_hint(v, n == place[i])
        for e, ze in enumerate(built.z):
            tau = hint["thresholds"].get(problem.exits[e].name)
            for t, v in enumerate(ze):
                built.model.add_hint(v, tau is not None and float(built.thresholds[e][t]) == tau)
    solver, code, _ = run_cpsat(built.model, time_limit=time_limit, num_workers=num_workers, seed=seed)
    plan = _read_plan(problem, built, solver) if code in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None
    if problem.objective == "latency":
        bound = solver.best_objective_bound / built.units_per_ms / built.n_samples
    else:
        bound = solver.best_objective_bound / built.n_samples
    return code, plan, bound, solver.status_name(code)


def _tighten(problem, bound):
    """Best of CP-SAT's bound, the Lagrangian bound and the trivial one
    (latency >= 0, accuracy <= 1): all are proven, so the tightest is too."""
    from .bound import lagrangian_bound

    lag = lagrangian_bound(problem)
    if problem.sense == "min":
        return max(bound, lag, 0.0)
    return min(bound, lag, 1.0)


@register("exits", "exact", exact=True, default=True, searches=True)
def exact(problem, *, time_limit=None, num_workers: int = 1, seed: int = 0, hint: bool = True) -> MethodResult:
    """Exact plan by CP-SAT: placement, kept exits and thresholds jointly.

    Solves :func:`formulations.exits.model.build_cpsat`, thresholds restricted
    without loss to the observed confidences of each exit.

    Parameters
    ----------
    problem : ExitProblem
    time_limit : float, optional
        Seconds. When reached: status ``time_limit`` with the best plan found
        (if any) and CP-SAT's proven bound.
    num_workers : int
        CP-SAT workers (1 is deterministic).
    seed : int
        CP-SAT ``random_seed``.
    hint : bool
        Warm-start from the ``greedy`` heuristic's plan when it finds one.

    Returns
    -------
    MethodResult
        ``bound``: a proven lower bound on the mean latency in ms (objective
        ``latency``; costs floored to ns) or upper bound on the accuracy.

    Notes
    -----
    NP-hard in general (it contains subset selection with a knapsack-like
    accuracy floor); model size O(N E + sum_e |T_e| + K k^2). Costs are floored
    to ns, so the model relaxes the float problem and its bound is valid. If
    the plan it returns breaks ``latency_max_ms`` in floats (a violation below
    the rounding, ns per sample), a second model with costs rounded up (a
    restriction) supplies the plan; it is ``optimal`` when it reaches the
    relaxation's bound.
    """
    from ortools.sat.python import cp_model

    reason = problem.infeasibility_reason()
    if reason:
        return MethodResult(Status.INFEASIBLE, message=reason)
    start = time.perf_counter()
    warm = None
    if hint:
        from .heuristics import greedy

        res = greedy(problem, bound=False)
        warm = res.assignment
    code, plan, bound, name = _solve(problem, "floor", time_limit, num_workers, seed, warm)
    backend = f"(CP-SAT status: {name})"
    if code == cp_model.INFEASIBLE:
        return MethodResult(Status.INFEASIBLE, message=f"no plan meets the constraints {backend}")
    details = {}
    if plan is not None and not problem.is_feasible(plan):
        # Only a float-rounding violation of latency_max_ms can cause this.
        left = None if time_limit is None else time_limit - (time.perf_counter() - start)
        if left is not None and left <= 0:
            plan = warm
            code = cp_model.FEASIBLE
        else:
            code2, plan, _, name2 = _solve(problem, "ceil", left, num_workers, seed, warm)
            details["rounding"] = f"floor plan broke latency_max_ms in floats; ceil model: {name2}"
            if plan is None:
                plan = warm
            if plan is not None and code == cp_model.OPTIMAL:
                value = problem.evaluate(plan).objective
                tol = 1e-9 * max(1.0, abs(value))
                reached = value <= bound + tol if problem.sense == "min" else value >= bound - tol
                code = cp_model.OPTIMAL if reached else cp_model.FEASIBLE
            else:
                code = cp_model.FEASIBLE
    if code != cp_model.OPTIMAL:
        bound = _tighten(problem, bound)
    if plan is None and warm is not None and problem.is_feasible(warm):
        return MethodResult(Status.TIME_LIMIT, warm, bound=bound,
                            message=f"time limit: best plan is the greedy warm start {backend}",
                            details=evaluation_details(problem, warm))
    if plan is None:
        return MethodResult(Status.TIME_LIMIT, bound=bound, message=f"no plan found in time {backend}")
    if code == cp_model.OPTIMAL:
        status = Status.OPTIMAL
    else:
        status = Status.FEASIBLE if "rounding" in details else Status.TIME_LIMIT
    return MethodResult(status, plan, bound=bound, message=backend, details={**details, **evaluation_details(problem, plan)})
