"""A Lagrangian bound for exit placement (the heuristics' ``bound``)."""

from __future__ import annotations

import numpy as np

from formulations.exits import LATENCY_RTOL

from ._common import n_placements, placements

__all__ = ["lagrangian_bound", "MAX_ENUMERATED_PLACEMENTS"]

#: Above this many placements, each sample may also choose its own placement.
MAX_ENUMERATED_PLACEMENTS = 2000
#: Relative widening of the bound for the float rounding of its sums (a bound is a promise).
FLOAT_WIDENING = 1e-12


def _low_latency(problem) -> np.ndarray:
    """(P, E): latency of a sample stopping at exit ``e`` under placement ``p``,
    counting only that exit's own head (other kept heads dropped: a lower bound)."""
    K = problem.n_blocks
    places = np.array(list(placements(problem)), dtype=np.int64)
    cum = np.concatenate([np.zeros((K, 1)), np.cumsum(problem.cross_ms, axis=1)], axis=1)
    prev = np.concatenate([np.zeros((len(places), 1), np.int64), places[:, :-1]], axis=1)
    blocks = np.arange(K)[None, :]
    step = problem.block_ms[blocks, places] + cum[blocks, places] - cum[blocks, prev]
    per_block = np.cumsum(step, axis=1)
    eb = problem.exit_block
    heads = problem.exit_ms[np.arange(problem.n_exits)[None, :], places[:, eb]]
    return per_block[:, eb] + heads


def _cheapest_per_exit(problem) -> np.ndarray:
    """(1, E): min over placements of the one-head latency of each exit (a DP
    over (block, node), O(K k^2 + E k))."""
    K, k = problem.n_blocks, problem.n_nodes
    cum = np.concatenate([np.zeros((K, 1)), np.cumsum(problem.cross_ms, axis=1)], axis=1)
    value = np.full(k, np.inf)
    value[0] = 0.0
    best_at = np.zeros((K, k))
    for i in range(K):
        new = np.array([np.min(value[: n + 1] + cum[i, n] - cum[i, : n + 1]) for n in range(k)]) + problem.block_ms[i]
        best_at[i] = new
        value = new
    eb = problem.exit_block
    return np.min(best_at[eb] + problem.exit_ms, axis=1)[None, :]


def _golden(f, lo, hi, maximize, iters=80):
    """Best value of a unimodal ``f`` seen on [lo, hi] (every value seen is valid)."""
    g = (np.sqrt(5) - 1) / 2
    a, b = lo, hi
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = f(c), f(d)
    best = [f(lo), f(hi), fc, fd]
    for _ in range(iters):
        if (fc > fd) == maximize:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = f(c)
            best.append(fc)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = f(d)
            best.append(fd)
    return max(best) if maximize else min(best)


def lagrangian_bound(problem) -> float:
    """A proven bound on the optimum: lower on mean latency, upper on accuracy.

    Relaxation: each sample may stop at any exit (thresholds and exit sets
    ignored) and pays only that exit's head; ``max_exits`` is dropped. The
    remaining constraint is dualized: the accuracy floor with multiplier
    ``lam`` (latency objective)::

        LB(lam) = lam * c_min / N + min_p (1/N) sum_s min(m0_p, m1_sp - lam)

    or the latency limit with ``mu`` (accuracy objective)::

        UB(mu) = mu * L_max + max_p (1/N) sum_s max(-mu m0_p, 1 - mu m1_sp)

    where ``m0_p`` is the cheapest exit's latency under placement ``p`` and
    ``m1_sp`` the cheapest exit where ``s`` is correct. Every multiplier gives
    a valid bound (weak duality); the best is searched by golden section on
    the concave (convex) dual.

    Notes
    -----
    O(P N E + P N log N) for ``P = C(K + k - 1, k - 1)`` placements, or with
    ``P = 1`` (per-sample placement, weaker) above
    :data:`MAX_ENUMERATED_PLACEMENTS`.
    """
    N = problem.n_samples
    low = _low_latency(problem) if n_placements(problem) <= MAX_ENUMERATED_PLACEMENTS else _cheapest_per_exit(problem)
    corr = problem.correct.astype(bool)
    m0 = low.min(axis=1)                                   # (P,)
    m1 = np.full((low.shape[0], N), np.inf)
    for e in range(problem.n_exits):
        m1 = np.minimum(m1, np.where(corr[None, :, e], low[:, e][:, None], np.inf))
    d = np.sort(m1 - m0[:, None], axis=1)                  # >= 0, inf if never correct
    finite = np.where(np.isfinite(d), d, 0.0)
    prefix = np.concatenate([np.zeros((len(d), 1)), np.cumsum(finite, axis=1)], axis=1)
    if problem.objective == "latency":
        need = problem.min_correct()

        def lb(lam):
            # sum_s min(m0, m1 - lam) = N m0 + sum_{d < lam} (d - lam)
            cnt = np.array([np.searchsorted(row, lam, side="left") for row in d])
            vals = N * m0 + prefix[np.arange(len(d)), cnt] - cnt * lam
            return (lam * need + float(vals.min())) / N

        scale = float(np.max(np.where(np.isfinite(low), low, 0.0), initial=0.0))
        value = lb(0.0) if need == 0 else _golden(lb, 0.0, float(np.max(finite)) + 1.0, maximize=True)
        # every multiplier's value is valid in exact arithmetic; widen it by more than the float
        # rounding of its sums (each term <= scale, relative error <= n * 2**-53 with n <= 10**4)
        return float(value) - FLOAT_WIDENING * max(scale, abs(float(value)))
    lmax = problem.constraints["latency_max_ms"]
    lmax = lmax + LATENCY_RTOL * max(1.0, lmax)

    def ub(mu):
        if mu == 0:
            return float(np.isfinite(d).sum(axis=1).max()) / N
        # sum_s max(-mu m0, 1 - mu m1) = -N mu m0 + sum_{d < 1/mu} (1 - mu d)
        cnt = np.array([np.searchsorted(row, 1.0 / mu, side="left") for row in d])
        vals = -N * mu * m0 + cnt - mu * prefix[np.arange(len(d)), cnt]
        return mu * lmax + float(vals.max()) / N

    top = 1.0 / max(float(m0.min()), 1e-9) * 4 + 1.0
    oracle = float(corr.max(axis=1).mean())
    return min(oracle, float(_golden(ub, 0.0, top, maximize=False)) + FLOAT_WIDENING)
