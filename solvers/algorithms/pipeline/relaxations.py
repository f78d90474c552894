"""Methods built on the relaxations: the proven bound with a cheap schedule
(``lower_bound``), and the configuration choices ``lagrangian`` and
``bottleneck`` followed by NEH.

This module only uses the layers below it (``_core`` -> ``bounds`` ->
``configs`` -> ``neh``); nothing imports it but the package.
"""

from __future__ import annotations

from formulations.deadline import Deadline

from ...registry import MethodResult, register
from ...solution import Status
from .._stopping import flag_if_expired
from ._core import finish
from .bounds import bound_and_prices
from .configs import lagrangian_choice, prepare
from .neh import neh_order

__all__ = ["lower_bound", "lagrangian", "bottleneck"]


@register("pipeline", "lower_bound", exact=False)
def lower_bound(problem, *, deadline: Deadline | None = None) -> MethodResult:
    """Best of the stage-load and task-length bounds, with configuration choice and accuracy floor.

    The bound never exceeds the optimum (never falls below it for the
    rate): each part is a relaxation (see :func:`makespan_bound`,
    :func:`stage_load_bound`). A cheap schedule is returned with it, the
    Lagrangian configuration choice in release order, when it is feasible;
    it is tagged ``optimal`` when it meets the bound.

    Notes
    -----
    One LP with ``n C + 1`` variables (HiGHS), then O(n C m); no loop to
    stop, but status ``time_limit`` if the ``deadline`` passed meanwhile.
    """
    reason = problem.infeasibility_reason()
    if reason:
        return MethodResult(Status.INFEASIBLE, message=reason)
    bound, which, mu = bound_and_prices(problem)
    config = lagrangian_choice(problem, mu).choice
    order = sorted(range(problem.n), key=lambda j: (problem.release_ms[j], j))
    return _timed(finish(problem, order, config, bound=bound, message=which, details={"bound_from": which}), deadline)


def _timed(result: MethodResult, deadline: Deadline | None) -> MethodResult:
    return flag_if_expired(result, deadline, "NEH completed in input order")


def _run(problem, how: str, deadline: Deadline | None):
    prep = prepare(problem, how)
    if isinstance(prep, MethodResult):
        return prep
    config, bound, which = prep
    if problem.objective == "makespan":
        order = neh_order(problem, config, Deadline.of(deadline).at)
    else:
        order = list(range(problem.n))
    return _timed(finish(problem, order, config, bound=bound, message=f"bound: {which}", details={"configs_by": how}),
                  deadline)


@register("pipeline", "lagrangian", exact=False)
def lagrangian(problem, *, deadline: Deadline | None = None) -> MethodResult:
    """Lagrangian relaxation of the accuracy floor for the configurations, then NEH.

    Configurations minimize the work weighted by the LP's stage prices under
    the floor (:func:`lagrangian_choice`); ``bound`` is the certified
    Lagrangian bound of :func:`~.bounds.objective_bound`.

    Guarantees: the weighted work is within ``max_j spread_j`` of its
    Lagrangian bound (see :func:`lagrangian_choice`); the schedule has
    ``Cmax <= max_j r_j + sum_k L_k`` (any permutation schedule); the bound
    never exceeds the optimum. O(LP + B n C + n^2 m). Past the
    ``deadline``, NEH appends the remaining tasks in input order and the
    status is ``time_limit``.
    """
    return _run(problem, "lagrangian", deadline)


@register("pipeline", "bottleneck", exact=False)
def bottleneck(problem, *, deadline: Deadline | None = None) -> MethodResult:
    """Greedy bottleneck relief of the configurations (from the Lagrangian choice), then NEH.

    Guarantee: the bottleneck load, hence for ``"rate"`` the rate, is never
    worse than that of the Lagrangian choice; for ``"makespan"``,
    ``Cmax <= max_j r_j + sum_k L_k`` (any permutation schedule).
    O(n^2 C^2 m + n^2 m). Past the ``deadline``, as ``lagrangian``.
    """
    return _run(problem, "bottleneck", deadline)
