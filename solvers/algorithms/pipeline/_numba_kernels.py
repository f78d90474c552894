"""The numba kernels of :mod:`.compiled` (imported only when numba is installed).

Module-level functions so that numba's on-disk cache (``cache=True``) holds
them: only the first run on a machine compiles.
"""

import math

import numpy as np

try:
    from numba import njit
except ImportError:  # importable without numba (doc tools walk every module); compiled.available() is False then
    def njit(**_options):  # type: ignore[no-redef]  # the stand-in decorator when numba is absent
        return lambda function: function

@njit(cache=True)
def seed_rng(s):
    np.random.seed(s)

@njit(cache=True)
def span(P, rel, seq, L, e):
    """Heads ``e[i + 1]`` of the first ``L`` tasks of ``seq`` (``e[0] = 0``); returns the makespan."""
    m = P.shape[1]
    for k in range(m):
        e[0, k] = 0.0
    for i in range(L):
        j = seq[i]
        t = rel[j]
        for k in range(m):
            a = e[i, k]
            if a > t:
                t = a
            t += P[j, k]
            e[i + 1, k] = t
    return e[L, m - 1]

@njit(cache=True)
def best_insert(P, rel, seq, L, x, e, q, rs):
    m = P.shape[1]
    span(P, rel, seq, L, e)  # heads e[i + 1] of the i-th task
    for k in range(m):
        q[L, k] = 0.0
    rs[L] = -np.inf
    for i in range(L - 1, -1, -1):
        j = seq[i]
        t = 0.0
        for k in range(m - 1, -1, -1):
            a = q[i + 1, k]
            if a > t:
                t = a
            t += P[j, k]
            q[i, k] = t
        v = rel[j] + q[i, 0]
        rs[i] = v if v > rs[i + 1] else rs[i + 1]
    best = np.inf
    best_sum = np.inf
    pos = 0
    for t in range(L + 1):
        f = rel[x]
        val = rs[t]
        s = 0.0
        for k in range(m):
            a = e[t, k]
            if a > f:
                f = a
            f += P[x, k]
            v = f + q[t, k]
            if v > val:
                val = v
            s += v
        tol = 1e-9 * max(1.0, abs(best)) if best < np.inf else 0.0
        if val < best - tol or (val <= best + tol and s < best_sum):
            best, best_sum, pos = val, s, t
    return pos, best

@njit(cache=True)
def insert_at(seq, L, pos, x):
    for i in range(L, pos, -1):
        seq[i] = seq[i - 1]
    seq[pos] = x

@njit(cache=True)
def remove_at(seq, L, pos):
    x = seq[pos]
    for i in range(pos, L - 1):
        seq[i] = seq[i + 1]
    return x

@njit(cache=True)
def local_search(P, rel, seq, L, value, e, q, rs):
    improved = True
    while improved:
        improved = False
        jobs = np.random.permutation(seq[:L].copy())
        for x in jobs:
            p0 = 0
            while seq[p0] != x:
                p0 += 1
            remove_at(seq, L, p0)
            pos, v = best_insert(P, rel, seq, L - 1, x, e, q, rs)
            if v < value - 1e-9 * max(1.0, abs(value)):
                insert_at(seq, L - 1, pos, x)
                value = v
                improved = True
            else:
                insert_at(seq, L - 1, p0, x)
    return value

@njit(cache=True)
def ig_chunk(P, rel, cur, best, values, iters, d, T):
    n = cur.shape[0]
    m = P.shape[1]
    e = np.empty((n + 1, m))
    q = np.empty((n + 1, m))
    rs = np.empty(n + 1)
    seq = np.empty(n, dtype=np.int64)
    removed = np.empty(d, dtype=np.int64)
    cur_v, best_v = values[0], values[1]
    for _ in range(iters):
        seq[:] = cur
        L = n
        for i in range(d):
            removed[i] = remove_at(seq, L, np.random.randint(0, L))
            L -= 1
        v = 0.0
        for i in range(d):
            pos, v = best_insert(P, rel, seq, L, removed[i], e, q, rs)
            insert_at(seq, L, pos, removed[i])
            L += 1
        v = local_search(P, rel, seq, n, v, e, q, rs)
        if v < cur_v:
            cur[:] = seq
            cur_v = v
            if v < best_v:
                best[:] = seq
                best_v = v
        elif T > 0 and np.random.random() <= math.exp(-(v - cur_v) / T):
            cur[:] = seq
            cur_v = v
    values[0], values[1] = cur_v, best_v

@njit(cache=True)
def start(P, rel, seq):
    """Local search of ``seq`` in place; returns its makespan."""
    n = seq.shape[0]
    m = P.shape[1]
    e = np.empty((n + 1, m))
    q = np.empty((n + 1, m))
    rs = np.empty(n + 1)
    return local_search(P, rel, seq, n, span(P, rel, seq, n, e), e, q, rs)
