"""QDMP: exact partitioning by decomposition at cut vertices."""

from __future__ import annotations

import numpy as np

from ...registry import MethodResult, register
from ...solution import Status
from ._common import Costs, require_no_budget, solve_range

__all__ = ["qdmp", "split_candidates"]


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


@register("partition", "qdmp", exact=True, default=True)
def qdmp(problem, *, time_limit=None, backend: str = "ortools", prune: bool = True) -> MethodResult:
    """Exact partitioning by QDMP's decomposition at cut vertices (default).

    Cut vertices ``c_1 < ... < c_k`` (layers on every input-to-output path)
    split the DAG into blocks. A feasible partition is closed under
    predecessors, so it runs everything before some block on the device,
    everything after it on the server, and splits only inside that block.
    The optimum is therefore the best over blocks of a min cut restricted to
    the block (its first cut vertex forced to the device, its last to the
    server), plus the all-device partition. Blocks with no interior layer
    are closed-form (split after a cut vertex); the others are solved in
    order of a cheap lower bound (prefix device time + suffix server time +
    ``sum min(device_ms, server_ms)`` inside + RTT) and skipped once that
    bound reaches the incumbent, so usually few max-flows run.

    Parameters
    ----------
    problem : PartitionProblem
    backend : {"ortools", "networkx"}
    prune : bool
        Skip blocks whose lower bound reaches the incumbent (exact either way).

    Returns
    -------
    MethodResult
        ``optimal`` with a proven ``bound`` (min over blocks of their lower
        bounds), or ``infeasible``. ``details`` counts blocks and max-flows.

    Notes
    -----
    Cut vertices in O(n + m) (see ``Topology.cut_positions``), cached per
    graph. Each layer is in one block, so the max-flows together cost at
    most one max-flow over the whole DAG; with pruning, typically far less.
    Does not support ``device_budget`` (use ``ilp``).
    """
    require_no_budget(problem, "qdmp")
    reason = problem.infeasibility_reason()
    if reason:
        return MethodResult(Status.INFEASIBLE, message=reason)
    costs = Costs(problem)
    n = problem.n_layers
    rtt = problem.network.rtt_ms
    topo = problem.topology
    cuts = topo.cut_positions

    # incumbents: all-device and every split right after a cut vertex (exact values)
    best_value = np.inf
    best_positions = None
    all_dev = costs.all_device_ms()
    if all_dev is not None:
        best_value = all_dev
        best_positions = np.ones(n, dtype=bool)
    split_at, split_value = split_candidates(costs)
    if len(split_value) and split_value.min() < best_value:
        j = int(np.argmin(split_value))
        best_value = float(split_value[j])
        best_positions = np.arange(n) <= split_at[j]
    bound = best_value

    # blocks with interior layers: between consecutive points of [-1, cuts..., n]
    points = np.concatenate(([-1], cuts, [n]))
    lo = np.maximum(points[:-1], 0)
    hi = np.minimum(points[1:], n - 1)
    has_lo = points[:-1] >= 0
    has_hi = points[1:] < n
    interior = (points[1:] - points[:-1]) > 1
    dev_pin, srv_pin = costs.pins
    feasible = (
        interior
        & (costs.server_pins_before[lo] == 0)
        & (costs.device_pins_from[hi + 1] == 0)
        & ~(has_lo & srv_pin[lo])
        & ~(has_hi & dev_pin[hi])
    )
    minc = np.minimum(costs.dev, costs.serve)
    prefix_min = np.concatenate(([0.0], np.cumsum(minc)))
    lower = (
        costs.prefix_dev[lo]
        + costs.suffix_serve[hi + 1]
        + prefix_min[hi + 1]
        - prefix_min[lo]
        + np.where(has_hi, rtt, 0.0)
    )
    blocks = np.flatnonzero(feasible)
    blocks = blocks[np.argsort(lower[blocks], kind="stable")]
    flows = 0
    for b in blocks.tolist():
        if prune and lower[b] >= best_value:
            bound = min(bound, float(lower[b]))
            continue
        positions, lb = solve_range(
            problem,
            costs,
            int(lo[b]),
            int(hi[b]),
            force_device=[int(lo[b])] if has_lo[b] else [],
            force_server=[int(hi[b])] if has_hi[b] else [],
            backend=backend,
        )
        flows += 1
        if not np.isfinite(lb):
            continue
        server_any = not positions.all()
        bound = min(bound, lb + (rtt if has_hi[b] else 0.0))
        if not server_any:
            continue  # the all-device partition is already an incumbent
        value = problem.breakdown(costs.mask_from_positions(positions))["total_ms"]
        if value < best_value:
            best_value, best_positions = value, positions
    if best_positions is None:
        return MethodResult(Status.INFEASIBLE, message="no feasible partition (pins)")
    mask = costs.mask_from_positions(best_positions)
    details = {"cut_vertices": int(len(cuts)), "blocks": int(interior.sum()), "max_flows": flows}
    return MethodResult(Status.OPTIMAL, problem.assignment(mask), bound=min(bound, best_value), details=details)
