"""NEH insertion and the iterated greedy of Ruiz and Stuetzle (2007) on the fast kernels.

Problems become arrays here (the chosen configuration's stage times, the
releases) and the searches run on one of two kernels:

- ``"numba"``: the compiled iterated greedy of :mod:`.compiled` (first-improvement
  insertion local search, Taillard's acceleration in plain loops), used when
  numba is installed (the ``fast`` extra);
- ``"numpy"``: the vectorized :mod:`.greedy` (best-improvement insertion local
  search, every move evaluated in one batch by :mod:`.kernel`).

Both use NEH with ties broken by idle time as the start, remove ``d = 4``
tasks per iteration and accept with Ruiz and Stuetzle's temperature ``T =
0.4``. The two follow different random streams and local searches, so for
the same seed their orders differ; each is deterministic for a seed and an
iteration count. The returned plan is re-evaluated by the formulation's
evaluator (:func:`._core.finish`).
"""

from __future__ import annotations

import time

import numpy as np

from formulations.deadline import Deadline
from formulations.errors import OptionError

from ...registry import MethodResult, register
from . import compiled
from ._core import finish
from .configs import prepare
from .greedy import DESTRUCTION, TEMPERATURE, Flow, iterated_greedy_seq, neh_sequence

__all__ = ["neh_order", "iterated_greedy", "neh", "ig", "default_iterations", "resolve_kernel", "KERNELS",
           "DEFAULT_WORK", "ITERATION_OVERHEAD", "MAX_ITERATIONS", "LOAD_S"]

#: Names accepted by the ``kernel`` option.
KERNELS = ("auto", "numba", "numpy")

#: Deterministic default budget of ``ig`` per kernel: iterations =
#: ``DEFAULT_WORK[k] // (n * n * m + ITERATION_OVERHEAD[k])``, at most
#: ``MAX_ITERATIONS[k]``. An iteration costs about ``n^2 m`` steps (a few
#: insertion sweeps) plus a fixed overhead (numpy: the calls of its O(m)
#: passes). Measured on one core of a shared 2-core machine: numba ~15-25 ns
#: per ``n^2 m`` unit (0.6 ms per iteration on 50x10, 4 ms on 100x20); numpy
#: ~0.7 ms plus 0.3-0.5 us per unit (8 ms on 50x10, 96 ms on 100x20). The
#: default then takes about 0.05-0.4 s with either kernel.
DEFAULT_WORK = {"numba": 12_000_000, "numpy": 750_000}
#: Fixed cost of one iteration, in ``n^2 m`` units, per kernel.
ITERATION_OVERHEAD = {"numba": 1_000, "numpy": 3_000}
#: Cap of the default iteration count, per kernel.
MAX_ITERATIONS = {"numba": 2_000, "numpy": 200}
#: Seconds a first use of the compiled kernel may cost in a process (loading
#: numba and its on-disk cache, measured ~0.7 s; a first compile on a machine
#: takes ~10 s). ``kernel="auto"`` with a wall-clock stop uses numba only when
#: the kernels are loaded in this process, or numba's cache holds them and at
#: least this much time is left.
LOAD_S = 2.0


