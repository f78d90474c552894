"""Heuristics: greedy add/remove with threshold coordinate descent, MSDNet's
geometric quota, Edgent's deepest-feasible exit. All return a plan measured
by the formulation, status ``feasible`` and the Lagrangian bound."""

from __future__ import annotations

import numpy as np

from formulations.deadline import Deadline

from ...registry import MethodResult, register
from ...solution import Status
from .._stopping import stopped
from ._common import Plan, argbest, evaluation_details, plan_of, score
from .bound import lagrangian_bound

__all__ = ["greedy", "msdnet", "edgent", "sweep_exit"]


def sweep_exit(problem, plan: Plan, e: int) -> tuple[float, float, float]:
    """Best threshold of early exit ``e`` with the rest of ``plan`` fixed: an exact 1-D sweep.

    Tries dropping ``e`` and keeping it with every candidate threshold.

    Returns
    -------
    (tau, violation, objective)
        ``tau = inf`` means drop. Placement is not changed.

    Notes
    -----
    O(N log N + E): samples reaching ``e`` either stop there (if
    ``conf >= tau``) or where they would stop without ``e``; sorting them by
    confidence gives every candidate's totals by prefix sums.
    """
    N = problem.n_samples
    kept = plan.kept.copy()
    tau = plan.tau.copy()
    kept[e], tau[e] = False, np.inf
    n_kept = int(kept[:-1].sum())
    stop0 = problem.stop_exits(kept, tau)
    lat0 = problem.exit_latency_ms(plan.place, kept)
    kept[e] = True
    lat1 = problem.exit_latency_ms(plan.place, kept)
    corr = problem.correct
    rows = np.arange(N)
    base_total = float(lat0[stop0].sum())
    base_cor = int(corr[rows, stop0].sum())
    cands = [(np.inf, base_total, base_cor, n_kept)]
    m = problem.constraints.get("max_exits")
    if m is None or n_kept < m:
        keep_total = float(lat1[stop0].sum())  # heads of e paid, nobody stops at e yet
        reach = stop0 >= e
        c = problem.confidence[reach, e]
        d_lat = lat1[e] - lat1[stop0[reach]]
        d_cor = corr[rows[reach], e].astype(np.int64) - corr[rows[reach], stop0[reach]]
        order = np.argsort(-c, kind="stable")
        c = c[order]
        d_lat = np.r_[0.0, np.cumsum(d_lat[order])]
        d_cor = np.r_[0, np.cumsum(d_cor[order])]
        T = problem.candidate_thresholds(e)
        # samples with conf >= t: the first `cnt` in descending order
        cnt = len(c) - np.searchsorted(c[::-1], T, side="left")
        tot = keep_total + d_lat[cnt]
        cor = base_cor + d_cor[cnt]
        cands += list(zip(T, tot, cor, [n_kept + 1] * len(T)))
    ts, tots, cors, ks = map(np.array, zip(*cands))
    viol, obj = score(problem, tots, cors, ks)
    j = argbest(viol, obj)
    return float(ts[j]), float(viol[j]), float(obj[j])


def _with(problem, plan: Plan, e: int, t: float) -> Plan:
    kept, tau = plan.kept.copy(), plan.tau.copy()
    kept[e], tau[e] = np.isfinite(t), t
    return plan_of(problem, kept, tau)


def _result(problem, plan: Plan | None, name: str, bound: bool, deadline: Deadline) -> MethodResult:
    reason = problem.infeasibility_reason()
    if reason:
        return MethodResult(Status.INFEASIBLE, message=reason)
    if deadline.expired():  # stopped by the deadline: the plan so far, no (costly) bound
        return stopped(f"in {name}", plan.assignment(problem) if plan is not None and plan.result.feasible else None)
    b = lagrangian_bound(problem) if bound else None
    if plan is None or not plan.result.feasible:
        return MethodResult(Status.UNKNOWN, bound=b,
                            message=f"{name} found no feasible plan (no proof of infeasibility)")
    assignment = plan.assignment(problem)
    return MethodResult(Status.FEASIBLE, assignment, bound=b, message=f"heuristic: {name}",
                        details=evaluation_details(problem, assignment))


def _empty(problem) -> Plan:
    E = problem.n_exits
    return plan_of(problem, np.zeros(E, bool), np.full(E, np.inf))


def local_search(problem, plan: Plan, *, rounds: int = 20, deadline: Deadline | None = None) -> Plan:
    """Greedy add/remove moves, then threshold coordinate descent, to a local optimum.

    Each move re-optimizes the placement exactly (:func:`best_placement`).
    The plan's key (feasible first, then objective) never worsens. Stops
    early, with the plan so far, once ``deadline`` has passed.
    """
    E = problem.n_exits
    deadline = Deadline.of(deadline)
    for _ in range(rounds):
        best = plan
        for e in range(E - 1):  # add (with its best threshold) or remove one exit
            if deadline.expired():
                return best
            if plan.kept[e]:
                cand = _with(problem, plan, e, np.inf)
            else:
                t, _, _ = sweep_exit(problem, plan, e)
                if not np.isfinite(t):
                    continue
                cand = _with(problem, plan, e, t)
            if cand.key(problem) < best.key(problem):
                best = cand
        if best is plan:
            break
        plan = best
    for _ in range(rounds):  # coordinate descent over every early exit
        changed = False
        for e in range(E - 1):
            if deadline.expired():
                return plan
            t, _, _ = sweep_exit(problem, plan, e)
            if (np.isfinite(t) != plan.kept[e]) or (np.isfinite(t) and t != plan.tau[e]):
                cand = _with(problem, plan, e, t)
                if cand.key(problem) < plan.key(problem):
                    plan, changed = cand, True
        if not changed:
            break
    return plan


