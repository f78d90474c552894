"""Exact partitioning by CP-SAT, with device budgets."""

from __future__ import annotations

import math

import numpy as np

from formulations.deadline import Deadline, BuildTimeout, remaining
from formulations.partition.ilp import BUDGET_RTOL, add_no_good, build_cpsat

from ...cpsat import bound_of, presolve_fits, run_cpsat
from ...registry import MethodResult, register
from ...solution import Status
from ._common import Costs, two_tier
from .tier_ilp import tier_ilp

__all__ = ["ilp", "warm_start", "MAX_NO_GOODS"]

#: Most float-infeasible plans excluded (then resolved) before giving up on
#: the relaxation and returning the warm start.
MAX_NO_GOODS = 25


def _fits(problem, mask: np.ndarray) -> bool:
    return not problem.violations(mask)


def _budget_prefix_plans(problem, costs: Costs) -> list[np.ndarray]:
    """Device masks of the splits right after cut vertices that fit the budget. O(n)."""
    n = problem.n_layers
    cuts = problem.topology.cut_positions
    usage_ok = np.ones(n, dtype=bool)
    for res, limit in problem.device_budget.items():
        use = problem.resources.get(res, np.zeros(n))[costs.order]
        usage_ok &= np.cumsum(use) <= limit * (1 + BUDGET_RTOL)
    plans = []
    for p in cuts[usage_ok[cuts]].tolist():
        plans.append(costs.mask_from_positions(np.arange(n) <= p))
    return plans


def warm_start(problem) -> tuple[np.ndarray | None, float | None, float]:
    """The kind's best fast plan and a proven bound, before any search.

    Without a budget: the QDMP optimum. With one: QDMP on the relaxation
    without the budget (its bound is valid; its plan is optimal if it fits),
    else the best of the least device set (inputs, device pins and their
    ancestors: feasible whenever the instance is) and every split after a
    cut vertex that fits the budget.

    Returns
    -------
    mask : ndarray of bool or None
        A float-feasible device mask (None if none was found).
    bound_ms : float or None
        A proven lower bound on the optimum.
    slack_ms : float
        Rounding slack of the min cut behind the bound.

    Notes
    -----
    O(n + m) plus one max-flow.
    """
    from .qdmp import qdmp_relaxed

    relaxed = qdmp_relaxed(problem)
    if relaxed.assignment is None:
        return None, None, 0.0
    mask = problem.device_mask(relaxed.assignment)
    if _fits(problem, mask):
        return mask, relaxed.bound, relaxed.slack
    costs = Costs(problem)
    candidates = [problem.least_device_mask().copy()] + _budget_prefix_plans(problem, costs)
    feasible = [m for m in candidates if _fits(problem, m)]
    if not feasible:
        return None, relaxed.bound, 0.0
    best = min(feasible, key=problem.latency)
    return best, relaxed.bound, 0.0


def _hint(built, mask) -> None:
    built.model.clear_hints()
    for var, on in zip(built.x, mask):
        built.model.add_hint(var, bool(on))


def _search(problem, built, deadline, num_workers, seed):
    """CP-SAT on the (relaxed) model; float-infeasible plans are cut off and
    the model solved again. Returns ``(code, mask, int_bound, message, no_goods)``."""
    from ortools.sat.python import cp_model

    no_goods = 0
    while True:
        left = remaining(deadline)
        if left is not None and left <= 0:
            return cp_model.UNKNOWN, None, None, "(time limit before CP-SAT)", no_goods
        cp_time = None if left is None else 0.9 * left  # headroom for the float re-check
        presolve = presolve_fits(3 * (problem.n_layers + len(problem.topology.src)), cp_time)
        solver, code, message = run_cpsat(built.model, time_limit=cp_time, num_workers=num_workers, seed=seed,
                                          presolve=presolve)
        int_bound = None
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            int_bound = math.floor(bound_of(solver)) + built.objective_offset  # exact int arithmetic
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return code, None, int_bound, message, no_goods
        mask = np.array([bool(solver.value(v)) for v in built.x])
        if built.exact_budget or _fits(problem, mask):
            return code, mask, int_bound, message, no_goods
        if no_goods >= MAX_NO_GOODS:
            return cp_model.FEASIBLE, None, int_bound, message + f" (gave up after {no_goods} no-good cuts)", no_goods
        add_no_good(built, mask)  # only float-infeasible plans are cut: still a relaxation
        no_goods += 1


