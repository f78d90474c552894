"""Exact k-tier partitioning by CP-SAT, with latency/energy constraints and device budgets."""

from __future__ import annotations

import math
import time

import numpy as np

from formulations.deadline import Deadline, BuildTimeout, remaining

from formulations.partition.tier_ilp import build_tier_cpsat

from ...cpsat import run_cpsat
from ...registry import OPTIMALITY_RTOL, MethodResult
from ...solution import Status
from .tiers import weighted_min_cut

__all__ = ["tier_ilp", "solve_tier_model"]

#: Re-solves allowed when the floored integer model accepts an assignment the float check rejects.
MAX_RESOLVES = 50


def solve_tier_model(problem, built, *, time_limit=None, num_workers=1, seed=0, deadline=None):
    """Solve a :class:`~formulations.partition.tier_ilp.TierModel`, re-checking constraints in floats.

    The integer constraints are relaxations (floored coefficients); an
    assignment violating a float constraint (by less than 1 ns per term) is
    excluded by a no-good cut and the model solved again (at most
    :data:`MAX_RESOLVES` times). ``time_limit`` (seconds) covers every
    re-solve together, as does ``deadline`` (absolute perf_counter time).

    Returns
    -------
    (code, tiers or None, bound, message)
        ``code`` is ``"optimal"``, ``"feasible"`` (time limit with a
        solution), ``"infeasible"`` or ``"unknown"`` (time limit, or the
        re-solves ran out); ``bound`` is in the objective's integer units
        (None if unknown).
    """
    from ortools.sat.python import cp_model

    if time_limit is not None:
        end = time.perf_counter() + float(time_limit)
        deadline = end if deadline is None else min(deadline, end)
    message, bound = "", None
    for _ in range(MAX_RESOLVES):
        left = remaining(deadline)
        if left is not None and left <= 0:
            return "unknown", None, bound, message or "(time limit reached)"
        solver, code, message = run_cpsat(built.model, time_limit=left, num_workers=num_workers, seed=seed)
        if code == cp_model.INFEASIBLE:
            return "infeasible", None, None, message
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return "unknown", None, solver.best_objective_bound, message
        bound = solver.best_objective_bound
        tiers = built.tiers(solver)
        if problem.violations(tiers):
            built.forbid(tiers)
            continue
        status = "optimal" if code == cp_model.OPTIMAL else "feasible"
        return status, tiers, solver.best_objective_bound, message
    return "unknown", None, bound, f"CP-SAT kept returning plans that fail the float check ({MAX_RESOLVES} times)"


