"""QDMP: exact partitioning by decomposition at cut vertices."""

from __future__ import annotations

import numpy as np

from formulations.deadline import Deadline

from ...registry import MethodResult, register
from ...solution import Status
from .._stopping import stopped
from ._common import Costs, block_partition, infeasible_or_unsupported, solve_blocks, two_tier_cut

__all__ = ["qdmp", "qdmp_relaxed", "split_candidates", "block_lower_bounds"]


def split_candidates(costs: Costs) -> tuple[np.ndarray, np.ndarray]:
    """Latency of splitting right after each cut vertex (Neurosurgeon's candidates).

    Splitting after cut vertex ``c`` (position ``p``) puts positions ``<= p``
    on the device; since no edge jumps over ``c``, only ``c`` sends its
    output. Returns ``(positions, latency_ms)``, ``inf`` where pins forbid it.
    RTT included. O(#cut vertices).
    """
    problem = costs.problem
    cuts = problem.topology.cut_positions
    n = problem.n_layers
    cuts = cuts[cuts < n - 1]  # splitting after the last layer is "all device"
    value = costs.prefix_dev[cuts + 1] + costs.upload[cuts] + costs.suffix_serve[cuts + 1] + problem.network.rtt_ms
    bad = (costs.server_pins_before[cuts + 1] > 0) | (costs.device_pins_from[cuts + 1] > 0)
    return cuts, np.where(bad, np.inf, value)


