"""LEIME's rate model: per-exit exit rates, assumed independent of earlier exits."""

from __future__ import annotations

import itertools

import numpy as np

from ._common import placements

__all__ = ["rate_model_latency", "rate_model_dp", "rate_model_enumerate"]


def _reach(kept: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """(E,) fraction of samples reaching each exit: product of (1 - rate) over kept exits before."""
    stay = np.where(kept[:-1], 1.0 - rates, 1.0)
    return np.concatenate(([1.0], np.cumprod(stay)))


def rate_model_latency(problem, rates, placement, kept) -> float:
    """Expected latency (ms) of a plan under the rate model.

    A sample reaching kept early exit ``e`` stops there with probability
    ``rates[e]``, independently of the exits before; so the fraction reaching
    exit ``e`` is the product of ``1 - rates[f]`` over kept ``f < e``. O(K k + E).
    """
    rates = np.asarray(rates, dtype=float)
    kept = np.asarray(kept, dtype=bool)
    reach = _reach(kept, rates)
    stop = reach * np.where(kept, np.r_[rates, 1.0], 0.0)
    stop[-1] = reach[-1]
    return float(stop @ problem.exit_latency_ms(np.asarray(placement), kept))


def rate_model_dp(problem, rates, *, max_exits: int | None = None):
    """Placement and kept exits minimizing expected latency under the rate model.

    Backward DP over (block, node[, kept count]): the cost still to come is
    proportional to the fraction of samples still running, so per unit of
    that fraction ``V(i, n) = min_{n' >= n} [cross + ms(i+1, n') + W]`` where
    at an exit ``W = min(V(i+1, n'), head(n') + (1 - r) V(i+1, n'))`` (drop or
    keep) and at the final exit ``W = head(n')``.

    Exact for the rate model (LEIME's exit setting with given per-exit exit
    rates, latency objective, optional ``max_exits``); on sample data whose
    exits are not independent it is a heuristic. O(K k^2 M) time.

    Returns
    -------
    placement : (K,) int
    kept : (E,) bool
    expected_ms : float
    """
    rates = np.asarray(rates, dtype=float)
    K, k, E = problem.n_blocks, problem.n_nodes, problem.n_exits
    M1 = (E - 1 if max_exits is None else min(max_exits, E - 1)) + 1
    eb = problem.exit_block
    exit_at = {int(eb[e]): e for e in range(E)}
    bms, ems = problem.block_ms, problem.exit_ms
    cum = np.concatenate([np.zeros((K, 1)), np.cumsum(problem.cross_ms, axis=1)], axis=1)
    # V[n, m]: per-unit cost to go after block i on node n with m exits still allowed
    V = np.zeros((k, M1))
    choice_node = np.zeros((K, k, M1), dtype=np.int64)
    choice_keep = np.zeros((K, k, M1), dtype=bool)
    for i in range(K - 1, -1, -1):
        e = exit_at.get(i)
        W = np.full((k, M1), np.inf)  # cost from "block i placed on n'" onward
        keep = np.zeros((k, M1), dtype=bool)
        for n2 in range(k):
            if e == E - 1:
                W[n2] = ems[e, n2]
            elif e is None:
                W[n2] = V[n2]
            else:
                W[n2] = V[n2]
                kept_val = ems[e, n2] + (1 - rates[e]) * V[n2, :-1]  # uses one allowance
                better = kept_val < W[n2, 1:]
                W[n2, 1:] = np.where(better, kept_val, W[n2, 1:])
                keep[n2, 1:] = better
        newV = np.full((k, M1), np.inf)
        for n in range(k):
            for n2 in range(n, k):
                cand = cum[i, n2] - cum[i, n] + bms[i, n2] + W[n2]
                better = cand < newV[n]
                newV[n] = np.where(better, cand, newV[n])
                choice_node[i, n] = np.where(better, n2, choice_node[i, n])
        choice_keep[i] = keep
        V = newV
    n, m = 0, M1 - 1
    place = np.zeros(K, dtype=np.int64)
    kept = np.zeros(E, dtype=bool)
    kept[-1] = True
    for i in range(K):
        n2 = int(choice_node[i, n, m])
        place[i] = n2
        if choice_keep[i, n2, m]:
            kept[exit_at[i]] = True
            m -= 1
        n = n2
    return place, kept, float(V[0, M1 - 1])


def rate_model_enumerate(problem, rates, *, max_exits: int | None = None):
    """Every kept set x every placement under the rate model (the test oracle)."""
    E = problem.n_exits
    limit = E - 1 if max_exits is None else max_exits
    best = None
    for r in range(min(limit, E - 1) + 1):
        for subset in itertools.combinations(range(E - 1), r):
            kept = np.zeros(E, dtype=bool)
            kept[list(subset)] = True
            kept[-1] = True
            for p in placements(problem):
                v = rate_model_latency(problem, rates, p, kept)
                if best is None or v < best[2]:
                    best = (np.array(p), kept, v)
    return best
