"""Exact partitioning as one minimum s-t cut (DADS)."""

from __future__ import annotations

import numpy as np

from ...registry import MethodResult, register
from ...solution import Status
from ._common import Costs, require_no_budget, solve_range

__all__ = ["mincut"]


@register("partition", "mincut", exact=True)
def mincut(problem, *, time_limit=None, backend: str = "ortools") -> MethodResult:
    """Exact min s-t cut over the whole DAG (DADS construction).

    Builds :func:`formulations.cutgraph.build_network` for all layers and
    solves one max-flow. The RTT, a constant paid iff any layer is on the
    server, is handled exactly: if the min cut ``D*`` puts a layer on the
    server, the answer is the better of ``cut(D*) + rtt`` and all-device
    (every other ``D != V`` costs ``cut(D) + rtt >= cut(D*) + rtt``).

    Parameters
    ----------
    problem : PartitionProblem
    backend : {"ortools", "networkx"}
        Max-flow implementation (see ``solvers.partition._maxflow.min_cut``).

    Returns
    -------
    MethodResult
        ``optimal``, with ``bound`` the integer max-flow value (floor-scaled,
        a proven lower bound), or ``infeasible``.

    Notes
    -----
    O(n + m) arcs; push-relabel max-flow, O(V^2 sqrt(E)) worst case, near
    linear on DNN DAGs. Exact up to the scaling policy: the reported
    objective exceeds the optimum by at most 1 ns per cut arc.
    Does not support ``device_budget`` (use ``ilp``).
    """
    require_no_budget(problem, "mincut")
    reason = problem.infeasibility_reason()
    if reason:
        return MethodResult(Status.INFEASIBLE, message=reason)
    costs = Costs(problem)
    n = problem.n_layers
    positions, lb = solve_range(problem, costs, 0, n - 1, backend=backend)
    rtt = problem.network.rtt_ms
    all_dev = costs.all_device_ms()
    mask = costs.mask_from_positions(positions)
    bound = lb + rtt
    if not positions.all() and all_dev is not None:
        value = problem.breakdown(mask)["total_ms"]
        if all_dev <= value:
            mask = np.ones(n, dtype=bool)
    if all_dev is not None:
        bound = min(bound, all_dev)
    return MethodResult(Status.OPTIMAL, problem.assignment(mask), bound=bound, details={"max_flows": 1})
