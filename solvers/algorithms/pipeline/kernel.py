"""Vectorized permutation flow-shop kernel: heads, tails and insertion values (Taillard's acceleration).

Layout: processing times of a sequence are an array ``X`` of shape ``(m,
..., L)`` (stage first, position last, so each stage's block is
contiguous); middle axes batch independent sequences. Releases ``r`` have shape ``(...,
L)``.

The heads (completion times) obey ``e[i][k] = max(e[i-1][k], e[i][k-1]) +
p[i][k]`` with ``e[i][-1] = r[i]``. For one stage this is a prefix maximum::

    e[:, k] = S_k + maximum.accumulate(e[:, k-1] - S_k + p[:, k])

with ``S_k`` the prefix sums of stage ``k`` (the longest path entering stage
``k`` at position ``l`` and staying on it up to ``i``). So a whole sequence
costs ``m`` numpy passes over length-``L`` rows, and a batch of ``B``
sequences ``m`` passes over ``B x L`` arrays. Tails are the heads of the
reversed problem. Insertion of a task at every position then follows
Taillard (1990): ``f[t][k] = max(f[t][k-1], e[t-1][k]) + p_x[k]`` and the
makespan is ``max_k f[t][k] + q[t][k]`` (with releases also ``max_{i >= t}
r_i + q[i][0]``, the paths that start at a later release).

Values are floats; with integer times they are exact. Callers re-evaluate
final schedules with the formulation's own evaluator.
"""

from __future__ import annotations

import numpy as np

__all__ = ["heads", "tails", "makespans", "insertion_values", "removal_matrix", "neighbourhood", "pick_position"]


def heads(X: np.ndarray, r: np.ndarray | None = None) -> np.ndarray:
    """Completion times ``E[k, ..., i]`` of the ``i``-th task on stage ``k``.

    Parameters
    ----------
    X : ndarray, shape (m, ..., L)
    r : ndarray, shape (..., L), optional
        Release times (default 0).

    Notes
    -----
    O(m) numpy passes over the ``(..., L)`` rows; O(m L) work per sequence.
    """
    m = X.shape[0]
    E = np.cumsum(X, axis=-1)
    D = E - X  # exclusive prefix sums
    tmp = np.empty(X.shape[1:])
    prev = np.zeros(X.shape[1:]) if r is None else r
    for k in range(m):
        np.subtract(prev, D[k], out=tmp)
        Sk = D[k] + X[k]
        np.maximum.accumulate(tmp, axis=-1, out=E[k])
        E[k] += Sk
        prev = E[k]
    return E


def tails(X: np.ndarray) -> np.ndarray:
    """Tails ``Q[k, ..., i]``: longest path from the start of operation ``(i, k)`` to the end
    (its own time included). O(m L) per sequence."""
    return heads(np.ascontiguousarray(X[::-1, ..., ::-1]))[::-1, ..., ::-1]


def makespans(X: np.ndarray, r: np.ndarray | None = None) -> np.ndarray:
    """Makespan of each sequence of the batch ``X`` (shape ``(m, ..., L)``), shape ``X.shape[1:-1]``."""
    if X.shape[-1] == 0:
        return np.zeros(X.shape[1:-1])
    return heads(X, r)[-1, ..., -1]


def _release_suffix(Q: np.ndarray, r: np.ndarray) -> np.ndarray:
    """``R[..., t] = max_{i >= t} r[i] + Q[0, ..., i]`` with ``R[..., L] = -inf``, shape (..., L + 1)."""
    v = r + Q[0]
    out = np.full(v.shape[:-1] + (v.shape[-1] + 1,), -np.inf)
    out[..., :-1] = np.maximum.accumulate(v[..., ::-1], axis=-1)[..., ::-1]
    return out


