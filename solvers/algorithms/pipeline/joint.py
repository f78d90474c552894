"""Joint search of task order and configurations (makespan, accuracy floor kept).

An iterated greedy whose moves change configurations as well as positions:

- **reinsertion with reconfiguration**: remove a task and put it back at any
  position in any of its configurations (every ``(task, configuration,
  position)`` triple evaluated in one batch by :func:`~.kernel.neighbourhood`);
- **accuracy trade**: change two tasks' configurations at once (one faster and
  less accurate, one slower and more accurate) in place, so the floor stays
  met while time moves off the critical stages;
- **destruction and construction**: ``d`` random tasks removed and reinserted
  greedily at their best (configuration, position), keeping enough accuracy
  in reserve for the tasks still to insert.

Every accepted state meets the accuracy floor (moves that would break it are
not taken: a repair by construction, no penalty weight to tune). Deadlines
are not modelled here: :func:`joint_search` is used only without one.
"""

from __future__ import annotations

import math
import time

import numpy as np

from formulations.pipeline import ACCURACY_TOL

from .greedy import Flow, TEMPERATURE, passed
from .kernel import insertion_values, makespans, neighbourhood, pick_position

__all__ = ["Joint", "joint_search", "JOINT_DESTRUCTION", "TRADE_CANDIDATES"]

#: Tasks removed per iteration of the joint search.
JOINT_DESTRUCTION = 3
#: Accuracy-losing single changes paired with every compensating change in the trade move.
TRADE_CANDIDATES = 12


class Joint:
    """The data of a joint search: every configuration's times and accuracy.

    Attributes
    ----------
    A : ndarray, shape (m, n, C)
        Times of configuration ``c`` of task ``j`` (a huge finite time where
        task ``j`` has fewer configurations or ``c`` misses the deadline
        filter; such entries also have accuracy ``-inf``, so no move picks them).
    acc : ndarray, shape (n, C)
        Accuracies (``-inf`` where absent; 0 when the instance has none).
    target : float
        Least allowed sum of accuracies (``-inf`` without a floor).
    """

    def __init__(self, problem):
        n, m = problem.n, problem.m
        C = max(problem.n_configs)
        top = max(float(t.max(initial=0.0)) for t in problem.times)
        big = 1e6 * (1.0 + top) * (n + m)  # finite stand-in (inf - inf would give NaN in the kernel)
        self.A = np.full((m, n, C), big)
        self.acc = np.full((n, C), -np.inf)
        for j in range(n):
            ok = problem.admissible(j)
            k = len(ok)
            self.A[:, j, :k] = np.where(ok[None, :], problem.times[j].T, big)
            self.acc[j, :k] = np.where(ok, np.nan_to_num(problem.accuracy[j]), -np.inf)
        self.target = -np.inf if problem.accuracy_min is None else n * (problem.accuracy_min - ACCURACY_TOL)
        self.rel = problem.release_ms.astype(float)
        self.n, self.m, self.C = n, m, C

    def flow(self, cfg) -> Flow:
        """The fixed-configuration view of choice ``cfg``."""
        return Flow(self.A[:, np.arange(self.n), cfg], self.rel)

    def total_acc(self, cfg) -> float:
        return float(self.acc[np.arange(self.n), cfg].sum())


def _reinsertion(J: Joint, seq, cfg, value):
    """Best reinsertion-with-reconfiguration move: ``(value, x, c, t)`` or None."""
    flow = J.flow(cfg)
    V = neighbourhood(flow.TT, flow.rel, seq, alt=J.A[:, seq, :])  # (L, C, L)
    tasks = seq
    slack = J.total_acc(cfg) - J.acc[tasks, cfg[tasks]] - J.target  # (L,)
    with np.errstate(invalid="ignore"):  # -inf (absent) + inf (no floor) is NaN: not ok, as wanted
        ok = J.acc[tasks, :] + slack[:, None] >= 0  # (L, C)
    V = np.where(ok[:, :, None], V, np.inf)
    flat = int(np.argmin(V))
    best = float(V.flat[flat])
    if not best < value - flow.tolerance(value):
        return None
    x, rest = divmod(flat, V.shape[1] * V.shape[2])
    c, t = divmod(rest, V.shape[2])
    return best, x, c, t


def _trade(J: Joint, seq, cfg, value):
    """Best accuracy-trade move at fixed order: ``(value, x, c, y, c2)`` (positions) or None."""
    L = len(seq)
    flow = J.flow(cfg)
    X = flow.TT[:, seq]  # (m, L)
    r = None if flow.rel is None else flow.rel[seq]
    cur_acc = J.acc[seq, cfg[seq]]
    spare = J.total_acc(cfg) - J.target
    # single changes (position, configuration) at fixed order, ranked by their makespan
    Xs = np.repeat(X[:, None, None, :], J.C, axis=2).repeat(L, axis=1)  # (m, L, C, L)
    idx = np.arange(L)
    Xs[:, idx, :, idx] = J.A[:, seq, :].transpose(1, 0, 2)  # indexed view has shape (L, m, C)
    single = makespans(Xs.reshape(J.m, L * J.C, L), r).reshape(L, J.C)
    dacc = J.acc[seq, :] - cur_acc[:, None]
    with np.errstate(invalid="ignore"):  # -inf (absent) + inf (no floor) is NaN: not lossy, as wanted
        lossy = np.flatnonzero(((dacc + spare) < 0).ravel() & (single.ravel() < value))
    if len(lossy) == 0:
        return None
    lossy = lossy[np.argsort(single.ravel()[lossy], kind="stable")[:TRADE_CANDIDATES]]
    xs, cs = np.divmod(lossy, J.C)
    # pair each with every compensating change (y, c2) that restores the floor
    K = len(lossy)
    Xp = np.repeat(Xs[:, xs, cs, :][:, :, None, None, :], L, axis=2).repeat(J.C, axis=3)  # (m, K, L, C, L)
    Xp[:, :, idx, :, idx] = J.A[:, seq, :].transpose(1, 0, 2)[:, :, None, :]  # view shape (L, m, K, C)
    vals = makespans(Xp.reshape(J.m, K * L * J.C, L), r).reshape(K, L, J.C)
    need = -(dacc[xs, cs] + spare)  # accuracy the second change must add
    ok = (dacc[None, :, :] >= need[:, None, None]) & (idx[None, :, None] != xs[:, None, None])
    vals = np.where(ok, vals, np.inf)
    flat = int(np.argmin(vals))
    best = float(vals.flat[flat])
    if not best < value - flow.tolerance(value):
        return None
    k, rest = divmod(flat, L * J.C)
    y, c2 = divmod(rest, J.C)
    return best, int(xs[k]), int(cs[k]), int(y), int(c2)


