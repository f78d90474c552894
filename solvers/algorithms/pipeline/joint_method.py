"""The ``joint`` method: order and configurations searched together (:mod:`.joint`).

Starts :func:`~.joint.joint_search` from the best of several configuration
rules (Lagrangian, bottleneck relief, the first configuration, the most
accurate one), each ordered by NEH, and runs it until the deadline (with
``time_limit``) or for a deterministic iteration budget. What the joint
search does not model (per-task deadlines, the ``"rate"`` objective) goes to
``ig``'s path, and the result says so.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from formulations.deadline import Deadline

from ...registry import MethodResult, register
from ._core import finish
from ...solution import Status
from .bounds import bound_and_prices, task_length_bound_and_prices
from .configs import choose_configs
from .greedy import neh_sequence, passed
from .joint import Joint, joint_search
from .neh import check_search_options, ig

__all__ = ["joint", "joint_models", "joint_starts", "default_joint_iterations", "JOINT_WORK", "JOINT_MAX_ITERATIONS",
           "STOP_MARGIN_S", "STOP_MARGIN_SHARE"]

#: Deterministic default budget: ``JOINT_WORK // (n^2 C m + JOINT_OVERHEAD)`` iterations
#: (one iteration costs about ``n^2 C m`` element operations plus numpy call overhead).
JOINT_WORK = 2_000_000
#: Fixed cost of one iteration, in ``n^2 C m`` units.
JOINT_OVERHEAD = 2_000
#: Cap of the default iteration count.
JOINT_MAX_ITERATIONS = 400
#: The search stops ``STOP_MARGIN_S + STOP_MARGIN_SHARE * time_limit`` seconds before the deadline,
#: leaving time for the last step in flight and for packaging and re-evaluating the plan.
STOP_MARGIN_S = 0.02
STOP_MARGIN_SHARE = 0.03
#: Configuration rules the search starts from (each NEH-ordered); plus the most accurate choice.
START_RULES = ("lagrangian", "bottleneck", "first")


def default_joint_iterations(n: int, m: int, C: int) -> int:
    """The default, machine-independent iteration budget of ``joint`` (at least 1 for ``n >= 2``)."""
    return int(max(1, min(JOINT_MAX_ITERATIONS, JOINT_WORK // (n * n * C * m + JOINT_OVERHEAD))))


def _most_accurate(problem) -> list[int]:
    """Per task, the most accurate admissible configuration (fastest total time among equals)."""
    out = []
    for j in range(problem.n):
        ok = problem.admissible(j)
        acc = np.where(ok, np.nan_to_num(problem.accuracy[j]), -np.inf)
        total = problem.times[j].sum(axis=1)
        best = np.flatnonzero(acc >= acc.max() - 1e-12)
        out.append(int(best[np.argmin(total[best])]))
    return out


def joint_starts(problem, mu=None, deadline=None) -> tuple[list[tuple[list[int], list[int]]], list[str]]:
    """``(starts, rules)``: distinct feasible ``(NEH order, configuration)`` pairs, one per rule.

    A rule's configuration is kept when it meets the accuracy floor (the
    first configurations may not). ``mu``: stage prices for the Lagrangian
    rule. O(R (n^2 m + LP)) for ``R`` rules.
    """
    J = Joint(problem)
    starts: list[tuple[list, list]] = []
    rules: list[str] = []
    seen: set = set()
    choices = [(how, choose_configs(problem, how, mu)) for how in START_RULES]
    choices.append(("most_accurate", _most_accurate(problem)))
    for how, config in choices:
        if config is None or tuple(config) in seen or J.total_acc(np.asarray(config)) < J.target:
            continue
        if starts and passed(deadline):
            break
        seen.add(tuple(config))
        order = neh_sequence(J.flow(np.asarray(config)), range(problem.n), deadline)
        starts.append((order.tolist(), list(config)))
        rules.append(how)
    return starts, rules


def _stop_time(deadline: Deadline, time_budget: float | None, started: float) -> float | None:
    """Absolute :func:`time.perf_counter` time at which the search stops (None: no limit)."""
    stop = None
    if deadline.at is not None and deadline.time_limit is not None:
        stop = deadline.at - STOP_MARGIN_S - STOP_MARGIN_SHARE * float(deadline.time_limit)
    if time_budget is not None:
        own = started + float(time_budget)
        stop = own if stop is None else min(stop, own)
    return stop


#: Below this many seconds left, a process that has not imported scipy.optimize yet skips the LP
#: (its import alone takes 0.3-0.7 s on a 2-core machine): uniform stage prices for the Lagrangian
#: start and the task-length bound instead of the stage-load bound.
COLD_LP_S = 2.0


def _cold_and_short(stop: float | None) -> bool:
    """Whether the LP would be the first scipy.optimize use and under :data:`COLD_LP_S` s remain."""
    return stop is not None and "scipy.optimize" not in sys.modules and stop - time.perf_counter() < COLD_LP_S


def joint_models(problem) -> bool:
    """Whether the joint search models ``problem``: the makespan objective and no per-task deadlines
    (otherwise ``joint`` solves it by ``ig``'s path)."""
    return problem.objective == "makespan" and problem.deadline_ms is None


@register("pipeline", "joint", exact=False)
def joint(problem, *, deadline: Deadline | None = None, time_budget: float | None = None,
          iterations: int | None = None, seed: int = 0) -> MethodResult:
    """Iterated greedy over task order and configurations together, accuracy floor kept.

    Starts from the best of the configuration rules ``lagrangian``,
    ``bottleneck``, ``first`` and the most accurate configuration (each
    NEH-ordered and improved by the joint local search), then runs
    :func:`~.joint.joint_search`: reinsertion of a task at any position in
    any configuration, accuracy trades between two tasks, and destruction /
    construction with simulated-annealing acceptance.

    Parameters
    ----------
    deadline : Deadline, optional
        The stopping rule :func:`solvers.solve` builds from ``time_limit``
        (the whole call). With it and no ``iterations``, the search runs
        until shortly before the deadline (:data:`STOP_MARGIN_S` +
        :data:`STOP_MARGIN_SHARE` of the limit are left for the last step
        and the re-evaluation).
    time_budget : float, optional
        Seconds of search (from the call's start); the result then depends
        on the machine.
    iterations : int, optional
        Iteration cap (deterministic with ``seed``). Default without a time
        limit or budget: :func:`default_joint_iterations`
        (``JOINT_WORK // (n^2 C m + JOINT_OVERHEAD)``, at most
        :data:`JOINT_MAX_ITERATIONS`), machine-independent.
    seed : int

    Returns
    -------
    MethodResult
        ``optimal`` only when the makespan meets the proven bound of
        :func:`~.bounds.bound_and_prices`; ``infeasible`` when the floor is
        unreachable. ``details``: the start rules, the rule of the best
        start, the iterations run.

    Notes
    -----
    Guarantee: the plan meets the accuracy floor and the deadline filter of
    configurations, and its makespan is never worse than the best start
    (each rule's configuration in its NEH order). Per-task deadlines (``deadline_ms``) and the ``"rate"``
    objective are not modelled by the joint search: those instances are
    solved by ``ig``'s path (``details["fallback"]`` says so). Complexity:
    O(R n^2 m) for the ``R`` NEH starts, then per iteration O(n^2 C m) per
    local-search step (one numpy batch) plus O(K n C n m) for the trade move
    (``K`` = :data:`~.joint.TRADE_CANDIDATES`).
    """
    check_search_options(time_budget, iterations)
    deadline = Deadline.of(deadline)
    if not joint_models(problem):
        why = "the rate objective" if problem.objective != "makespan" else "per-task deadlines"
        res = ig(problem, deadline=deadline, time_budget=time_budget, iterations=iterations, seed=seed)
        res.details = {**res.details, "fallback": f"ig ({why} are not modelled by the joint search)"}
        res.message = (res.message + "; " if res.message else "") + f"{why}: solved by ig's path"
        return res
    stop = _stop_time(deadline, time_budget, deadline.start)
    reason = problem.infeasibility_reason()
    if reason:
        return MethodResult(Status.INFEASIBLE, message=reason)
    if _cold_and_short(stop):
        bound, which, mu = task_length_bound_and_prices(problem)
        which += f" (stage-load LP skipped: scipy not loaded and under {COLD_LP_S:g} s left)"
    else:
        bound, which, mu = bound_and_prices(problem)
    starts, rules = joint_starts(problem, mu, stop)
    if not starts:
        return MethodResult(Status.INFEASIBLE, message="the accuracy floor cannot be met")
    if iterations is None and stop is None:
        iterations = default_joint_iterations(problem.n, problem.m, max(problem.n_configs))
    order, config, _, done, picked = joint_search(problem, starts, iterations=iterations, seed=seed,
                                                  deadline=stop, with_start=True)
    details = {"starts": rules, "best_start": rules[picked], "iterations": done}
    return finish(problem, order, config, bound=bound, message=f"bound: {which}", details=details)
