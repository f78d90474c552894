"""NEH and iterated greedy on the vectorized kernel (fixed configurations).

Tasks carry their current stage times in ``TT`` (shape ``(m, N)``, column
``j`` = task ``j``) and releases in ``rel`` (None when all are 0). A
sequence is an int array of task indices. Every function here works on
those arrays; :mod:`.neh` turns problems into them and results back.

References: M. Nawaz, E. Enscore, I. Ham (1983) for NEH; E. Taillard (1990)
for the insertion acceleration; R. Ruiz and T. Stuetzle, "A simple and
effective iterated greedy algorithm for the permutation flowshop scheduling
problem", EJOR 177 (2007) for IG (``d = 4``, ``T = 0.4``); V.
Fernandez-Viagas and J. Framinan (2014) for breaking insertion ties by idle
time (here: the least ``sum_k f[t][k] + q[t][k]``).
"""

from __future__ import annotations

import math
import time

import numpy as np

from .kernel import insertion_values, makespans, neighbourhood, pick_position

__all__ = ["Flow", "insert_best", "neh_sequence", "local_search", "iterated_greedy_seq", "passed", "TEMPERATURE", "DESTRUCTION"]

#: Ruiz and Stuetzle's parameters: tasks removed per iteration and temperature factor.
DESTRUCTION = 4
TEMPERATURE = 0.4


def passed(deadline) -> bool:
    """Whether the absolute :func:`time.perf_counter` ``deadline`` (None: never) has passed."""
    return deadline is not None and time.perf_counter() > deadline


class Flow:
    """Times ``TT`` (m, N) and releases of the tasks being sequenced."""

    def __init__(self, TT: np.ndarray, rel: np.ndarray | None):
        self.TT = np.ascontiguousarray(TT, dtype=float)
        self.rel = None if rel is None or not np.any(rel) else np.asarray(rel, dtype=float)

    def value(self, seq) -> float:
        """Makespan of ``seq`` (ms). O(n m)."""
        seq = np.asarray(seq, dtype=np.int64)
        return float(makespans(self.TT[:, seq], None if self.rel is None else self.rel[seq]))

    def tolerance(self, value: float) -> float:
        """Smallest gain counted as an improvement (relative 1e-12)."""
        return 1e-12 * max(1.0, abs(value))


def insert_best(flow: Flow, seq: np.ndarray, x: int, rng=None) -> tuple[np.ndarray, float]:
    """Insert task ``x`` at its best position in ``seq`` (ties by idle time, then the first
    or a random one with ``rng``). O(|seq| m)."""
    r = None if flow.rel is None else flow.rel[seq]
    rx = 0.0 if flow.rel is None else flow.rel[x]
    values, spread = insertion_values(flow.TT[:, seq], r, flow.TT[:, x][:, None], rx, with_sum=True)
    t = pick_position(values[0], spread[0], rng)
    return np.insert(seq, t, x), float(values[0, t])


def neh_sequence(flow: Flow, tasks, deadline=None) -> np.ndarray:
    """NEH: insert ``tasks`` by decreasing total time (ties by index) at their best
    positions; also tries release order and returns the better. O(n^2 m).

    When ``deadline`` passes, the tasks not yet inserted are appended in release order.
    """
    tasks = np.asarray(tasks, dtype=np.int64)
    total = flow.TT[:, tasks].sum(axis=0)
    first = tasks[np.lexsort((tasks, -total))]
    rel = np.zeros(flow.TT.shape[1]) if flow.rel is None else flow.rel
    ers = tasks[np.lexsort((tasks, -total, rel[tasks]))]
    seq = np.zeros(0, dtype=np.int64)
    for i, x in enumerate(first):
        if passed(deadline):
            placed = set(seq.tolist())
            seq = np.concatenate([seq, [j for j in ers if j not in placed]]).astype(np.int64)
            break
        seq, _ = insert_best(flow, seq, int(x))
    if flow.rel is not None and flow.value(ers) < flow.value(seq):
        return ers
    return seq


def local_search(flow: Flow, seq: np.ndarray, value: float, deadline=None, max_moves: int | None = None):
    """Best-improvement insertion local search: evaluate every (task, new position)
    move at once (:func:`~.kernel.neighbourhood`), apply the best strictly
    improving one, repeat until none improves (or ``deadline``, or ``max_moves``).

    Returns ``(seq, value)``. O(n^2 m) per move, in O(m) numpy passes.
    """
    moves = 0
    while len(seq) > 1 and not passed(deadline) and (max_moves is None or moves < max_moves):
        V = neighbourhood(flow.TT, flow.rel, seq)[:, 0, :]
        flat = int(np.argmin(V))
        best = float(V.flat[flat])
        if best >= value - flow.tolerance(value):
            break
        x, t = divmod(flat, V.shape[1])
        job = seq[x]
        seq = np.insert(np.delete(seq, x), t, job)
        value = best
        moves += 1
    return seq, value


def iterated_greedy_seq(flow: Flow, start, *, iterations: int | None, seed: int, deadline=None,
                        d: int = DESTRUCTION, temperature: float = TEMPERATURE):
    """Iterated greedy (Ruiz and Stuetzle 2007) with best-improvement insertion local search.

    Each iteration removes ``d`` random tasks, reinserts each at its best
    position (ties by idle time), runs :func:`local_search`, and accepts the
    result if not worse, or with probability ``exp(-delta / T)``, ``T =
    temperature * sum p / (10 n m)``. Stops after ``iterations`` or when
    ``deadline`` passes. Returns ``(best sequence, its makespan, iterations run)``;
    the best is never worse than ``start``.
    """
    rng = np.random.default_rng(seed)
    seq = np.asarray(start, dtype=np.int64)
    n, m = len(seq), flow.TT.shape[0]
    cur, cur_v = local_search(flow, seq, flow.value(seq), deadline)
    best, best_v = cur.copy(), cur_v
    T = temperature * float(flow.TT[:, seq].sum()) / (10.0 * n * m) if n * m else 0.0
    d = min(d, n - 1)
    done = 0
    while d > 0 and (iterations is None or done < iterations) and not passed(deadline):
        done += 1
        pos = rng.choice(n, size=d, replace=False)
        removed = cur[pos]
        part = np.delete(cur, pos)
        for x in removed:
            part, v = insert_best(flow, part, int(x))
        part, v = local_search(flow, part, v, deadline)
        if v <= cur_v:
            cur, cur_v = part, v
            if v < best_v:
                best, best_v = part.copy(), v
        elif T > 0 and rng.random() <= math.exp(-(v - cur_v) / T):
            cur, cur_v = part, v
    return best, best_v, done