def _local_search(J: Joint, seq, cfg, value, deadline):
    """Apply the best improving reinsertion (with reconfiguration), else the best
    improving accuracy trade, until neither improves. O(n^2 C m) per step.

    With ``deadline``, a step starts only if the previous step's duration still
    fits before it (on large instances one step takes a noticeable time)."""
    step = 0.0
    while len(seq) >= 1 and not passed(None if deadline is None else deadline - step):  # one task: still its best configuration
        began = time.perf_counter()
        move = _reinsertion(J, seq, cfg, value)
        if move is not None:
            value, x, c, t = move
            task = seq[x]
            cfg[task] = c
            seq = np.insert(np.delete(seq, x), t, task)
        else:
            trade = _trade(J, seq, cfg, value)
            if trade is None:
                break
            value, x, c, y, c2 = trade
            cfg[seq[x]], cfg[seq[y]] = c, c2
        step = time.perf_counter() - began
    return seq, cfg, value


def _rebuild(J: Joint, part, cfg, removed, rng):
    """Reinsert ``removed`` one by one at the best (configuration, position), keeping
    accuracy in reserve for the tasks still to insert."""
    best_acc = J.acc.max(axis=1)
    placed = float(J.acc[part, cfg[part]].sum())
    waiting = float(best_acc[removed].sum())
    value = 0.0
    for x in removed:
        waiting -= best_acc[x]
        ok = J.acc[x] + placed + waiting >= J.target
        flow = J.flow(cfg)
        r = None if flow.rel is None else flow.rel[part]
        vals, spread = insertion_values(flow.TT[:, part], r, J.A[:, x, :], J.rel[x], with_sum=True)  # (C, L+1)
        vals = np.where(ok[:, None], vals, np.inf)
        flat = pick_position(vals.ravel(), spread.ravel(), rng)
        c, t = divmod(flat, vals.shape[1])
        cfg[x] = c
        placed += J.acc[x, c]
        part = np.insert(part, t, x)
        value = float(vals[c, t])
    return part, cfg, value


def joint_search(problem, starts, *, iterations: int | None, seed: int, deadline=None,
                 d: int = JOINT_DESTRUCTION, temperature: float = TEMPERATURE, with_start: bool = False):
    """Iterated greedy over order and configurations from the best of ``starts``.

    Parameters
    ----------
    starts : list of (order, config)
        Feasible starting plans (task indices); the search starts from the
        one with the least makespan after local search.
    iterations, seed, deadline, d, temperature
        As in :func:`~.greedy.iterated_greedy_seq` (acceptance ``exp(-delta / T)``).

    with_start : bool
        Also return the index of the start the search continued from.

    Returns
    -------
    (order, config, makespan, iterations run[, start index])
        The best plan seen: it meets the accuracy floor, and it is never
        worse than the best start.

    Notes
    -----
    O(n^2 C m) per local-search step (one batch) plus O(K n C n m) for the
    trade move (``K`` = :data:`TRADE_CANDIDATES`).
    """
    J = Joint(problem)
    rng = np.random.default_rng(seed)
    best, picked = None, 0
    for i, (order, config) in enumerate(starts):
        seq = np.asarray(order, dtype=np.int64)
        cfg = np.asarray(config, dtype=np.int64).copy()
        seq, cfg, v = _local_search(J, seq, cfg, J.flow(cfg).value(seq), deadline)
        if best is None or v < best[2]:
            best, picked = (seq, cfg, v), i
    if best is None:
        raise ValueError("the joint search needs at least one start")
    cur = (best[0].copy(), best[1].copy(), best[2])
    n = J.n
    T = temperature * float(np.take_along_axis(J.A.sum(axis=0), cur[1][:, None], 1).sum()) / (10.0 * n * J.m)
    d = min(d, n - 1)
    done = 0
    while d > 0 and (iterations is None or done < iterations) and not passed(deadline):
        done += 1
        seq, cfg = cur[0], cur[1].copy()
        pos = rng.choice(n, size=d, replace=False)
        part, cfg, v = _rebuild(J, np.delete(seq, pos), cfg, seq[pos], rng)
        part, cfg, v = _local_search(J, part, cfg, v, deadline)
        if v <= cur[2] or (T > 0 and rng.random() <= math.exp(-(v - cur[2]) / T)):
            cur = (part, cfg, v)
            if v < best[2] - 1e-12 * max(1.0, abs(v)):
                best = (part.copy(), cfg.copy(), v)
    out = (best[0].tolist(), best[1].tolist(), best[2], done)
    return out + (picked,) if with_start else out
