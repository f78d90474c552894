"""Enumeration of every order and configuration vector: the test oracle."""

from __future__ import annotations

import itertools
import math

import numpy as np

from formulations.errors import OptionError
from formulations.pipeline import ACCURACY_TOL, DEADLINE_TOL, rate_from_load

from ...registry import MethodResult, register
from ...solution import Status

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


@register("pipeline", "brute_force", exact=True, oracle=True)
def brute_force(problem, *, time_limit=None) -> MethodResult:
    """Try every order and every configuration vector (tiny instances only).

    Computes the objective with its own vectorized recurrence and checks
    the accuracy floor and deadlines itself. Ties go to the first candidate
    in lexicographic order (configurations, then orders).

    Notes
    -----
    O(n! prod_j C_j n m) for ``"makespan"``, O(prod_j C_j n m) for
    ``"rate"``. Refuses more than :data:`MAX_CANDIDATES` combinations.
    """
    n = problem.n
    choices = math.prod(problem.n_configs)
    orders = math.factorial(n) if problem.objective == "makespan" else 1
    if choices * orders > MAX_CANDIDATES:
        raise OptionError(f"brute_force handles at most {MAX_CANDIDATES} combinations, got {choices * orders}")
    perms = np.array(list(itertools.permutations(range(n))), dtype=np.int64)
    rel = problem.release_ms
    acc = [np.nan_to_num(a) for a in problem.accuracy]
    floor = None if problem.accuracy_min is None else problem.accuracy_min - ACCURACY_TOL
    maximize = problem.objective == "rate"
    best_value, best = (-math.inf if maximize else math.inf), None
    count = 0
    for config in itertools.product(*(range(c) for c in problem.n_configs)):
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
        values = _makespans(perms, P, rel, problem.deadline_ms)
        count += len(values)
        i = int(np.argmin(values))
        if values[i] < best_value:
            best_value, best = float(values[i]), (perms[i].tolist(), list(config))
    if best is None:
        return MethodResult(Status.INFEASIBLE, message="no feasible schedule among all candidates")
    return MethodResult(Status.OPTIMAL, problem.assignment(*best), bound=best_value, details={"enumerated": count})
