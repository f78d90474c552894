"""Compiled (numba) iterated greedy for the permutation flow shop, used when numba is installed.

The same algorithm as :func:`.greedy.iterated_greedy_seq` with the first-improvement
local search of Ruiz and Stuetzle (2007) (each task, in random order,
reinserted at its best position; repeated while the makespan improves),
written as plain loops with Taillard's acceleration (heads, tails, and
the release suffix) and compiled by numba (``pip install numba``, the
``fast`` extra). Nothing here is imported unless numba is; :func:`available`
says whether it is. Compiled code is cached on disk (``cache=True``), so only
the first call on a machine pays the compile (a few seconds).

Times: ``P`` float64 ``(N, m)``; releases ``rel`` float64 ``(N,)`` (zeros
when none); sequences int64 arrays.
"""

from __future__ import annotations

import math
import time

import numpy as np

__all__ = ["available", "loaded", "cached", "ig_compiled"]

_KERNELS = None
#: Whether a compiled call has completed in this process (the kernels are loaded, no compile or cache load is left).
_WARM = False


def available() -> bool:
    """Whether numba imports (the compiled kernel can be used)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def loaded() -> bool:
    """Whether the compiled kernels have run in this process (a further call pays no load)."""
    return _WARM


def cached() -> bool:
    """Whether numba's on-disk cache holds compiled kernels of this source, so a first
    call loads them (~0.7 s) instead of compiling (~10 s).

    Reads numba's cache index through its private API; any failure means False.
    """
    try:
        K = _build()
        return all(bool(getattr(K, f)._cache._cache_file._load_index()) for f in ("ig_chunk", "start", "seed_rng"))
    except Exception:  # noqa: BLE001  (a private API: unknown means not cached)
        return False


def _build():
    """Import (compiling or loading from numba's cache) the kernels."""
    global _KERNELS
    if _KERNELS is None:
        from . import _numba_kernels

        _KERNELS = _numba_kernels
    return _KERNELS


#: Wall-clock seconds a compiled chunk of iterations aims at (checks of the deadline between chunks).
CHUNK_S = 0.02


def ig_compiled(P: np.ndarray, rel: np.ndarray | None, start, *, iterations: int | None, seed: int,
                deadline: float | None, d: int, temperature: float):
    """Iterated greedy (Ruiz-Stuetzle, first-improvement local search) compiled by numba.

    Runs in chunks of iterations sized to about :data:`CHUNK_S` seconds and
    checks ``deadline`` (absolute :func:`time.perf_counter`) between chunks.
    Returns ``(best sequence, its makespan, iterations run)``. Deterministic
    for a given ``seed`` and ``iterations`` (chunking does not change the
    random stream).
    """
    K = _build()
    P = np.array(P, dtype=np.float64, order="C")  # fresh, writable copies: one compiled signature
    n, m = P.shape
    rel = np.zeros(n) if rel is None else np.array(rel, dtype=np.float64, order="C")
    cur = np.array(start, dtype=np.int64)
    K.seed_rng(int(seed) % (2**32))
    v = K.start(P, rel, cur)
    best = cur.copy()
    values = np.array([v, v])
    T = temperature * float(P[cur].sum()) / (10.0 * n * m) if n * m else 0.0
    d = min(d, n - 1)
    done, chunk = 0, 1
    while d > 0 and (iterations is None or done < iterations):
        if deadline is not None and time.perf_counter() > deadline:
            break
        step = chunk if iterations is None else min(chunk, iterations - done)
        t0 = time.perf_counter()
        K.ig_chunk(P, rel, cur, best, values, step, d, T)
        done += step
        took = time.perf_counter() - t0
        if took < CHUNK_S / 2:
            chunk *= 2
        elif took > 2 * CHUNK_S and chunk > 1:
            chunk //= 2
        if deadline is not None:
            left = deadline - time.perf_counter()
            per = took / step
            if per > 0 and left > 0:
                chunk = max(1, min(chunk, int(left / per)))
    global _WARM
    _WARM = True
    return best, float(values[1]), done
