"""Enumeration of every monotone tier assignment: the oracle of the k-tier tests."""

from __future__ import annotations

import numpy as np

from formulations.deadline import BuildTimeout, Deadline
from formulations.errors import OptionError

from ...registry import MethodResult
from ...solution import Status
from .._stopping import stopped

__all__ = ["tier_brute_force", "monotone_assignments", "brute_force_front", "MAX_ASSIGNMENTS"]

#: Refuse instances with more structurally feasible assignments than this.
MAX_ASSIGNMENTS = 300_000


def monotone_assignments(problem):
    """Yield every tier vector with inputs on tier 0, ``t(u) <= t(v)`` on edges, and the pins.

    Depth-first over layers in topological order; a layer takes every tier
    from the largest tier of its predecessors up, within the pins. Budgets
    and constraints are not applied. Each vector is yielded as a fresh copy.
    """
    topo = problem.topology
    n, n_tiers = problem.n_layers, problem.n_tiers
    order = topo.order.tolist()
    preds: list[list[int]] = [[] for _ in range(n)]
    for u, w in zip(topo.src.tolist(), topo.dst.tolist()):
        preds[w].append(u)
    pin = np.full(n, -1, dtype=np.int64)
    for j, tier in enumerate(problem.tiers):
        for nm in problem.pinned[tier]:
            pin[problem.index[nm]] = j
    tiers = np.zeros(n, dtype=np.int64)

    def rec(pos):
        if pos == n:
            yield tiers.copy()
            return
        v = order[pos]
        low = max((int(tiers[u]) for u in preds[v]), default=0)
        high = 0 if not preds[v] else n_tiers - 1
        if pin[v] >= 0:
            low, high = max(low, int(pin[v])), min(high, int(pin[v]))
        for j in range(low, high + 1):
            tiers[v] = j
            yield from rec(pos + 1)

    yield from rec(0)


def _feasible_points(problem, deadline: Deadline | None = None):
    """``(tiers, latency_ms, energy_mj)`` of every feasible assignment.

    Without a time limit, more than :data:`MAX_ASSIGNMENTS` assignments raise
    :class:`~formulations.errors.OptionError`; with one, the enumeration
    runs until ``deadline`` and then raises
    :class:`~formulations.deadline.BuildTimeout`.
    """
    deadline = Deadline.of(deadline)
    count = 0
    for tiers in monotone_assignments(problem):
        count += 1
        if count > MAX_ASSIGNMENTS and not deadline.limited:
            raise OptionError(f"brute_force handles at most {MAX_ASSIGNMENTS} assignments without a time limit; "
                              "instance too large")
        deadline.check("enumeration")
        if problem.violations(tiers):
            continue
        latency, energy, _ = problem.measures(tiers)
        yield tiers, latency, energy


def tier_brute_force(problem, *, deadline: Deadline | None = None) -> MethodResult:
    """Evaluate every monotone tier assignment (tiny DAGs only; the test oracle).

    Handles everything the formulation does (pins, budgets, constraints,
    every objective). Ties are broken by enumeration order.

    Notes
    -----
    O(#assignments * k (n + m)); at most k**n assignments. Without a time
    limit, refuses more than :data:`MAX_ASSIGNMENTS`; with one, enumerates
    until the ``deadline`` and then returns status ``time_limit`` with the
    best assignment seen (no bound).
    """
    best, best_key, best_value, feasible = None, np.inf, None, 0
    sign = -1.0 if problem.sense == "max" else 1.0
    try:
        for tiers, latency, energy in _feasible_points(problem, deadline):
            feasible += 1
            value = problem.objective_value(latency, energy, problem.measures(tiers)[2]["period_ms"])
            if sign * value < best_key:
                best, best_key, best_value = tiers, sign * value, value
    except BuildTimeout:
        return stopped(f"after {feasible} feasible assignments", None if best is None else problem.assignment(best),
                       feasible=feasible)
    if best is None:
        return MethodResult(Status.INFEASIBLE, message="no monotone tier assignment is feasible")
    return MethodResult(Status.OPTIMAL, problem.assignment(best), bound=best_value, details={"feasible": feasible})


def brute_force_front(problem, tol: float = 1e-9, second: str = "energy") -> list[tuple[float, float, np.ndarray]]:
    """The exact Pareto front by enumeration: ``(latency_ms, other, tiers)`` sorted by latency.

    ``second="energy"``: the other measure is ``energy_mj``;
    ``second="period"``: the stream's ``period_ms`` (the latency-throughput
    front, both minimized). One entry per non-dominated point (values equal
    within ``tol`` relative count as one). Respects constraints and budgets.
    """
    if second == "period":
        points = [(lat, problem.measures(tiers)[2]["period_ms"], tiers) for tiers, lat, _ in _feasible_points(problem)]
    else:
        points = [(lat, en, tiers) for tiers, lat, en in _feasible_points(problem)]
    points.sort(key=lambda p: (p[0], p[1]))
    front: list[tuple[float, float, np.ndarray]] = []
    for lat, en, tiers in points:
        if front and en >= front[-1][1] - tol * max(1.0, abs(front[-1][1])):
            continue
        if front and lat <= front[-1][0] + tol * max(1.0, abs(lat)):
            front[-1] = (lat, en, tiers)  # same latency (within tol), lower energy
            continue
        front.append((lat, en, tiers))
    return front