@register("exits", "greedy", exact=False)
def greedy(problem, *, deadline: Deadline | None = None, rounds: int = 20, bound: bool = True) -> MethodResult:
    """Greedy add/remove of exits with per-exit threshold coordinate descent.

    Starts from no early exit; each step applies the best single add
    (its threshold set by an exact 1-D sweep, :func:`sweep_exit`) or
    removal, re-optimizing the placement exactly; then sweeps each exit's
    threshold in turn until nothing improves.

    Guarantees
    ----------
    Never worse than the final-exit-only plan; a local optimum for single
    exit/threshold changes. No ratio bound; ``bound`` is the Lagrangian bound.
    O(rounds * E^2 (N log N + K k^2)). Past the ``deadline``: status
    ``time_limit`` with the plan so far.
    """
    deadline = Deadline.of(deadline)
    return _result(problem, local_search(problem, _empty(problem), rounds=rounds, deadline=deadline), "greedy", bound,
                   deadline)


def _quota_plan(problem, exits: list[int], q: float) -> Plan:
    E, N = problem.n_exits, problem.n_samples
    weights = q * (1 - q) ** np.arange(len(exits) + 1)
    weights[-1] = (1 - q) ** len(exits)  # the rest reach the final exit
    quota = np.floor(N * weights[:-1] / weights.sum()).astype(int)
    kept = np.zeros(E, bool)
    tau = np.full(E, np.inf)
    running = np.ones(N, bool)
    for e, want in zip(exits, quota):
        kept[e] = True
        fixed = problem.exits[e].threshold
        if fixed is not None:
            tau[e] = fixed
        else:
            c = np.sort(problem.confidence[running, e])[::-1]
            tau[e] = c[min(max(want, 1), len(c)) - 1] if len(c) else 1.0
        running &= ~(problem.confidence[:, e] >= tau[e])
    return plan_of(problem, kept, tau)


@register("exits", "msdnet", exact=False)
def msdnet(problem, *, deadline: Deadline | None = None, qs=None, bound: bool = True) -> MethodResult:
    """MSDNet's geometric quota: exit k takes a fraction proportional to ``q (1-q)^k``.

    For each ``q`` in ``qs`` (default 0.05..0.95), keeps the candidate early
    exits (evenly spread down to ``max_exits``), sets each free threshold so
    that its quota of the samples still running stops there (highest
    confidence first), places the blocks optimally, and keeps the best
    feasible plan (or the final-exit-only plan).

    Guarantees
    ----------
    None beyond feasibility of what it returns. O(|qs| (N log N E + K k^2)).
    Past the ``deadline``: status ``time_limit`` with the plan so far.
    """
    deadline = Deadline.of(deadline)
    E = problem.n_exits
    early = list(range(E - 1))
    m = problem.constraints.get("max_exits")
    if m is not None and m < len(early):
        early = sorted({early[int(round(x))] for x in np.linspace(0, len(early) - 1, m)}) if m else []
    qs = np.linspace(0.05, 0.95, 19) if qs is None else qs
    best = _empty(problem)
    for q in qs:
        if not early or deadline.expired():
            break
        cand = _quota_plan(problem, early, float(q))
        if cand.key(problem) < best.key(problem):
            best = cand
    return _result(problem, best, "msdnet", bound, deadline)


@register("exits", "edgent", exact=False)
def edgent(problem, *, deadline: Deadline | None = None, bound: bool = True) -> MethodResult:
    """Edgent's search: from the deepest exit to the shallowest, the fastest split for each.

    Candidate ``e`` keeps only exit ``e`` with its lowest threshold (every
    sample stops there; a fixed threshold is kept as given), with the
    fastest placement; the final-exit-only plan is the deepest candidate.
    Returns the best feasible candidate (for the accuracy objective, the
    deepest one meeting ``latency_max_ms`` when accuracy rises with depth).

    Guarantees
    ----------
    None beyond feasibility. O(E (N + K k^2)). Past the ``deadline``:
    status ``time_limit`` with the plan so far.
    """
    deadline = Deadline.of(deadline)
    E = problem.n_exits
    best = _empty(problem)
    for e in range(E - 2, -1, -1):
        if problem.constraints.get("max_exits") == 0 or deadline.expired():
            break
        kept = np.zeros(E, bool)
        tau = np.full(E, np.inf)
        kept[e] = True
        tau[e] = problem.candidate_thresholds(e)[0]
        cand = plan_of(problem, kept, tau)
        if cand.key(problem) < best.key(problem):
            best = cand
    return _result(problem, best, "edgent", bound, deadline)
