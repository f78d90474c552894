"""Shared pieces of the pipeline methods: fast makespans, insertion, results.

Times here are plain Python lists ``P[j] = [ms on stage 0, ..., m-1]`` for
the chosen configuration of task ``j`` (fast for the O(n^2 m) loops). Final
objectives always come from ``problem.evaluate`` (the registry calls it).
"""

from __future__ import annotations

import math

from formulations.pipeline import rate_from_load

from ...registry import MethodResult
from ...solution import Status

__all__ = [
    "chosen_times",
    "makespan",
    "heads",
    "best_insertion",
    "finish",
    "stage_loads",
    "TOL",
]

#: Relative tolerance when comparing objective values with bounds.
TOL = 1e-9


def chosen_times(problem, config) -> list[list[float]]:
    """``P[j]``: stage times (ms) of task ``j`` in configuration ``config[j]``."""
    return [problem.times[j][int(config[j])].tolist() for j in range(problem.n)]


def stage_loads(P) -> list[float]:
    """Total time per stage, ``L_k = sum_j P[j][k]``."""
    return [math.fsum(col) for col in zip(*P)] if P else []


def heads(seq, P, release, m: int) -> list[list[float]]:
    """``out[t]``: completion time on each stage of the ``t``-th task of ``seq``
    (``out[0]`` is all zeros, before any task). O(len(seq) m)."""
    out = [[0.0] * m]
    done = out[0]
    for j in seq:
        t = release[j]
        row = P[j]
        done = done[:]
        for k in range(m):
            t = (t if t > done[k] else done[k]) + row[k]
            done[k] = t
        out.append(done)
    return out


def makespan(order, P, release) -> float:
    """Makespan (ms) of the semi-active permutation schedule. O(n m)."""
    if not order:
        return 0.0
    return heads(order, P, release, len(P[order[0]]))[-1][-1]


def best_insertion(seq, x, P, release) -> tuple[int, float]:
    """Best position to insert task ``x`` into ``seq`` and the resulting makespan.

    Taillard's acceleration extended to release times: heads ``e`` (with
    releases), tails ``q``, and the longest path entering after the insertion
    point, ``R[t] = max_{i >= t} release[seq[i]] + q[i][0]``. Then inserting at
    ``t`` gives ``max(max_k f[k] + q[t][k], R[t])`` with
    ``f[k] = max(f[k-1], e[t-1][k]) + P[x][k]``, ``f[-1] = release[x]``.
    Ties go to the earliest position. O(|seq| m).
    """
    m = len(P[x])
    L = len(seq)
    before = heads(seq, P, release, m)  # before[t] = e[t-1]
    tails = [[0.0] * m for _ in range(L + 1)]
    for i in range(L - 1, -1, -1):
        row = P[seq[i]]
        below = tails[i + 1]
        cur = tails[i]
        right = 0.0
        for k in range(m - 1, -1, -1):
            right = (right if right > below[k] else below[k]) + row[k]
            cur[k] = right
    rsuf = [-math.inf] * (L + 1)
    for i in range(L - 1, -1, -1):
        v = release[seq[i]] + tails[i][0]
        rsuf[i] = v if v > rsuf[i + 1] else rsuf[i + 1]
    px = P[x]
    rx = release[x]
    best_t, best_v = 0, math.inf
    for t in range(L + 1):
        e = before[t]
        q = tails[t]
        f = rx
        value = rsuf[t]
        for k in range(m):
            f = (f if f > e[k] else e[k]) + px[k]
            v = f + q[k]
            if v > value:
                value = v
        if value < best_v:
            best_t, best_v = t, value
    return best_t, best_v


def finish(problem, order, config, *, bound=None, message="", details=None) -> MethodResult:
    """Package a heuristic's schedule: check feasibility, claim optimality only
    when the value meets the proven ``bound``.

    A schedule that violates a constraint (a heuristic may miss a deadline)
    is not returned: the status is ``unknown`` with no assignment and a
    message saying so (the heuristic proves nothing about infeasibility).
    """
    details = dict(details or {})
    assignment = problem.assignment(order, config)
    problems = problem.violations(assignment)
    if problems:
        return MethodResult(
            Status.UNKNOWN, None, bound=bound, details=details,
            message=(message + "; " if message else "") + "heuristic found no feasible schedule: " + "; ".join(problems),
        )
    P = chosen_times(problem, config)
    if problem.objective == "makespan":
        value = makespan(order, P, problem.release_ms.tolist())
        tight = bound is not None and value <= bound * (1 + TOL) + TOL
    else:
        value = rate_from_load(problem.n, max(stage_loads(P)))
        tight = bound is not None and value >= bound * (1 - TOL) - TOL
    status = Status.OPTIMAL if tight else Status.FEASIBLE
    if tight:
        message = (message + "; " if message else "") + "meets the lower bound: optimal"
    return MethodResult(status, assignment, bound=bound, message=message, details=details)