def tier_ilp(problem, *, deadline: Deadline | None = None, num_workers: int = 1, seed: int = 0, hint: bool = True) -> MethodResult:
    """Exact k-tier partitioning by CP-SAT; also ``constraints`` and ``device_budget``.

    Solves :func:`formulations.partition.tier_ilp.build_tier_cpsat` (energy
    under a latency limit, latency under an energy budget, any weighted
    objective), warm-started from the unconstrained min cut.

    Parameters
    ----------
    problem : TieredPartitionProblem
    deadline : Deadline, optional
        The stopping rule :func:`solvers.solve` builds from ``time_limit``
        (wall-clock seconds for the whole call), model building included; when
        reached, status ``time_limit`` with the best assignment found (or the
        min-cut warm start when it meets the constraints).
    num_workers, seed : int
        CP-SAT workers (1 is deterministic) and seed.
    hint : bool
        Warm-start from the weighted min cut (ignores constraints).

    Returns
    -------
    MethodResult
        ``bound``: CP-SAT's proven bound on the floor-scaled objective (or
        the unconstrained min cut's, a relaxation), in the objective's unit
        (a lower bound on the float optimum); ``slack``: one unit per floored
        term. ``infeasible`` only when the relaxed model is infeasible and
        no float-feasible plan is known.

    Notes
    -----
    NP-hard with a constraint or a budget (knapsack-like); without them the
    constraint matrix is a closure problem and CP-SAT proves optimality fast
    (use ``mincut`` anyway).
    """
    deadline = Deadline.of(deadline)  # built by solvers.solve from time_limit
    reason = problem.infeasibility_reason()
    if reason:
        return MethodResult(Status.INFEASIBLE, message=reason)
    scaling: dict = {}
    warm, warm_bound = weighted_min_cut(problem, *problem.objective_weights, info=scaling)  # type: ignore[misc]
    warm_ok = not problem.violations(warm)  # the min cut ignores constraints and budgets: a relaxation
    if problem.throughput:  # the latency min cut is only a hint: its value bounds nothing here
        warm_bound = None
    try:
        built = build_tier_cpsat(problem, deadline=deadline.at)
    except BuildTimeout as exc:
        return _warm_answer(problem, warm if warm_ok else None, warm_bound, scaling["slack"],
                            f"{exc}; returning the min-cut warm start")
    if hint:
        built.hint(warm)
    status, tiers, bound, message = solve_tier_model(
        problem, built, num_workers=num_workers, seed=seed, deadline=deadline.at
    )
    units = built.objective.units
    if problem.throughput:
        return _throughput_answer(problem, built, status, tiers, bound, message, warm if warm_ok else None)
    bound = warm_bound if bound is None else max(float(bound) / units, warm_bound)
    if status == "infeasible":
        if warm_ok:  # a float-feasible plan contradicts the relaxation's verdict: a numeric failure
            return _warm_answer(problem, warm, warm_bound, scaling["slack"],
                                f"CP-SAT claimed infeasible, yet the min cut meets every constraint {message}",
                                unproven=Status.FEASIBLE)
        return MethodResult(Status.INFEASIBLE, message=f"no assignment meets the constraints {message}")
    if tiers is None:
        return _warm_answer(problem, warm if warm_ok else None, bound, scaling["slack"],
                            f"no assignment found in time {message}")
    if warm_ok and problem.evaluate(warm).objective < problem.evaluate(tiers).objective:
        tiers = warm  # never worse than the warm start
    result_status = Status.OPTIMAL if status == "optimal" else Status.TIME_LIMIT
    return MethodResult(
        result_status, problem.assignment(tiers), bound=bound, message=message,
        slack=max(built.objective.slack, scaling["slack"]),
        details={"layers_per_tier": np.bincount(tiers, minlength=problem.n_tiers).tolist()},
    )


def _warm_answer(problem, warm, bound, slack, message, unproven=Status.TIME_LIMIT) -> MethodResult:
    """The min-cut warm start (``optimal`` when it meets the bound, else ``unproven``), or no plan (``time_limit``)."""
    if warm is None:
        return MethodResult(Status.TIME_LIMIT, bound=bound, message=message)
    value = problem.evaluate(warm).objective
    met = bound is not None and value <= bound + OPTIMALITY_RTOL * abs(value) + slack
    status = Status.OPTIMAL if met else unproven
    return MethodResult(status, problem.assignment(warm), bound=bound, message=message, slack=slack,
                        details={"layers_per_tier": np.bincount(warm, minlength=problem.n_tiers).tolist()})


def _throughput_answer(problem, built, status, tiers, bound, message, warm=None) -> MethodResult:
    """The result of a throughput model: the bound is ``1000 / (floored period bound)`` frames/s (an upper
    bound); the slack converts one unit per floored term of a stage into frames/s. Never worse than the
    feasible warm start, never ``infeasible`` against it."""
    if status == "infeasible" and warm is not None:
        return _warm_answer(problem, warm, None, 0.0, f"CP-SAT claimed infeasible, yet the min cut meets every "
                            f"constraint {message}", unproven=Status.FEASIBLE)
    if status == "infeasible":
        return MethodResult(Status.INFEASIBLE, message=f"no assignment meets the constraints {message}")
    units = built.objective.units
    period_lb = None if bound is None else float(bound) / units
    rate_ub = None if period_lb is None else (math.inf if period_lb <= 0 else 1000.0 / period_lb)
    if tiers is None:
        return _warm_answer(problem, warm, None, 0.0, f"no assignment found in time {message}")
    if warm is not None and problem.evaluate(warm).objective > problem.evaluate(tiers).objective:
        tiers = warm
    slack = 0.0
    if period_lb and built.objective.slack:
        slack = 1000.0 / period_lb - 1000.0 / (period_lb + built.objective.slack)
    return MethodResult(Status.OPTIMAL if status == "optimal" else Status.TIME_LIMIT, problem.assignment(tiers),
                        bound=rate_ub, message=message, slack=slack,
                        details={"layers_per_tier": np.bincount(tiers, minlength=problem.n_tiers).tolist()})
