"""Enumeration of all feasible partitions: the oracle of the tests."""

from __future__ import annotations

import numpy as np

from formulations.deadline import Deadline
from formulations.errors import OptionError

from ...registry import MethodResult, register
from ...solution import Status
from ._common import two_tier
from .tier_brute_force import tier_brute_force
from .._stopping import stopped

__all__ = ["brute_force", "closed_sets", "MAX_LAYERS"]

#: Refuse larger graphs (the number of closed sets can reach 2**n).
MAX_LAYERS = 22


def closed_sets(problem):
    """Yield every device set (boolean mask) that contains the inputs and is
    closed under predecessors. Pins and budgets are not applied here.

    Depth-first over layers in topological order: a layer may join the device
    only if all its predecessors did.
    """
    topo = problem.topology
    n = problem.n_layers
    order = topo.order.tolist()
    preds: list[list[int]] = [[] for _ in range(n)]
    for u, v in zip(topo.src.tolist(), topo.dst.tolist()):
        preds[v].append(u)
    is_input = np.zeros(n, dtype=bool)
    is_input[topo.inputs] = True
    mask = np.zeros(n, dtype=bool)

    def rec(k):
        if k == n:
            yield mask.copy()
            return
        v = order[k]
        if all(mask[u] for u in preds[v]):
            mask[v] = True
            yield from rec(k + 1)
            mask[v] = False
        if not is_input[v]:
            yield from rec(k + 1)

    yield from rec(0)


@register("partition", "brute_force", exact=True, oracle=True)
def brute_force(problem, *, deadline: Deadline | None = None) -> MethodResult:
    """Evaluate every feasible partition (tiny DAGs only; the test oracle of both forms).

    A k-tier instance goes to :func:`~.tier_brute_force.tier_brute_force`. Handles everything the formulation does (pins, budgets, RTT). Ties are
    broken by enumeration order.

    Notes
    -----
    O(#closed sets * (n + m)); up to ``2**n`` sets. Without a time limit,
    refuses graphs with more than :data:`MAX_LAYERS` layers; with one, it
    enumerates until the ``deadline`` and then returns status ``time_limit``
    with the best partition seen (no bound).
    """
    deadline = Deadline.of(deadline)
    if not two_tier(problem):
        return tier_brute_force(problem, deadline=deadline)
    if problem.n_layers > MAX_LAYERS and not deadline.limited:
        raise OptionError(f"brute_force handles at most {MAX_LAYERS} layers without a time limit, got {problem.n_layers}")
    best_mask, best_value, count = None, np.inf, 0
    for mask in closed_sets(problem):
        if deadline.expired():
            return stopped(f"after {count} closed sets", None if best_mask is None else problem.assignment(best_mask),
                           enumerated=count)
        count += 1
        if problem.violations(mask):
            continue
        value = problem.latency(mask)
        if value < best_value:
            best_mask, best_value = mask, value
    if best_mask is None:
        return MethodResult(Status.INFEASIBLE, message=f"none of {count} closed sets is feasible")
    return MethodResult(
        Status.OPTIMAL, problem.assignment(best_mask), bound=best_value, details={"enumerated": count}
    )
