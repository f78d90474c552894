"""Exact exit placement, thresholds and split by CP-SAT."""

from __future__ import annotations


import numpy as np

from formulations.deadline import Deadline, BuildTimeout, remaining
from formulations.exits.model import build_cpsat

from ...cpsat import bound_of, presolve_fits, run_cpsat
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


def _solve(problem, rounding, deadline, num_workers, seed, hint):
    """Build and solve one model; ``(code, plan, bound, status name, slack)``.
    Raises :class:`~formulations.deadline.BuildTimeout` when building passes ``deadline``."""
    from ortools.sat.python import cp_model

    built = build_cpsat(problem, rounding=rounding, deadline=deadline.at)
    if hint is not None:
        place, _, tau = problem.parse(hint)
        for i, row in enumerate(built.x):
            for n, v in enumerate(row):
                built.model.add_hint(v, n == place[i])
        for e, ze in enumerate(built.z):
            for t, v in enumerate(ze):
                built.model.add_hint(v, float(built.thresholds[e][t]) == tau[e])
    left = remaining(deadline)
    if left is not None and left <= 0:
        return cp_model.UNKNOWN, None, None, "not run (time limit)", built.slack_ms
    cp_time = None if left is None else 0.9 * left  # headroom for re-checks and bounds
    solver, code, _ = run_cpsat(built.model, time_limit=cp_time, num_workers=num_workers, seed=seed,
                                presolve=presolve_fits(built.n_terms, cp_time))
    plan = _read_plan(problem, built, solver) if code in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        bound = None  # CP-SAT proved nothing (its bound field is meaningless then)
    elif problem.objective == "latency":
        bound = bound_of(solver, 'min') / built.units_per_ms / built.n_samples
    else:
        bound = bound_of(solver, 'max') / built.n_samples
    return code, plan, bound, solver.status_name(code), built.slack_ms


def _tighten(problem, bound):
    """Best of CP-SAT's bound, the Lagrangian bound and the trivial one
    (latency >= 0, accuracy <= 1): all are proven, so the tightest is too."""
    from .bound import lagrangian_bound

    lag = lagrangian_bound(problem)
    if bound is None:
        bound = -np.inf if problem.sense == "min" else np.inf
    if problem.sense == "min":
        return max(bound, lag, 0.0)
    return min(bound, lag, 1.0)


def _better(problem, a, b) -> bool:
    """Whether plan ``a`` is feasible and strictly better than ``b`` (None loses)."""
    if a is None or not problem.is_feasible(a):
        return False
    if b is None:
        return True
    va, vb = problem.evaluate(a).objective, problem.evaluate(b).objective
    return va < vb if problem.sense == "min" else va > vb


def warm_start(problem):
    """The better of ``dp`` and ``greedy`` (the kind's fast methods), or None."""
    from .dp import dp
    from .heuristics import greedy

    best = None
    for res in (dp(problem), greedy(problem, bound=False)):
        if res.assignment is not None and _better(problem, res.assignment, best):
            best = res.assignment
    return best