def block_lower_bounds(costs: Costs, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Cheap lower bound on every partition (with a server layer) of each block.

    ``prefix device time (through first) + suffix server time (from last)
    + sum over the interior of min(device_ms, server_ms) + the smallest
    upload among layers that could send + RTT``: some device layer must
    send its output once any layer is on the server. O(n) for all blocks.
    """
    problem = costs.problem
    n = problem.n_layers
    minc = np.minimum(costs.dev, costs.serve)
    prefix_min = np.concatenate(([0.0], np.cumsum(minc)))
    sends = np.where(problem.topology.outdegree[costs.order] > 0, costs.upload, np.inf)
    starts = np.maximum(first, 0)
    smallest_send = np.minimum.reduceat(sends, starts) if n else np.zeros(len(first))
    smallest_send = np.where(last - starts > 0, smallest_send, np.inf)
    return (
        costs.prefix_dev[first + 1]
        + costs.suffix_serve[np.minimum(last, n)]
        + prefix_min[last]
        - prefix_min[first + 1]
        + smallest_send
        + problem.network.rtt_ms
    )


@register("partition", "qdmp", exact=True, default=True, applies=two_tier_cut)
def qdmp(problem, *, deadline: Deadline | None = None, backend: str = "ortools", prune: bool = True) -> MethodResult:
    """Exact partitioning by QDMP's decomposition at cut vertices (default).

    Cut vertices ``c_1 < ... < c_k`` (layers on every input-to-output path)
    split the DAG into blocks. A feasible partition is closed under
    predecessors, so it runs everything before some block on the device,
    everything after it on the server, and splits only inside that block.
    The optimum is therefore the best of: all layers on the device; a split
    right after a cut vertex (closed form); and, for each block with
    interior layers, a min cut restricted to the block (its first cut vertex
    forced to the device, its last to the server). Blocks whose cheap lower
    bound (:func:`block_lower_bounds`) reaches the best closed-form value
    are skipped; the min cuts of the remaining blocks are computed together
    in **one** max-flow on the network split at the cut vertices (the
    blocks are independent components).

    Parameters
    ----------
    problem : PartitionProblem
    backend : {"ortools", "networkx"}
    prune : bool
        Skip blocks whose lower bound reaches the incumbent (exact either way).
    deadline : Deadline, optional
        Checked before the max-flow (which is not interrupted): past it,
        status ``time_limit`` with the best closed-form plan and its bound.

    Returns
    -------
    MethodResult
        ``optimal`` with a proven ``bound`` (the minimum over all candidate
        families of their value or lower bound), or ``infeasible``.
        ``details`` counts cut vertices, blocks, and blocks solved by flow.

    Notes
    -----
    Cut vertices in O(n + m) (see ``Topology.cut_positions``), cached per
    graph and shared by :meth:`PartitionProblem.with_network` copies; the
    rest is O(n + m) plus one max-flow over the kept blocks, never larger
    than the whole-graph max-flow of ``mincut``. Does not support
    ``device_budget`` (use ``ilp``).
    """
    early = infeasible_or_unsupported(problem, "qdmp")
    if early is not None:
        return early
    return qdmp_relaxed(problem, backend=backend, prune=prune, deadline=deadline)


def qdmp_relaxed(problem, *, backend: str = "ortools", prune: bool = True,
                 deadline: Deadline | None = None) -> MethodResult:
    """QDMP on ``problem`` ignoring its ``device_budget`` (the relaxation).

    Its bound is a proven lower bound for the budgeted problem too; its
    plan is the budgeted optimum whenever it fits the budget. Same
    complexity as :func:`qdmp`.
    """
    costs = Costs(problem)
    n = problem.n_layers
    rtt = problem.network.rtt_ms
    cuts = problem.topology.cut_positions

    # exact closed-form candidates: all on the device, split right after a cut vertex
    best_value, best_positions = np.inf, None
    all_dev = costs.all_device_ms()
    if all_dev is not None:
        best_value, best_positions = all_dev, np.ones(n, dtype=bool)
    split_at, split_value = split_candidates(costs)
    if len(split_value) and split_value.min() < best_value:
        j = int(np.argmin(split_value))
        best_value = float(split_value[j])
        best_positions = np.arange(n) <= split_at[j]
    bound = best_value
    slack_ms = 0.0

    # blocks with interior layers
    points = np.concatenate(([-1], cuts, [n]))
    first, last = points[:-1], points[1:]
    dev_pin, srv_pin = costs.pins
    starts = np.maximum(first, 0)
    feasible = (
        (last - first > 1)
        & (costs.server_pins_before[starts] == 0)
        & (costs.device_pins_from[np.minimum(last, n)] == 0)
        & ~((first >= 0) & srv_pin[starts])
        & ~((last < n) & dev_pin[np.minimum(last, n - 1)])
    )
    lower = block_lower_bounds(costs, first, last)
    keep = feasible & (lower < best_value) if prune else feasible
    bound = min(bound, float(lower[feasible & ~keep].min(initial=np.inf)))
    flows = int(keep.sum())
    if flows and Deadline.of(deadline).expired():
        best = None if best_positions is None else problem.assignment(costs.mask_from_positions(best_positions))
        return stopped("before the max-flow", best, min(bound, float(lower[keep].min()), best_value))
    if flows:
        first, last, side, value, lb, block_slack = solve_blocks(problem, costs, cuts, keep, backend=backend)
        worst = float(block_slack[keep].max())
        slack_ms = worst if np.isfinite(worst) else 0.0
        bound = min(bound, float((lb + rtt)[keep].min()))
        for b in np.flatnonzero(keep & (value + rtt < best_value)).tolist():
            positions = block_partition(int(first[b]), int(last[b]), side, n)
            total = float(value[b]) + (rtt if not positions.all() else 0.0)
            if total < best_value:
                best_value, best_positions = total, positions
    if best_positions is None:
        return MethodResult(Status.INFEASIBLE, message="no feasible partition (pins)")
    mask = costs.mask_from_positions(best_positions)
    details = {"cut_vertices": int(len(cuts)), "blocks": int((last - first > 1).sum()), "blocks_solved": flows}
    return MethodResult(Status.OPTIMAL, problem.assignment(mask), bound=min(bound, best_value), details=details,
                        slack=slack_ms)
