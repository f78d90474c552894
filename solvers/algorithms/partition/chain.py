"""Neurosurgeon-style split-point enumeration."""

from __future__ import annotations

import numpy as np

from formulations.deadline import Deadline

from ...registry import MethodResult, register
from ...solution import Status
from ._common import Costs, infeasible_or_unsupported, two_tier_cut
from .qdmp import split_candidates

__all__ = ["chain"]


@register("partition", "chain", exact=False, applies=two_tier_cut)
def chain(problem, *, deadline: Deadline | None = None) -> MethodResult:
    """Enumerate split points along the cut vertices (Neurosurgeon); a heuristic.

    Candidates: all layers on the device; everything up to and including a
    cut vertex on the device and the rest on the server (one tensor sent);
    and the least feasible device set (inputs, device pins and ancestors).

    Guarantees
    ----------
    Always feasible when the instance is. Exact (status ``optimal``) when
    no block between consecutive cut vertices has an interior layer, e.g. on
    chains, since the candidates are then every feasible partition.
    Otherwise ``feasible``: ``latency >= OPT``, no ratio bound holds in
    general (a branchy block can hide a much better split).

    Notes
    -----
    O(n + m) for cut vertices (cached), then O(k) for ``k`` cut vertices;
    too fast to need a ``deadline`` check (it takes one for the one contract).
    """
    early = infeasible_or_unsupported(problem, "chain")
    if early is not None:
        return early
    costs = Costs(problem)
    n = problem.n_layers
    least = problem.least_device_mask()
    best_mask, best_value = least, problem.breakdown(least)["total_ms"]
    all_dev = costs.all_device_ms()
    if all_dev is not None and all_dev < best_value:
        best_mask, best_value = np.ones(n, dtype=bool), all_dev
    at, value = split_candidates(costs)
    if len(value) and value.min() < best_value:
        j = int(np.argmin(value))
        best_mask = costs.mask_from_positions(np.arange(n) <= at[j])
    points = np.concatenate(([-1], problem.topology.cut_positions, [n]))
    exact = bool((np.diff(points) <= 1).all())
    status = Status.OPTIMAL if exact else Status.FEASIBLE
    bound = None
    if exact:
        bound = problem.breakdown(best_mask)["total_ms"]
    msg = "every block is a single edge: enumeration is exact" if exact else "heuristic: split points at cut vertices only"
    return MethodResult(status, problem.assignment(best_mask), bound=bound, message=msg)