def insertion_values(X: np.ndarray, r: np.ndarray | None, px: np.ndarray, rx, *, with_sum: bool = False):
    """Makespan after inserting a task with times ``px`` (release ``rx``) at each position.

    Parameters
    ----------
    X : ndarray, shape (m, ..., L)
        The sequence(s) without the task.
    r : ndarray, shape (..., L) or None
    px : ndarray, shape (m, ..., C)
        The inserted task's times; ``C`` alternatives (configurations) are
        evaluated at once.
    rx : float or ndarray broadcastable to (..., C)

    Returns
    -------
    values : ndarray, shape (..., C, L + 1)
        ``values[..., c, t]``: makespan with alternative ``c`` at position ``t``.
    spread : ndarray, same shape (only with ``with_sum``)
        ``sum_k f[t][k] + q[t][k]``: the tie-breaker (smaller leaves less
        idle time on the non-critical stages).

    Notes
    -----
    O(m L) per sequence for heads and tails plus O(C m L) for the values.
    """
    m, L = X.shape[0], X.shape[-1]
    lead = X.shape[1:-1]
    E = heads(X, r)
    Q = tails(X)
    Ep = np.zeros((m,) + lead + (1, L + 1))
    Ep[..., 0, 1:] = E
    Qp = np.zeros((m,) + lead + (1, L + 1))
    Qp[..., 0, :-1] = Q
    shape = px.shape[1:] + (L + 1,)
    f = np.empty(shape)
    f[...] = np.asarray(rx, dtype=float)[..., None]
    if r is not None and np.any(r):
        values = np.empty(shape)
        values[...] = _release_suffix(Q, r)[..., None, :]
    else:
        values = np.zeros(shape)
    spread = np.zeros(shape if with_sum else 0)  # the sum over machines, only when asked for
    total = np.empty(shape)
    for k in range(m):
        np.maximum(f, Ep[k], out=f)
        f += px[k][..., None]
        np.add(f, Qp[k], out=total)
        np.maximum(values, total, out=values)
        if with_sum:
            spread += total
    return (values, spread) if with_sum else values


def pick_position(values: np.ndarray, spread: np.ndarray | None = None, rng=None) -> int:
    """Index of the least value; ties (within 1e-9 relative) go to the least
    ``spread`` and then to the first, or to a random one with ``rng``."""
    best = values.min()
    tied = np.flatnonzero(values <= best + 1e-9 * max(1.0, abs(best)))
    if len(tied) > 1 and spread is not None:
        s = spread[tied]
        tied = tied[s <= s.min() + 1e-9 * max(1.0, abs(float(s.min())))]
    if len(tied) > 1 and rng is not None:
        return int(tied[rng.integers(len(tied))])
    return int(tied[0])


_REMOVAL_CACHE: dict[int, np.ndarray] = {}


def removal_matrix(L: int) -> np.ndarray:
    """``idx[x]``: the positions ``0..L-1`` without ``x``, shape ``(L, L - 1)`` (cached)."""
    idx = _REMOVAL_CACHE.get(L)
    if idx is None:
        full = np.tile(np.arange(L), (L, 1))
        idx = full[~np.eye(L, dtype=bool)].reshape(L, L - 1)
        if len(_REMOVAL_CACHE) < 64:
            _REMOVAL_CACHE[L] = idx
    return idx


def neighbourhood(TT: np.ndarray, rel: np.ndarray | None, seq: np.ndarray, alt: np.ndarray | None = None):
    """The whole insertion neighbourhood of ``seq`` in one batch.

    Parameters
    ----------
    TT : ndarray, shape (m, N)
        Current times of every task (column ``j`` = task ``j``).
    rel : ndarray, shape (N,) or None
    seq : ndarray of int, shape (L,)
    alt : ndarray, shape (m, L, C), optional
        Alternative times of the task at each position (its
        configurations); default: its current times only (``C = 1``).

    Returns
    -------
    ndarray, shape (L, C, L)
        ``V[x, c, t]``: makespan after removing the task at position ``x``
        and inserting it (with alternative ``c``) at position ``t`` of the
        remaining sequence.

    Notes
    -----
    O(L^2 m C) work in O(m) numpy passes.
    """
    L = len(seq)
    idx = removal_matrix(L)
    rest = seq[idx]  # (L, L-1)
    X = TT[:, rest]  # (m, L, L-1)
    r = None if rel is None else rel[rest]
    if alt is None:
        alt = TT[:, seq][:, :, None]  # (m, L, 1)
    rx = 0.0 if rel is None else rel[seq][:, None]
    return insertion_values(X, r, alt, rx)
