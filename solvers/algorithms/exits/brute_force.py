"""Enumeration of every distinct plan outcome: the oracle of the tests."""

from __future__ import annotations

import numpy as np

from formulations.deadline import Deadline
from formulations.errors import OptionError

from ...registry import MethodResult, register
from ...solution import Status
from .._stopping import stopped
from ._common import evaluation_details, n_placements, placements

__all__ = ["brute_force", "outcomes", "MAX_EXITS", "MAX_SAMPLES", "MAX_PLACEMENTS"]

MAX_EXITS = 6
MAX_SAMPLES = 60
MAX_PLACEMENTS = 5000


def outcomes(problem):
    """Yield ``(kept, tau, stop)`` for every distinct stop behaviour.

    Walks the early exits in order: each is dropped, or kept with each
    candidate threshold that stops a different subset of the samples still
    running (thresholds stopping the same subset give the same plan value).
    ``max_exits`` is respected. ``stop[s]`` is the exit where sample ``s`` stops.
    """
    E, N = problem.n_exits, problem.n_samples
    conf = problem.confidence
    limit = problem.constraints.get("max_exits", E)
    kept = np.zeros(E, dtype=bool)
    kept[-1] = True
    tau = np.full(E, np.inf)
    tau[-1] = -np.inf
    stop = np.full(N, E - 1)

    def rec(e, running, n_kept):
        if e == E - 1:
            yield kept.copy(), tau.copy(), stop.copy()
            return
        yield from rec(e + 1, running, n_kept)
        if n_kept >= limit:
            return
        seen = set()
        for t in problem.candidate_thresholds(e):
            stops = running & (conf[:, e] >= t)
            size = int(stops.sum())
            if size in seen:  # nested in t: same size means same subset
                continue
            seen.add(size)
            kept[e], tau[e] = True, t
            stop[stops] = e
            yield from rec(e + 1, running & ~stops, n_kept + 1)
            stop[stops] = E - 1
            kept[e], tau[e] = False, np.inf

    yield from rec(0, np.ones(N, dtype=bool), 0)


@register("exits", "brute_force", exact=True, oracle=True)
def brute_force(problem, *, deadline: Deadline | None = None) -> MethodResult:
    """Evaluate every distinct stop behaviour on every placement (tiny instances only).

    Notes
    -----
    O(prod_e (|T_e| + 1) * C(K + k - 1, k - 1) * E). Without a time
    limit, refuses more than :data:`MAX_EXITS` exits, :data:`MAX_SAMPLES`
    samples or :data:`MAX_PLACEMENTS` placements; with one, enumerates
    until the ``deadline`` and then returns status ``time_limit`` with the
    best plan seen (no bound). Uses the formulation's ``exit_latency_ms``
    and the accuracy/latency tests of the evaluator; ties keep the first
    plan found.
    """
    deadline = Deadline.of(deadline)
    too_large = problem.n_exits > MAX_EXITS or problem.n_samples > MAX_SAMPLES or n_placements(problem) > MAX_PLACEMENTS
    if too_large and not deadline.limited:
        raise OptionError(
            f"brute_force handles at most {MAX_EXITS} exits, {MAX_SAMPLES} samples and "
            f"{MAX_PLACEMENTS} placements without a time limit"
        )
    N = problem.n_samples
    places_list: list[tuple] = []
    for p in placements(problem):
        if len(places_list) % 1024 == 0 and deadline.expired():
            return stopped("while listing placements")
        places_list.append(p)
    places = np.array(places_list, dtype=np.int64)
    need = problem.min_correct()
    lat_tables: dict[bytes, np.ndarray] = {}
    best, best_key, count = None, None, 0
    rows = np.arange(N)
    for kept, tau, stop in outcomes(problem):
        if deadline.expired():
            return stopped(f"after {count} exit/threshold choices",
                           None if best is None else problem.assignment(*best), enumerated=count)
        count += 1
        n_correct = int(problem.correct[rows, stop].sum())
        if n_correct < need:
            continue
        table = lat_tables.get(kept.tobytes())
        if table is None:
            table = np.array([problem.exit_latency_ms(p, kept) for p in places])
            lat_tables[kept.tobytes()] = table
        counts = np.bincount(stop, minlength=problem.n_exits)
        mean = table @ counts / N
        ok = np.array([problem.latency_ok(v) for v in mean])
        if not ok.any():
            continue
        if problem.objective == "latency":
            j = int(np.argmin(np.where(ok, mean, np.inf)))
            key = mean[j]
        else:
            j = int(np.argmax(ok))
            key = -n_correct / N
        if best_key is None or key < best_key:
            best_key, best = key, (places[j], kept, tau)
    if best is None:
        return MethodResult(Status.INFEASIBLE, message=f"none of {count} exit/threshold choices is feasible")
    assignment = problem.assignment(*best)
    value = problem.evaluate(assignment).objective
    return MethodResult(Status.OPTIMAL, assignment, bound=value, details={"enumerated": count, **evaluation_details(problem, assignment)})
