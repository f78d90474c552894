"""Pieces shared by the exit methods: placements, the placement DP, plan ranking."""

from __future__ import annotations

import itertools
import math

import numpy as np

from formulations.exits import LATENCY_RTOL

__all__ = ["placements", "best_placement", "reach_counts", "rank", "Plan", "plan_of", "n_placements", "score", "argbest"]


def n_placements(problem) -> int:
    """Number of nondecreasing placements: C(K + k - 1, k - 1)."""
    return math.comb(problem.n_blocks + problem.n_nodes - 1, problem.n_nodes - 1)


def placements(problem):
    """Yield every nondecreasing placement (tuple of node indices per block)."""
    return itertools.combinations_with_replacement(range(problem.n_nodes), problem.n_blocks)


def reach_counts(problem, stop: np.ndarray) -> np.ndarray:
    """(E,) samples reaching each exit, from each sample's stop exit."""
    counts = np.bincount(stop, minlength=problem.n_exits)
    return len(stop) - np.concatenate(([0], np.cumsum(counts)[:-1]))


def best_placement(problem, kept: np.ndarray, reach: np.ndarray) -> tuple[np.ndarray, float]:
    """Fastest placement for fixed stop behaviour: a shortest path over (block, node).

    Parameters
    ----------
    kept : (E,) bool
    reach : (E,) samples reaching each exit (they do not depend on placement)

    Returns
    -------
    placement : (K,) int
    total_ms : float
        Sum over samples of latency (N times the mean).

    Notes
    -----
    Exact. O(K k^2): block ``i`` is run by the samples reaching the first
    exit after it; moving from node ``n`` to ``n' > n`` before block ``i``
    makes them cross links ``n..n'-1``.
    """
    K, k = problem.n_blocks, problem.n_nodes
    eb = problem.exit_block
    owner = np.searchsorted(eb, np.arange(K))  # first exit at or after each block
    R = reach[owner].astype(float)
    exit_at = {int(eb[e]): e for e in range(problem.n_exits) if kept[e]}
    bms, ems, cross = problem.block_ms, problem.exit_ms, problem.cross_ms
    cum = np.concatenate([np.zeros((K, 1)), np.cumsum(cross, axis=1)], axis=1)  # cum[i, n] = sum_{l<n}
    value = np.full(k, np.inf)
    value[0] = 0.0
    choice = np.zeros((K, k), dtype=np.int64)
    for i in range(K):
        new = np.full(k, np.inf)
        for n2 in range(k):
            cand = value[: n2 + 1] + R[i] * (cum[i, n2] - cum[i, : n2 + 1])
            j = int(np.argmin(cand))
            new[n2] = cand[j] + R[i] * bms[i, n2]
            choice[i, n2] = j
        e = exit_at.get(i)
        if e is not None:
            new = new + reach[e] * ems[e]
        value = new
    n = int(np.argmin(value))
    total = float(value[n])
    place = np.zeros(K, dtype=np.int64)
    for i in range(K - 1, -1, -1):
        place[i] = n
        n = int(choice[i, n])
    return place, total


def rank(problem, result) -> tuple:
    """Sort key of a measured plan: feasible first, then by objective (smaller is better)."""
    if result is None:
        return (2, math.inf)
    obj = result.objective if problem.sense == "min" else -result.objective
    return (0 if result.feasible else 1, obj, len(result.exit_counts))


class Plan:
    """A plan as arrays, with its measured value (for local search)."""

    __slots__ = ("place", "kept", "tau", "result")

    def __init__(self, problem, place, kept, tau):
        self.place = np.asarray(place, dtype=np.int64)
        self.kept = np.asarray(kept, dtype=bool)
        self.tau = np.asarray(tau, dtype=float)
        self.result = problem.measure(problem.assignment(self.place, self.kept, self.tau))

    def key(self, problem) -> tuple:
        return rank(problem, self.result)

    def assignment(self, problem) -> dict:
        return problem.assignment(self.place, self.kept, self.tau)


def plan_of(problem, kept, tau, *, place=None) -> Plan:
    """A :class:`Plan` for given exits and thresholds, with the best placement
    unless ``place`` is given."""
    kept = np.asarray(kept, dtype=bool).copy()
    kept[-1] = True
    tau = np.where(kept, tau, np.inf)
    tau[-1] = -np.inf
    if place is None:
        stop = problem.stop_exits(kept, tau)
        place, _ = best_placement(problem, kept, reach_counts(problem, stop))
    return Plan(problem, place, kept, tau)


def score(problem, total_ms, n_correct, n_kept=None):
    """Vectorized ranking of candidate plans: ``(violation, objective)``.

    ``violation`` is 0 for a feasible plan, else the relative shortfall in
    accuracy plus the relative excess of latency (plus 1 per exit over
    ``max_exits``); ``objective`` is the mean latency (min) or minus the
    accuracy. Smaller is better in both; compare lexicographically.
    """
    N = problem.n_samples
    total_ms = np.asarray(total_ms, dtype=float)
    n_correct = np.asarray(n_correct, dtype=float)
    mean = total_ms / N
    viol = np.maximum(0.0, problem.min_correct() - n_correct) / N
    lmax = problem.constraints.get("latency_max_ms")
    if lmax is not None:
        ok = mean <= lmax + LATENCY_RTOL * max(1.0, lmax)
        viol = viol + np.where(ok, 0.0, (mean - lmax) / max(lmax, 1e-9))
    m = problem.constraints.get("max_exits")
    if m is not None and n_kept is not None:
        viol = viol + np.maximum(0, np.asarray(n_kept) - m)
    obj = mean if problem.sense == "min" else -n_correct / N
    return viol, obj


def argbest(viol, obj) -> int:
    """Index of the lexicographically smallest ``(viol, obj)``."""
    return int(np.lexsort((np.asarray(obj), np.asarray(viol)))[0])


def evaluation_details(problem, assignment) -> dict:
    """``details`` for a Solution: mean latency (ms), accuracy, samples per exit."""
    if assignment is None:
        return {}
    res = problem.measure(assignment)
    return {"mean_latency_ms": res.mean_latency_ms, "accuracy": res.accuracy, "exit_counts": res.exit_counts}
