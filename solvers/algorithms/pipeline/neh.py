"""NEH insertion and the iterated greedy of Ruiz and Stuetzle (2007)."""

from __future__ import annotations

import math
import random
import time

from formulations.deadline import Deadline
from formulations.errors import OptionError

from ...registry import MethodResult, register
from ._core import best_insertion, chosen_times, finish, makespan
from .configs import prepare

__all__ = ["neh_order", "iterated_greedy", "neh", "ig", "default_iterations", "DEFAULT_WORK", "MAX_ITERATIONS"]

#: Deterministic default budget of ``ig``: iterations =
#: ``DEFAULT_WORK // (n * n * m + ITERATION_OVERHEAD)``, at most
#: :data:`MAX_ITERATIONS` (an iteration costs about ``n^2 m`` steps plus a
#: fixed overhead; the default takes about 0.1-0.4 s on one core).
DEFAULT_WORK = 60_000
#: Fixed cost of one iteration, in ``n^2 m`` units.
ITERATION_OVERHEAD = 1_000
#: Cap of the default iteration count.
MAX_ITERATIONS = 200


def default_iterations(n: int, m: int) -> int:
    """The default, machine-independent iteration budget of ``ig`` (may be 0)."""
    return int(min(MAX_ITERATIONS, DEFAULT_WORK // (n * n * m + ITERATION_OVERHEAD)))


def _passed(deadline) -> bool:
    return deadline is not None and time.perf_counter() > deadline


def neh_order(problem, config, deadline: float | None = None) -> list[int]:
    """NEH (Nawaz, Enscore, Ham 1983): insert tasks by decreasing total time,
    each at its best position (Taillard-accelerated, releases included).
    Also tries release order and returns the better. O(n^2 m).

    With ``deadline`` (a :func:`time.perf_counter` time) passed, the tasks
    not yet inserted are appended in release order (still a valid order).
    """
    P = chosen_times(problem, config)
    rel = problem.release_ms.tolist()
    first = sorted(range(problem.n), key=lambda j: (-sum(P[j]), j))
    ers = sorted(range(problem.n), key=lambda j: (rel[j], -sum(P[j]), j))
    seq: list[int] = []
    for x in first:
        if _passed(deadline):
            placed = set(seq)
            seq += [j for j in ers if j not in placed]
            break
        t, _ = best_insertion(seq, x, P, rel)
        seq.insert(t, x)
    return seq if makespan(seq, P, rel) <= makespan(ers, P, rel) else ers


def _local_search(seq, P, rel, value, deadline=None):
    """Insertion local search: reinsert each task at its best position until
    no gain (or ``deadline`` passes)."""
    improved = True
    while improved:
        improved = False
        for x in list(seq):
            if _passed(deadline):
                return seq, value
            rest = [j for j in seq if j != x]
            t, v = best_insertion(rest, x, P, rel)
            if v < value - 1e-12 * max(1.0, value):
                rest.insert(t, x)
                seq, value, improved = rest, v, True
    return seq, value


def iterated_greedy(problem, config, start, *, time_budget: float | None, iterations: int | None, seed: int,
                    d: int = 4, temperature: float = 0.4, deadline: float | None = None):
    """Iterated greedy with insertion local search (IG_RS_LS).

    Each iteration removes ``d`` random tasks, reinserts them greedily,
    applies insertion local search, and accepts the result if better, or
    with probability ``exp(-delta / T)``, ``T = temperature * sum p /
    (10 n m)``. Stops after ``iterations`` (deterministic), or earlier when
    ``time_budget`` seconds or the absolute ``deadline`` pass (then the
    result depends on the machine). Returns ``(best order, best makespan,
    iterations run)``.
    """
    if time_budget is not None:
        own = time.perf_counter() + time_budget
        deadline = own if deadline is None else min(deadline, own)
    P = chosen_times(problem, config)
    rel = problem.release_ms.tolist()
    n, m = problem.n, problem.m
    rng = random.Random(seed)
    cur, cur_v = _local_search(list(start), P, rel, makespan(start, P, rel), deadline)
    best, best_v = cur[:], cur_v
    T = temperature * sum(map(sum, P)) / (10.0 * n * m) if n * m else 0.0
    done = 0
    d = min(d, n - 1)
    while d > 0 and (iterations is None or done < iterations) and not _passed(deadline):
        done += 1
        seq = cur[:]
        removed = [seq.pop(rng.randrange(len(seq))) for _ in range(d)]
        for x in removed:
            t, _ = best_insertion(seq, x, P, rel)
            seq.insert(t, x)
        seq, v = _local_search(seq, P, rel, makespan(seq, P, rel), deadline)
        if v < cur_v:
            cur, cur_v = seq, v
            if v < best_v:
                best, best_v = seq[:], v
        elif T > 0 and rng.random() <= math.exp(-(v - cur_v) / T):
            cur, cur_v = seq, v
    return best, best_v, done


def _sequence(problem, configs, improve, time_budget, iterations, seed, deadline=None):
    prep = prepare(problem, configs)
    if isinstance(prep, MethodResult):
        return prep
    config, bound, which = prep
    if problem.objective == "rate":
        return finish(problem, list(range(problem.n)), config, bound=bound, message="rate: order irrelevant")
    order = neh_order(problem, config, deadline)
    details = {"configs_by": configs}
    if improve:
        order, _, its = iterated_greedy(problem, config, order, time_budget=time_budget, iterations=iterations,
                                        seed=seed, deadline=deadline)
        details["iterations"] = its
    return finish(problem, order, config, bound=bound, message=f"bound: {which}", details=details)


def _check(time_budget, iterations):
    if time_budget is not None and not time_budget > 0:
        raise OptionError(f"`time_budget` must be > 0, got {time_budget!r}")
    if iterations is not None and (isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0):
        raise OptionError(f"`iterations` must be an int >= 0, got {iterations!r}")


def _deadline(deadline: Deadline | None) -> float | None:
    """The absolute :func:`time.perf_counter` time of ``deadline`` (None without a limit)."""
    return Deadline.of(deadline).at


@register("pipeline", "neh", exact=False)
def neh(problem, *, deadline: Deadline | None = None, configs: str = "bottleneck", time_budget: float | None = None,
        iterations: int | None = None, seed: int = 0) -> MethodResult:
    """NEH insertion heuristic; with ``time_budget`` or ``iterations``, followed by iterated greedy.

    Parameters
    ----------
    deadline : Deadline, optional
        The stopping rule :func:`solvers.solve` builds from ``time_limit``
        (the whole call); NEH appends the tasks it has not inserted when it
        passes.
    configs : {"lagrangian", "bottleneck", "first"}
        How configurations are chosen before sequencing.
    time_budget : float, optional
        Seconds of iterated greedy after NEH (none by default).
    iterations : int, optional
        Iteration cap of the iterated greedy (deterministic with ``seed``).
    seed : int

    Guarantee: any permutation schedule has ``Cmax <= max_j r_j + sum_k L_k
    <= max_j r_j + m * max_k L_k``; with one configuration per task
    ``max_k L_k <= LB`` (the stage-load bound), so ``Cmax <= max_j r_j + m *
    LB``. Never worse than release order. O(n^2 m) for NEH.
    """
    _check(time_budget, iterations)
    improve = time_budget is not None or iterations is not None
    return _sequence(problem, configs, improve, time_budget, iterations, seed, _deadline(deadline))


@register("pipeline", "ig", exact=False)
def ig(problem, *, deadline: Deadline | None = None, configs: str = "bottleneck", time_budget: float | None = None,
       iterations: int | None = None, seed: int = 0) -> MethodResult:
    """NEH followed by iterated greedy with local search (Ruiz-Stuetzle), a deterministic budget.

    Same options and guarantee as ``neh``; never worse than NEH's order
    (the best order seen is kept). Stops after ``iterations`` (default
    :func:`default_iterations`: ``DEFAULT_WORK // (n^2 m + 1000)``, at most 200, so
    the answer does not depend on the machine), or earlier when
    ``time_limit`` (the whole call) or ``time_budget`` (the improvement
    phase) passes.
    """
    _check(time_budget, iterations)
    if iterations is None and time_budget is None:
        iterations = default_iterations(problem.n, problem.m)
    return _sequence(problem, configs, True, time_budget, iterations, seed, _deadline(deadline))
