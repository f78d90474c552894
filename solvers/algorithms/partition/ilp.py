"""Exact partitioning by CP-SAT, with device budgets."""

from __future__ import annotations

import numpy as np

from formulations.partition.ilp import build_cpsat

from ...cpsat import run_cpsat
from ...registry import MethodResult, register
from ...solution import Status

__all__ = ["ilp"]


@register("partition", "ilp", exact=True, searches=True)
def ilp(problem, *, time_limit=None, num_workers: int = 1, seed: int = 0, hint: bool = True) -> MethodResult:
    """Exact partitioning by CP-SAT; also handles ``device_budget``.

    Solves the model of :func:`formulations.partition.ilp.build_cpsat`.
    Without a budget, the QDMP optimum is given as a hint (warm start).

    Parameters
    ----------
    problem : PartitionProblem
    time_limit : float, optional
        Seconds. When reached: status ``time_limit`` with the best partition
        found (if any) and CP-SAT's proven bound.
    num_workers : int
        CP-SAT search workers (1 is deterministic).
    seed : int
        CP-SAT ``random_seed``.
    hint : bool
        Warm-start from the min-cut optimum when there is no budget.

    Returns
    -------
    MethodResult
        ``bound`` is ``best_objective_bound`` (floor-scaled ns, converted to ms).

    Notes
    -----
    NP-hard with budgets (a knapsack constraint). Without a budget every
    constraint is a difference of two variables (a closure problem), so the
    LP relaxation is integral and CP-SAT proves optimality quickly; use
    ``qdmp`` there anyway, it is orders of magnitude faster.
    """
    from ortools.sat.python import cp_model

    reason = problem.infeasibility_reason()
    if reason:
        return MethodResult(Status.INFEASIBLE, message=reason)
    built = build_cpsat(problem)
    if hint and not problem.device_budget:
        from .qdmp import qdmp

        warm = qdmp(problem)
        if warm.assignment is not None:
            device = set(warm.assignment["device"])
            for v, var in enumerate(built.x):
                built.model.add_hint(var, problem.names[v] in device)
    solver, code, backend = run_cpsat(built.model, time_limit=time_limit, num_workers=num_workers, seed=seed)
    units = built.units_per_ms
    if code == cp_model.INFEASIBLE:
        return MethodResult(Status.INFEASIBLE, message=f"no partition fits the constraints {backend}")
    bound = solver.best_objective_bound / units
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        mask = np.array([bool(solver.value(v)) for v in built.x])
        status = Status.OPTIMAL if code == cp_model.OPTIMAL else Status.TIME_LIMIT
        return MethodResult(status, problem.assignment(mask), bound=bound, message=backend)
    return MethodResult(Status.TIME_LIMIT, bound=bound, message=f"no partition found in time {backend}")