@register("exits", "exact", exact=True, searches=True)
def exact(problem, *, deadline: Deadline | None = None, num_workers: int = 1, seed: int = 0, hint: bool = True) -> MethodResult:
    """Exact plan by CP-SAT: placement, kept exits and thresholds jointly.

    Solves :func:`formulations.exits.model.build_cpsat`, thresholds restricted
    without loss to the observed confidences of each exit; warm-started by
    the better of ``dp`` and ``greedy`` and never worse than it.

    Parameters
    ----------
    problem : ExitProblem
    deadline : Deadline, optional
        The stopping rule :func:`solvers.solve` builds from ``time_limit``
        (wall-clock seconds for the whole call), model building included.
        When reached: status ``time_limit`` with the best plan known (at
        least the warm start) and the tightest proven bound (CP-SAT's, the
        Lagrangian one, or the trivial one).
    num_workers : int
        CP-SAT workers (1 is deterministic).
    seed : int
        CP-SAT ``random_seed``.
    hint : bool
        Give the warm start to CP-SAT as a hint.

    Returns
    -------
    MethodResult
        ``bound``: a proven lower bound on the mean latency in ms (objective
        ``latency``; costs floored, ``slack`` one unit per term on a
        sample's path) or upper bound on the accuracy.

    Notes
    -----
    NP-hard in general (it contains subset selection with a knapsack-like
    accuracy floor); model size O(N E + sum_e |T_e| + K k^2). The model
    relaxes the float problem (costs floored, ``latency_max_ms`` rounded
    up), so its bound and an ``infeasible`` are proofs. If its plan breaks
    ``latency_max_ms`` in floats, a second model with costs rounded up (a
    restriction) supplies the plan, or else the warm start; the status is
    then ``feasible`` unless the plan reaches the relaxation's bound.
    """
    from ortools.sat.python import cp_model

    deadline = Deadline.of(deadline)  # built by solvers.solve from time_limit
    reason = problem.infeasibility_reason()
    if reason:
        return MethodResult(Status.INFEASIBLE, message=reason)
    warm = warm_start(problem)
    try:
        code, plan, bound, name, slack = _solve(problem, "floor", deadline, num_workers, seed, warm if hint else None)
    except BuildTimeout as exc:
        return _answer(problem, warm, _tighten(problem, None), f"{exc}; returning the warm start", {}, 0.0)
    backend = f"(CP-SAT status: {name})"
    if code == cp_model.INFEASIBLE:
        if warm is None:
            return MethodResult(Status.INFEASIBLE, message=f"no plan meets the constraints {backend}")
        return _answer(problem, warm, _tighten(problem, None), f"CP-SAT: infeasible, yet the warm start is feasible {backend}", {}, 0.0)
    details = {}
    proven = code == cp_model.OPTIMAL
    if plan is not None and not problem.is_feasible(plan):
        # only a rounding violation of latency_max_ms can cause this
        proven = False
        try:
            _, plan, _, name2, _ = _solve(problem, "ceil", deadline, num_workers, seed, warm if hint else None)
            details["rounding"] = f"floor plan broke latency_max_ms in floats; ceil model: {name2}"
        except BuildTimeout:
            plan = None
            details["rounding"] = "floor plan broke latency_max_ms in floats; no time for the ceil model"
    if not proven:
        bound = _tighten(problem, bound)
    if _better(problem, warm, plan):
        plan = warm  # never worse than the warm start
    return _answer(problem, plan, bound, backend, details, slack, proven)


def _answer(problem, plan, bound, message, details, slack, proven=False) -> MethodResult:
    """Package ``plan``: ``optimal`` when proven by CP-SAT or when the plan
    meets the bound (the registry re-checks within its tolerance), else
    ``time_limit`` (or ``feasible`` after a rounding fallback)."""
    if plan is None:
        if "rounding" in details and "no time" not in details["rounding"]:
            # the relaxation's plan broke latency_max_ms in floats and the restriction has none: neither
            # a plan nor a proof of infeasibility (never reported as a time limit that was not reached)
            return MethodResult(Status.UNKNOWN, bound=bound, details=details, message=(
                f"feasibility undecided: the relaxed model's plan breaks latency_max_ms in floats and the "
                f"restricted model has no plan; {message}"))
        return MethodResult(Status.TIME_LIMIT, bound=bound, message=f"no plan found in time; {message}", details=details)
    value = problem.evaluate(plan).objective
    tol = 1e-9 * max(1.0, abs(value))
    met = bound is not None and (value <= bound + tol if problem.sense == "min" else value >= bound - tol)
    if proven or met:
        status = Status.OPTIMAL
    else:
        status = Status.FEASIBLE if "rounding" in details else Status.TIME_LIMIT
    return MethodResult(status, plan, bound=bound, message=message,
                        details={**details, **evaluation_details(problem, plan)}, slack=slack)
