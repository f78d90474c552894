"""Enumeration of every order and configuration vector: the test oracle."""

from __future__ import annotations

import itertools
import math

import numpy as np

from formulations.deadline import Deadline
from formulations.errors import OptionError
from formulations.pipeline import ACCURACY_TOL, DEADLINE_TOL, rate_from_load

from ...registry import MethodResult, register
from ...solution import Status
from .._stopping import stopped

__all__ = ["brute_force", "MAX_CANDIDATES"]

#: Refuse instances with more order x configuration combinations than this.
MAX_CANDIDATES = 3_000_000


def _makespans(perms: np.ndarray, P: np.ndarray, rel: np.ndarray, deadline):
    """Makespan of every order in ``perms`` (rows), vectorized over orders;
    ``inf`` where a task misses the deadline."""
    count, n = perms.shape
    m = P.shape[1]
    done = np.zeros((count, m))
    ok = np.ones(count, dtype=bool)
    for pos in range(n):
        jobs = perms[:, pos]
        t = rel[jobs]
        for k in range(m):
            t = np.maximum(t, done[:, k]) + P[jobs, k]
            done[:, k] = t
        if deadline is not None:
            ok &= t - rel[jobs] <= deadline + DEADLINE_TOL
    return np.where(ok, done[:, -1], np.inf)


#: Task positions per array when enumerating orders lazily (rows x tasks; memory O(CHUNK)).
CHUNK = 200_000


def _chunks(n: int):
    """Every order of ``n`` tasks, lexicographically, as arrays of about :data:`CHUNK` entries."""
    perms = itertools.permutations(range(n))
    rows = max(1, CHUNK // max(n, 1))
    while True:
        block = np.array(list(itertools.islice(perms, rows)), dtype=np.int64)
        if len(block):
            yield block
        if len(block) < rows:
            return


@register("pipeline", "brute_force", exact=True, oracle=True)
def brute_force(problem, *, deadline: Deadline | None = None) -> MethodResult:
    """Try every order and every configuration vector (tiny instances only).

    Computes the objective with its own vectorized recurrence and checks
    the accuracy floor and deadlines itself. Ties go to the first candidate
    in lexicographic order (configurations, then orders).

    Notes
    -----
    O(n! prod_j C_j n m) for ``"makespan"``, O(prod_j C_j n m) for
    ``"rate"``. Without a time limit, refuses more than
    :data:`MAX_CANDIDATES` combinations; with one, enumerates (orders in
    chunks of about :data:`CHUNK` entries) until the ``deadline`` and then returns status
    ``time_limit`` with the best schedule seen (no bound).
    """
    deadline = Deadline.of(deadline)
    n = problem.n
    choices = math.prod(problem.n_configs)
    orders = math.factorial(n) if problem.objective == "makespan" else 1
    if choices * orders > MAX_CANDIDATES and not deadline.limited:
        raise OptionError(f"brute_force handles at most {MAX_CANDIDATES} combinations without a time limit, "
                          f"got {choices * orders}")
    small = choices * orders <= MAX_CANDIDATES and problem.objective == "makespan"
    perms = np.array(list(itertools.permutations(range(n))), dtype=np.int64) if small else None  # all at once
    rel = problem.release_ms
    acc = [np.nan_to_num(a) for a in problem.accuracy]
    floor = None if problem.accuracy_min is None else problem.accuracy_min - ACCURACY_TOL
    maximize = problem.objective == "rate"
    best_value, best = (-math.inf if maximize else math.inf), None
    count = 0
    for config in itertools.product(*(range(c) for c in problem.n_configs)):
        if deadline.expired():
            return stopped(f"after {count} candidates", None if best is None else problem.assignment(*best),
                           enumerated=count)
        if floor is not None and math.fsum(acc[j][c] for j, c in enumerate(config)) / n < floor:
            continue
        P = np.array([problem.times[j][c] for j, c in enumerate(config)])
        if maximize:
            if problem.deadline_ms is not None and (P.sum(axis=1) > problem.deadline_ms + DEADLINE_TOL).any():
                continue
            count += 1
            value = rate_from_load(n, float(P.sum(axis=0).max()))
            if value > best_value:
                best_value, best = value, (list(range(n)), list(config))
            continue
        for chunk in ([perms] if perms is not None else _chunks(n)):
            values = _makespans(chunk, P, rel, problem.deadline_ms)
            count += len(values)
            i = int(np.argmin(values))
            if values[i] < best_value:
                best_value, best = float(values[i]), (chunk[i].tolist(), list(config))
            if deadline.expired():
                return stopped(f"after {count} candidates", None if best is None else problem.assignment(*best),
                               enumerated=count)
    if best is None:
        return MethodResult(Status.INFEASIBLE, message="no feasible schedule among all candidates")
    return MethodResult(Status.OPTIMAL, problem.assignment(*best), bound=best_value, details={"enumerated": count})