@register("partition", "ilp", exact=True, searches=True)
def ilp(problem, *, deadline: Deadline | None = None, num_workers: int = 1, seed: int = 0, hint: bool = True) -> MethodResult:
    """Exact partitioning by CP-SAT; also ``device_budget``, k tiers, ``constraints`` and throughput.

    A k-tier instance goes to :func:`~.tier_ilp.tier_ilp`.
    Solves the model of :func:`formulations.partition.ilp.build_cpsat`,
    warm-started (and never beaten) by :func:`warm_start`: the QDMP optimum
    without a budget; with one, the budget-free QDMP optimum when it fits,
    else the best budget-feasible split. A fractional budget is scaled as a
    relaxation; a plan the float evaluator rejects is excluded by a no-good
    cut and the model solved again (at most :data:`MAX_NO_GOODS` times).

    Parameters
    ----------
    problem : PartitionProblem
    deadline : Deadline, optional
        The stopping rule :func:`solvers.solve` builds from ``time_limit``
        (wall-clock seconds for the whole call), model building included.
        When reached: status ``time_limit`` with the best partition known
        (at least the warm start) and the best proven bound (at least the
        budget-free min-cut bound).
    num_workers : int
        CP-SAT search workers (1 is deterministic).
    seed : int
        CP-SAT ``random_seed``.
    hint : bool
        Give the warm start to CP-SAT as a hint.

    Returns
    -------
    MethodResult
        ``bound``: the larger of CP-SAT's ``best_objective_bound`` (floored
        ns, in ms) and the budget-free min-cut bound; ``slack``: 1 ns per
        rounded cost term.

    Notes
    -----
    NP-hard with budgets (a knapsack constraint). Without a budget every
    constraint is a difference of two variables (a closure problem), so the
    LP relaxation is integral and CP-SAT proves optimality quickly; use
    ``qdmp`` there anyway, it is orders of magnitude faster.
    """
    from ortools.sat.python import cp_model

    deadline = Deadline.of(deadline)  # built by solvers.solve from time_limit
    if not two_tier(problem):
        return tier_ilp(problem, deadline=deadline, num_workers=num_workers, seed=seed, hint=hint)
    reason = problem.infeasibility_reason()
    if reason:
        return MethodResult(Status.INFEASIBLE, message=reason)
    warm, warm_bound, warm_slack = warm_start(problem)
    warm_assignment = None if warm is None else problem.assignment(warm)
    try:
        built = build_cpsat(problem, deadline=deadline.at)
    except BuildTimeout as exc:
        return _fallback(problem, warm_assignment, warm_bound, warm_slack, f"{exc}; returning the warm start")
    if hint and warm is not None:
        _hint(built, warm)
    code, mask, int_bound, message, no_goods = _search(problem, built, deadline, num_workers, seed)
    details = {"no_good_cuts": no_goods, "units_per_ms": built.units_per_ms, "exact_budget": built.exact_budget}
    if code == cp_model.INFEASIBLE:
        if warm is None:
            return MethodResult(Status.INFEASIBLE, message=f"no partition fits the constraints {message}")
        # the relaxation minus float-infeasible plans cannot exclude a feasible warm start
        return _fallback(problem, warm_assignment, warm_bound, warm_slack, f"CP-SAT found no better plan {message}",
                         unproven=Status.FEASIBLE)
    bound = warm_bound
    if int_bound is not None:
        cp_bound = int_bound / built.units_per_ms
        bound = cp_bound if bound is None else max(bound, cp_bound)
    if mask is None:
        gave_up = code == cp_model.FEASIBLE  # the no-good cuts ran out, not the time
        return _fallback(problem, warm_assignment, bound, warm_slack, f"no better plan found {message}", details,
                         unproven=Status.FEASIBLE if gave_up else Status.TIME_LIMIT)
    if warm is not None and problem.latency(warm) < problem.latency(mask):
        mask = warm  # within the rounding slack, or CP-SAT stopped early: keep the better plan
    status = Status.OPTIMAL if code == cp_model.OPTIMAL else Status.TIME_LIMIT
    slack = 0.0 if built.coarse else built.slack_ms
    return MethodResult(status, problem.assignment(mask), bound=bound, message=message, details=details, slack=slack)


def _fallback(problem, assignment, bound, slack, message, details=None, unproven=Status.TIME_LIMIT) -> MethodResult:
    """The warm start as the answer: ``optimal`` if it meets the bound (the
    registry checks), else ``unproven`` (``time_limit`` by default)."""
    if assignment is None:
        return MethodResult(Status.TIME_LIMIT, bound=bound, message=message, details=details or {})
    value = problem.latency(assignment)
    status = Status.OPTIMAL if bound is not None and value <= bound + 1e-9 * max(1.0, value) + slack else unproven
    return MethodResult(status, assignment, bound=bound, message=message, details=details or {}, slack=slack)