def default_iterations(n: int, m: int, kernel: str = "auto") -> int:
    """The default, machine-independent iteration budget of ``ig`` on ``kernel`` (may be 0).

    ``"auto"`` means numba when it is installed, else numpy.
    """
    if kernel == "auto":
        kernel = "numba" if compiled.available() else "numpy"
    return int(min(MAX_ITERATIONS[kernel], DEFAULT_WORK[kernel] // (n * n * m + ITERATION_OVERHEAD[kernel])))


def resolve_kernel(kernel: str, stop_at: float | None = None) -> str:
    """The kernel ``"numba"`` or ``"numpy"`` that ``kernel`` names.

    ``"auto"``: numba when installed, except under a wall-clock stop
    ``stop_at`` (absolute :func:`time.perf_counter`) when the kernels are not
    loaded in this process and either less than :data:`LOAD_S` is left or
    they would have to be compiled (not in numba's cache): then numpy, so
    loading never eats a short time limit.

    Raises
    ------
    OptionError
        For an unknown name, or ``"numba"`` without numba installed.
    """
    if kernel not in KERNELS:
        raise OptionError(f"`kernel` must be one of {', '.join(KERNELS)}; got {kernel!r}")
    if kernel == "numba" and not compiled.available():
        raise OptionError("`kernel='numba'` needs numba (pip install 'coinfer[fast]' or pip install numba)")
    if kernel != "auto":
        return kernel
    if not compiled.available():
        return "numpy"
    if stop_at is None or compiled.loaded():
        return "numba"
    return "numba" if stop_at - time.perf_counter() >= LOAD_S and compiled.cached() else "numpy"


def _flow(problem, config) -> Flow:
    """Stage times ``(m, n)`` of configuration ``config`` and the releases, as a :class:`~.greedy.Flow`."""
    TT = np.array([problem.times[j][int(config[j])] for j in range(problem.n)], dtype=float).reshape(problem.n, problem.m)
    return Flow(TT.T, problem.release_ms)


def neh_order(problem, config, deadline: float | None = None) -> list[int]:
    """NEH (Nawaz, Enscore, Ham 1983): insert tasks by decreasing total time,
    each at its best position (Taillard-accelerated, releases included, ties
    to the least idle time). Also tries release order and returns the better.
    O(n^2 m) in O(n m) numpy passes.

    With ``deadline`` (a :func:`time.perf_counter` time) passed, the tasks
    not yet inserted are appended in release order (still a valid order).
    """
    return neh_sequence(_flow(problem, config), range(problem.n), deadline).tolist()


def iterated_greedy(problem, config, start, *, time_budget: float | None, iterations: int | None, seed: int,
                    deadline: float | None = None, kernel: str = "auto", d: int = DESTRUCTION,
                    temperature: float = TEMPERATURE):
    """Iterated greedy with insertion local search (IG_RS_LS) on ``kernel``.

    Local search of ``start`` first; then each iteration removes ``d``
    random tasks, reinserts them at their best positions, runs the local
    search, and accepts the result if not worse, or with probability
    ``exp(-delta / T)``, ``T = temperature * sum p / (10 n m)``. Stops after
    ``iterations`` (deterministic), or earlier when ``time_budget`` seconds
    or the absolute ``deadline`` pass (then the result depends on the
    machine). Returns ``(best order, its makespan, iterations run)``; the
    best is never worse than ``start``.
    """
    if time_budget is not None:
        own = time.perf_counter() + time_budget
        deadline = own if deadline is None else min(deadline, own)
    flow = _flow(problem, config)
    if resolve_kernel(kernel, deadline) == "numba":
        best, value, done = compiled.ig_compiled(flow.TT.T, flow.rel, start, iterations=iterations, seed=seed,
                                                 deadline=deadline, d=d, temperature=temperature)
    else:
        best, value, done = iterated_greedy_seq(flow, start, iterations=iterations, seed=seed, deadline=deadline,
                                                d=d, temperature=temperature)
    return [int(j) for j in best], value, done


def _sequence(problem, configs, improve, time_budget, iterations, seed, kernel, deadline=None):
    prep = prepare(problem, configs)
    if isinstance(prep, MethodResult):
        return prep
    config, bound, which = prep
    if problem.objective == "rate":
        return finish(problem, list(range(problem.n)), config, bound=bound, message="rate: order irrelevant")
    order = neh_order(problem, config, deadline)
    details = {"configs_by": configs}
    if improve:
        stop = deadline if time_budget is None else time.perf_counter() + time_budget
        used = resolve_kernel(kernel, stop if deadline is None else min(stop, deadline))
        if iterations is None and time_budget is None:
            iterations = default_iterations(problem.n, problem.m, used)
        order, _, its = iterated_greedy(problem, config, order, time_budget=time_budget, iterations=iterations,
                                        seed=seed, deadline=deadline, kernel=used)
        details.update(iterations=its, kernel=used)
    return finish(problem, order, config, bound=bound, message=f"bound: {which}", details=details)


def check_search_options(time_budget, iterations) -> None:
    """OptionError unless ``time_budget`` is None or > 0 and ``iterations`` None or an int >= 0 (shared by ``joint``)."""
    if time_budget is not None and not time_budget > 0:
        raise OptionError(f"`time_budget` must be > 0, got {time_budget!r}")
    if iterations is not None and (isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0):
        raise OptionError(f"`iterations` must be an int >= 0, got {iterations!r}")


def _check(time_budget, iterations, kernel):
    check_search_options(time_budget, iterations)
    resolve_kernel(kernel)


@register("pipeline", "neh", exact=False)
def neh(problem, *, deadline: Deadline | None = None, configs: str = "bottleneck", time_budget: float | None = None,
        iterations: int | None = None, seed: int = 0, kernel: str = "auto") -> MethodResult:
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
    kernel : {"auto", "numba", "numpy"}
        The iterated greedy's kernel (module docstring); ``"auto"`` is numba
        when installed (see :func:`resolve_kernel`), ``"numba"`` without it
        is an error.

    Guarantee: any permutation schedule has ``Cmax <= max_j r_j + sum_k L_k
    <= max_j r_j + m * max_k L_k``; with one configuration per task
    ``max_k L_k <= LB`` (the stage-load bound), so ``Cmax <= max_j r_j + m *
    LB``. Never worse than release order. O(n^2 m) for NEH.
    """
    _check(time_budget, iterations, kernel)
    improve = time_budget is not None or iterations is not None
    return _sequence(problem, configs, improve, time_budget, iterations, seed, kernel, Deadline.of(deadline).at)


@register("pipeline", "ig", exact=False)
def ig(problem, *, deadline: Deadline | None = None, configs: str = "bottleneck", time_budget: float | None = None,
       iterations: int | None = None, seed: int = 0, kernel: str = "auto") -> MethodResult:
    """NEH followed by iterated greedy with local search (Ruiz-Stuetzle), a deterministic budget.

    Same options and guarantee as ``neh``; never worse than NEH's order
    (the best order seen is kept). Stops after ``iterations`` (default
    :func:`default_iterations`: ``DEFAULT_WORK // (n^2 m + ITERATION_OVERHEAD)``
    of the kernel used, at most 2000 with numba and 200 with numpy, about
    0.05-0.4 s, so the answer does not depend on the machine), or earlier when
    ``time_limit`` (the whole call) or ``time_budget`` (the improvement
    phase) passes. ``details`` report ``iterations`` and ``kernel``.

    On Taillard's 50x10 and 100x20 sets with ``time_budget = n (m/2) 60 ms``
    see ``benchmarks/results/taillard.md`` for the deviation from the
    best-known makespans.
    """
    _check(time_budget, iterations, kernel)
    return _sequence(problem, configs, True, time_budget, iterations, seed, kernel, Deadline.of(deadline).at)
