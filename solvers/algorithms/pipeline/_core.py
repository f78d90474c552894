"""Shared pieces of the pipeline methods: chosen times and results.

Times here are plain Python lists ``P[j] = [ms on stage 0, ..., m-1]`` for
the chosen configuration of task ``j``. The searches run on the array
kernels (:mod:`.kernel`, :mod:`.greedy`, :mod:`.compiled`); the objective of
a returned plan always comes from the formulation's own schedule
(:func:`finish`; the registry evaluates it again).
"""

from __future__ import annotations

from ...registry import MethodResult
from ...solution import Status

__all__ = [
    "chosen_times",
    "finish",
    "TOL",
]

#: Relative tolerance when comparing objective values with bounds.
TOL = 1e-9


def chosen_times(problem, config) -> list[list[float]]:
    """``P[j]``: stage times (ms) of task ``j`` in configuration ``config[j]``."""
    return [problem.times[j][int(config[j])].tolist() for j in range(problem.n)]


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
    value = problem.schedule(assignment).objective  # the formulation's recurrence, not the search's kernel
    if problem.objective == "makespan":
        tight = bound is not None and value <= bound * (1 + TOL) + TOL
    else:
        tight = bound is not None and value >= bound * (1 - TOL) - TOL
    status = Status.OPTIMAL if tight else Status.FEASIBLE
    if tight:
        message = (message + "; " if message else "") + "meets the lower bound: optimal"
    return MethodResult(status, assignment, bound=bound, message=message, details=details)
