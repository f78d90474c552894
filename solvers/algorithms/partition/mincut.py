"""Exact partitioning as one minimum s-t cut (DADS)."""

from __future__ import annotations

import numpy as np

from formulations.deadline import Deadline

from ...registry import MethodResult, register
from ...solution import Status
from .._stopping import stopped
from ._common import Costs, block_partition, infeasible_or_unsupported, solve_blocks, takes_cut_methods, two_tier
from .tiers import tiers_mincut

__all__ = ["mincut"]


@register("partition", "mincut", exact=True, applies=takes_cut_methods)
def mincut(problem, *, deadline: Deadline | None = None, backend: str = "ortools") -> MethodResult:
    """Exact min s-t cut over the whole DAG (DADS; for k tiers nested tier sets, any linear objective).

    A k-tier instance goes to :func:`~.tiers.tiers_mincut`. For two tiers, builds :func:`formulations.partition.cutgraph.build_network` for all layers and
    solves one max-flow. The RTT, a constant paid iff any layer is on the
    server, is handled exactly: if the min cut ``D*`` puts a layer on the
    server, the answer is the better of ``cut(D*) + rtt`` and all-device
    (every other ``D != V`` costs ``cut(D) + rtt >= cut(D*) + rtt``).

    Parameters
    ----------
    problem : PartitionProblem
    backend : {"ortools", "networkx"}
        Max-flow implementation (see ``solvers.algorithms.partition._maxflow.min_cut``).
    deadline : Deadline, optional
        Checked before the max-flow (which is not interrupted): past it,
        status ``time_limit`` and no plan.

    Returns
    -------
    MethodResult
        ``optimal``, with ``bound = min(all-device, flow + rtt)`` where the
        flow is the floor-scaled integer max-flow (a proven lower bound), or
        ``infeasible``.

    Notes
    -----
    O(n + m) arcs; push-relabel max-flow, O(V^2 sqrt(E)) worst case, near
    linear on DNN DAGs. Exact up to the scaling policy of
    :mod:`formulations.scaling`: the objective exceeds the optimum by at
    most 1 ns per cut arc (the stated ``slack``); when the costs are too
    large for ns in int64 the unit is coarsened, no slack is claimed, and
    the status is ``feasible`` unless the objective meets the bound. Does
    not support ``device_budget`` (use ``ilp``).
    """
    if not two_tier(problem):
        return tiers_mincut(problem, deadline=deadline, backend=backend)
    early = infeasible_or_unsupported(problem, "mincut")
    if early is not None:
        return early
    costs = Costs(problem)
    if Deadline.of(deadline).expired():
        return stopped("before the max-flow")
    n = problem.n_layers
    rtt = problem.network.rtt_ms
    first, last, side, value, lb, slack = solve_blocks(problem, costs, [], backend=backend)
    positions = block_partition(int(first[0]), int(last[0]), side, n)
    best = float(value[0]) + (rtt if not positions.all() else 0.0)
    bound = float(lb[0]) + rtt
    all_dev = costs.all_device_ms()
    if all_dev is not None:
        bound = min(bound, all_dev)
        if all_dev <= best:
            positions = np.ones(n, dtype=bool)
    mask = costs.mask_from_positions(positions)
    # the registry keeps `optimal` only within the rounding slack (1 ns per cut arc)
    slack_ms = float(slack[0]) if np.isfinite(slack[0]) else 0.0
    return MethodResult(Status.OPTIMAL, problem.assignment(mask), bound=bound, details={"max_flows": 1},
                        slack=slack_ms)
