"""Test oracle: every device order and every split of the chain (tiny instances)."""

from __future__ import annotations

import itertools
import math

from formulations.deadline import Deadline
from formulations.errors import OptionError

from ...registry import MethodResult, register
from ...solution import Status
from .._stopping import stopped

__all__ = ["brute_force", "MAX_PLANS"]

#: Refuse instances with more plans than this.
MAX_PLANS = 200_000


def _plans(n: int, k: int):
    """Every plan as ``[(device, first, end)]``: an ordered choice of ``m`` distinct devices and a split of
    the ``n`` layers into ``m`` non-empty contiguous ranges, ``m = 1..min(n, k)``."""
    for m in range(1, min(n, k) + 1):
        for cuts in itertools.combinations(range(1, n), m - 1):
            bounds = (0, *cuts, n)
            for order in itertools.permutations(range(k), m):
                yield [(d, bounds[s], bounds[s + 1]) for s, d in enumerate(order)]


@register("placement", "brute_force", exact=True, oracle=True)
def brute_force(problem, *, deadline: Deadline | None = None) -> MethodResult:
    """Evaluate every plan with ``problem.measure`` and keep the best that fits memory.

    Notes
    -----
    ``sum_m C(n - 1, m - 1) k! / (k - m)!`` plans. Without a time limit,
    refuses more than :data:`MAX_PLANS` (OptionError); with one, enumerates
    until the ``deadline`` and then returns status ``time_limit`` with the
    best plan seen (no bound).
    """
    deadline = Deadline.of(deadline)
    n, k = problem.n_layers, problem.n_devices
    count = sum(math.comb(n - 1, m - 1) * math.perm(k, m) for m in range(1, min(n, k) + 1))
    if count > MAX_PLANS and not deadline.limited:
        raise OptionError(f"`problem` has {count} plans; brute_force takes at most {MAX_PLANS} without a time limit")
    best, best_key = None, None
    for done, stages in enumerate(_plans(n, k)):
        if deadline.expired():
            return stopped(f"after {done} of {count} plans", None if best is None else problem.plan(best))
        ev = problem.measure(problem.plan(stages))
        if not ev.feasible:
            continue
        key = ev.objective if problem.sense == "min" else -ev.objective
        if best_key is None or key < best_key:
            best, best_key = stages, key
    if best is None:
        return MethodResult(Status.INFEASIBLE, message=f"none of {count} plans fits memory")
    plan = problem.plan(best)
    return MethodResult(Status.OPTIMAL, plan, bound=problem.measure(plan).objective,
                        message=f"enumerated {count} plans")
