"""Johnson's rule (1954) and its three-stage extension."""

from __future__ import annotations

from formulations.deadline import Deadline

from ...registry import MethodResult, register
from ...solution import Status
from .._stopping import flag_if_expired
from ._core import chosen_times, finish
from .configs import prepare

__all__ = ["johnson_order", "dominance", "johnson"]


def johnson_order(a, b) -> list[int]:
    """Johnson's rule for pairs ``(a_j, b_j)``: tasks with ``a_j <= b_j`` first by
    increasing ``a``, then the rest by decreasing ``b``. O(n log n)."""
    first = sorted((j for j in range(len(a)) if a[j] <= b[j]), key=lambda j: (a[j], j))
    last = sorted((j for j in range(len(a)) if a[j] > b[j]), key=lambda j: (-b[j], j))
    return first + last


def dominance(P) -> str | None:
    """Why Johnson's rule on ``(p0 + p1, p1 + p2)`` is optimal for three stages, or None.

    It is when the middle stage is dominated: ``min_j p0 >= max_j p1`` or
    ``min_j p2 >= max_j p1`` (Johnson 1954), so the middle stage never
    delays the schedule beyond what the two-stage relaxation sees.
    """
    p0, p1, p2 = (list(col) for col in zip(*P))
    if min(p0) >= max(p1):
        return "min p0 >= max p1"
    if min(p2) >= max(p1):
        return "min p2 >= max p1"
    return None


@register("pipeline", "johnson", exact=False)
def johnson(problem, *, deadline: Deadline | None = None, configs: str = "bottleneck") -> MethodResult:
    """Johnson's rule: optimal for two stages with fixed configurations, and for three under dominance.

    One stage: release order (optimal). Two stages: Johnson's pairs
    ``(p0, p1)``. ``m >= 3``: Johnson's rule on the aggregated pair
    ``(p0 + ... + p_{m-2}, p1 + ... + p_{m-1})``, i.e. ``(p0 + p1, p1 + p2)``
    for three stages; when the middle stage is dominated (:func:`dominance`)
    this is optimal and the result says so.

    Optimality is claimed only with one configuration per task, no release
    times (except one stage) and no deadline; otherwise it is a heuristic
    with the guarantee of any permutation schedule,
    ``Cmax <= max_j r_j + sum_k L_k``. Configurations are chosen by
    ``configs`` (see ``neh``). O(n log n) after the configuration choice;
    no loop to stop, but status ``time_limit`` if the ``deadline`` passed meanwhile.
    """
    prep = prepare(problem, configs)
    if isinstance(prep, MethodResult):
        return prep
    config, bound, which = prep
    n, m = problem.n, problem.m
    if problem.objective == "rate":
        return finish(problem, list(range(n)), config, bound=bound, message="rate: order irrelevant")
    P = chosen_times(problem, config)
    fixed = not problem.has_choice and problem.deadline_ms is None
    no_release = not problem.release_ms.any()
    why = None
    if m == 1:
        order = sorted(range(n), key=lambda j: (problem.release_ms[j], j))
        why = "one stage: release order is optimal" if fixed else None
    else:
        a = [sum(row[: m - 1]) for row in P]
        b = [sum(row[1:]) for row in P]
        order = johnson_order(a, b)
        if fixed and no_release and m == 2:
            why = "two stages: Johnson's rule is optimal"
        elif fixed and no_release and m == 3:
            dom = dominance(P)
            why = f"three stages with dominated middle stage ({dom}): optimal" if dom else None
    message = why or f"heuristic; bound: {which}"
    result = flag_if_expired(finish(problem, order, config, bound=bound, message=message, details={"dominance": why}),
                             deadline)
    if why and result.assignment is not None and result.status == Status.FEASIBLE:
        value = problem.evaluate(result.assignment).objective
        result = MethodResult(Status.OPTIMAL, result.assignment, bound=value, message=message, details=result.details)
    return result
