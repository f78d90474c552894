"""Exact k-tier partitioning by CP-SAT, with latency/energy constraints and device budgets."""

from __future__ import annotations

import numpy as np

from formulations.partition.tier_ilp import build_tier_cpsat

from ...cpsat import run_cpsat
from ...registry import MethodResult, register
from ...solution import Status
from .tiers import weighted_min_cut

__all__ = ["tier_ilp", "solve_tier_model"]

#: Re-solves allowed when the floored integer model accepts an assignment the float check rejects.
MAX_RESOLVES = 50


def solve_tier_model(problem, built, *, time_limit=None, num_workers=1, seed=0):
    """Solve a :class:`~formulations.partition.tier_ilp.TierModel`, re-checking constraints in floats.

    The integer constraints are relaxations (floored coefficients); an
    assignment violating a float constraint (by less than 1 ns per term) is
    excluded by a no-good cut and the model solved again.

    Returns
    -------
    (code, tiers or None, bound, message)
        ``code`` is ``"optimal"``, ``"feasible"`` (time limit with a
        solution), ``"infeasible"`` or ``"unknown"``; ``bound`` is in the
        objective's integer units (None if unknown).
    """
    from ortools.sat.python import cp_model

    message = ""
    for _ in range(MAX_RESOLVES):
        solver, code, message = run_cpsat(built.model, time_limit=time_limit, num_workers=num_workers, seed=seed)
        if code == cp_model.INFEASIBLE:
            return "infeasible", None, None, message
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return "unknown", None, solver.best_objective_bound, message
        tiers = built.tiers(solver)
        if problem.violations(tiers):
            built.forbid(tiers)
            continue
        status = "optimal" if code == cp_model.OPTIMAL else "feasible"
        return status, tiers, solver.best_objective_bound, message
    raise RuntimeError(f"CP-SAT kept returning assignments that fail the float check ({MAX_RESOLVES} times)")


@register("tiers", "ilp", exact=True)
def tier_ilp(problem, *, time_limit=None, num_workers: int = 1, seed: int = 0, hint: bool = True) -> MethodResult:
    """Exact k-tier partitioning by CP-SAT; also ``constraints`` and ``device_budget``.

    Solves :func:`formulations.partition.tier_ilp.build_tier_cpsat` (energy
    under a latency limit, latency under an energy budget, any weighted
    objective), warm-started from the unconstrained min cut.

    Parameters
    ----------
    problem : TieredPartitionProblem
    time_limit : float, optional
        Seconds; when reached, status ``time_limit`` with the best assignment found.
    num_workers, seed : int
        CP-SAT workers (1 is deterministic) and seed.
    hint : bool
        Warm-start from the weighted min cut (ignores constraints).

    Returns
    -------
    MethodResult
        ``bound``: CP-SAT's proven bound on the floor-scaled objective, in
        the objective's unit (a lower bound on the float optimum).

    Notes
    -----
    NP-hard with a constraint or a budget (knapsack-like); without them the
    constraint matrix is a closure problem and CP-SAT proves optimality fast
    (use ``mincut`` anyway).
    """
    reason = problem.infeasibility_reason()
    if reason:
        return MethodResult(Status.INFEASIBLE, message=reason)
    built = build_tier_cpsat(problem)
    if hint:

        warm, _ = weighted_min_cut(problem, *problem.objective_weights)
        built.hint(warm)
    status, tiers, bound, message = solve_tier_model(
        problem, built, time_limit=time_limit, num_workers=num_workers, seed=seed
    )
    units = built.objective.units
    bound = None if bound is None else float(bound) / units
    if status == "infeasible":
        return MethodResult(Status.INFEASIBLE, message=f"no assignment meets the constraints {message}")
    if tiers is None:
        return MethodResult(Status.TIME_LIMIT, bound=bound, message=f"no assignment found in time {message}")
    result_status = Status.OPTIMAL if status == "optimal" else Status.TIME_LIMIT
    return MethodResult(
        result_status, problem.assignment(tiers), bound=bound, message=message,
        details={"layers_per_tier": np.bincount(tiers, minlength=problem.n_tiers).tolist()},
    )
