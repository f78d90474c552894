"""Shared pieces of the partition methods: position-space costs and block solves."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from formulations.errors import OptionError
from formulations.partition.cutgraph import build_network

from ._maxflow import cut_value_by_block, min_cut

__all__ = ["Costs", "solve_blocks", "infeasible_or_unsupported", "two_tier"]


def two_tier(problem) -> bool:
    """Whether ``problem`` is in the two-tier form (a :class:`PartitionProblem`: device, server, latency).

    The methods of the ``partition`` kind take both forms; those written for two
    tiers (``qdmp``, ``chain``, the DADS ``mincut``) run on this form, the k-tier
    algorithms on the other.
    """
    from formulations.partition import PartitionProblem

    return isinstance(problem, PartitionProblem)


def takes_cut_methods(problem) -> bool:
    """Whether the min-cut methods take ``problem``: a sum objective, no device budget, no constraints
    (``Method.applies`` of ``mincut``)."""
    return not (problem.throughput or problem.device_budget or getattr(problem, "constraints", None))


def two_tier_cut(problem) -> bool:
    """Whether the two-tier min-cut methods (``qdmp``, ``chain``) take ``problem``: the two-tier
    form without a device budget."""
    return two_tier(problem) and not problem.device_budget


def stream_cut(problem) -> bool:
    """Whether ``dads_heavy`` takes ``problem``: a throughput objective, no budget, no constraints."""
    return bool(problem.throughput) and not (problem.device_budget or problem.constraints)


def infeasible_or_unsupported(problem, method: str):
    """Common entry check of the min-cut methods.

    Raises ``OptionError`` for a ``device_budget`` (a min cut cannot express
    it) or a k-tier instance; returns an ``infeasible`` :class:`MethodResult` when pins
    contradict, else None.
    """
    from ...registry import MethodResult
    from ...solution import Status

    if not two_tier(problem):
        raise OptionError(
            f"method {method!r} handles the two-tier form (device, server; latency); for a k-tier instance "
            "use method='mincut' or 'ilp'"
        )
    if problem.device_budget:
        raise OptionError(
            f"method {method!r} cannot handle `device_budget` {sorted(problem.device_budget)}; "
            "use method='ilp' (or 'brute_force' for tiny instances)"
        )
    reason = problem.infeasibility_reason()
    return MethodResult(Status.INFEASIBLE, message=reason) if reason else None


@dataclass
class Costs:
    """Per-position costs and prefix sums (position = topological position).

    ``serve`` includes the download time of outputs.
    """

    problem: Any

    @cached_property
    def order(self) -> np.ndarray:
        return self.problem.topology.order

    @cached_property
    def dev(self) -> np.ndarray:
        return self.problem.device_ms[self.order]

    @cached_property
    def serve(self) -> np.ndarray:
        p = self.problem
        return (p.server_ms + p.download_ms)[self.order]

    @cached_property
    def upload(self) -> np.ndarray:
        return self.problem.upload_ms[self.order]

    @cached_property
    def prefix_dev(self) -> np.ndarray:
        """``prefix_dev[p]`` = device ms of positions ``< p``."""
        return np.concatenate(([0.0], np.cumsum(self.dev)))

    @cached_property
    def suffix_serve(self) -> np.ndarray:
        """``suffix_serve[p]`` = server (+download) ms of positions ``>= p``."""
        return np.concatenate((np.cumsum(self.serve[::-1])[::-1], [0.0]))

    @cached_property
    def pins(self) -> tuple[np.ndarray, np.ndarray]:
        """Boolean arrays by position: (forced device, forced server)."""
        p = self.problem
        n = p.n_layers
        dev = np.zeros(n, dtype=bool)
        srv = np.zeros(n, dtype=bool)
        pos = p.topology.pos
        dev[pos[p.topology.inputs]] = True
        for nm in p.pinned["device"]:
            dev[pos[p.index[nm]]] = True
        for nm in p.pinned["server"]:
            srv[pos[p.index[nm]]] = True
        return dev, srv

    @cached_property
    def server_pins_before(self) -> np.ndarray:
        """``[p]`` = number of server-forced positions ``< p``."""
        return np.concatenate(([0], np.cumsum(self.pins[1])))

    @cached_property
    def device_pins_from(self) -> np.ndarray:
        """``[p]`` = number of device-forced positions ``>= p``."""
        return np.concatenate((np.cumsum(self.pins[0][::-1])[::-1], [0]))

    def all_device_ms(self) -> float | None:
        """Latency of running everything on the device, or None if pins forbid it."""
        if self.pins[1].any():
            return None
        return float(self.prefix_dev[-1])

    def mask_from_positions(self, device_positions: np.ndarray) -> np.ndarray:
        """Layer-index mask from a position-index mask."""
        mask = np.zeros(len(self.order), dtype=bool)
        mask[self.order[device_positions]] = True
        return mask


def solve_blocks(problem, costs: Costs, splits, keep_blocks=None, backend: str = "ortools"):
    """Min cut of every kept block between split cut vertices, in one max-flow.

    Block ``b`` covers the layers strictly between split points ``first[b]``
    and ``last[b]`` (-1 and n at the ends); its family of partitions puts
    everything up to ``first[b]`` on the device and everything from
    ``last[b]`` on the server.

    Returns
    -------
    first, last : ndarray of int
        Block bounds (positions).
    side : ndarray of bool
        Source side per network node (positions ``0..n-1`` are layers).
    value_ms : ndarray of float
        Latency of each block's min-cut partition without the RTT
        (``inf`` for blocks not kept or infeasible).
    lb_ms : ndarray of float
        Proven lower bound on the latency (without RTT) of every partition
        in each block's family (``inf`` where none is feasible).
    slack_ms : ndarray of float
        Most each block's ``value_ms`` may exceed its true min cut because
        of the integer rounding: one unit per finite arc cut (0 when the
        capacities were scaled exactly; ``inf`` when the unit was coarsened
        below ns or the backend proves nothing, so no claim is made).
    """
    network = build_network(problem, splits, keep_blocks)
    info: dict = {}
    side, cut_lb = min_cut(network, backend=backend, info=info)
    first, last = network.block_bounds()
    n = problem.n_layers
    const = costs.prefix_dev[first + 1] + costs.suffix_serve[np.minimum(last, n)]
    value = const + cut_value_by_block(network, side)
    lb = const + cut_lb
    if keep_blocks is not None:
        kept = np.asarray(keep_blocks, dtype=bool)
        value = np.where(kept, value, np.inf)
        lb = np.where(kept, lb, np.inf)
    if info.get("coarse"):
        slack = np.full(network.n_blocks, np.inf)
    elif info.get("exact"):
        slack = np.zeros(network.n_blocks)
    else:
        cut = side[network.tails] & ~side[network.heads] & np.isfinite(network.capacity_ms)
        slack = np.bincount(network.arc_block[cut], minlength=network.n_blocks) / info["units_per_ms"]
    return first, last, side, value, lb, slack


def block_partition(first: int, last: int, side: np.ndarray, n: int) -> np.ndarray:
    """Device mask by position for the partition a block's min cut chose."""
    positions = np.zeros(n, dtype=bool)
    positions[: max(first + 1, 0)] = True
    interior = slice(first + 1, last)
    positions[interior] = side[:n][interior]
    return positions
