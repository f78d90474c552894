"""DNN DAG partitioning over k >= 2 tiers (device, edge, cloud, ...): the k-tier form.

:class:`TieredPartitionProblem` is the k-tier file form of the one partition
model, :class:`~formulations.partition.core.PartitionCore` (data, validation
and the evaluator; formulas in :mod:`.evaluation`, objectives in
:mod:`.objectives`, JSON in :mod:`.json_io`). For k = 2 its latency is
:class:`~formulations.partition.PartitionProblem`'s exactly: both are
measured by the same code.

Objective: ``"latency"`` (default), ``"energy"``, ``"throughput"`` or
``{"weighted": {"latency": a, "energy": b}}``; constraints
``latency_max_ms`` and ``energy_max_mj`` (checked with a relative tolerance
of :data:`TOLERANCE`). The min-cut network is in
:mod:`formulations.partition.tier_cutgraph`, the CP-SAT model in
:mod:`formulations.partition.tier_ilp`.
"""

from __future__ import annotations

from typing import Any, Mapping

from . import json_io
from .core import PartitionCore
from .evaluation import TierEvaluation, stage_loads
from .json_io import is_tiered_data
from .layers import TOLERANCE, EnergyModel, Link, TierLayer

__all__ = [
    "TierLayer",
    "Link",
    "EnergyModel",
    "TierEvaluation",
    "TieredPartitionProblem",
    "is_tiered_data",
    "stage_loads",
    "TOLERANCE",
]



class TieredPartitionProblem(PartitionCore):
    """A k-tier DNN partitioning instance (files: ``kind: "partition"`` with ``tiers``).

    The constructor, the evaluator (:meth:`evaluate` returns a
    :class:`TierEvaluation`), :meth:`measures`, :meth:`violations` and
    :meth:`breakdown` are :class:`~formulations.partition.core.PartitionCore`'s;
    see there for the parameters. This class adds the k-tier JSON form and
    the copies (:meth:`replace`, :meth:`with_network`, :meth:`from_partition`).
    """

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, file: str | None = None, base_dir=None) -> "TieredPartitionProblem":
        """Build from an instance dict (``kind: "partition"``, k-tier form or the two-tier form).

        Raises
        ------
        InstanceError
            Naming ``file`` (if given) and the invalid field.
        """
        return json_io.tiered_from_dict(cls, data, file)

    def to_dict(self) -> dict:
        """The instance as a JSON-ready dict in the k-tier form."""
        return json_io.to_dict(self, two_tier=False)

    @classmethod
    def from_partition(cls, problem, **changes) -> "TieredPartitionProblem":
        """The two-tier instance (tiers ``device``, ``server``) equal to a :class:`PartitionProblem`.

        Keyword arguments override constructor arguments (e.g. ``energy=``).
        """
        layers = [
            TierLayer(l.name, (float(l.device_ms), float(l.server_ms)), int(l.output_bytes),
                      memory_bytes=l.memory_bytes, flops=l.flops, op=l.op, meta=l.meta)
            for l in problem.layers
        ]
        net = problem.network
        kwargs: dict[str, Any] = dict(
            pinned={k: list(v) for k, v in problem.pinned.items()},
            device_budget=dict(problem.device_budget),
            metadata=dict(problem.metadata),
            name=problem.name,
        )
        kwargs.update(changes)
        links = kwargs.pop("links", [Link(net.uplink_mbps, net.downlink_mbps, net.rtt_ms)])
        return cls(kwargs.pop("tiers", ("device", "server")), layers, problem.edges, links, **kwargs)

    def with_network(self, *, uplink_mbps=None, downlink_mbps=None, rtt_ms=None) -> "TieredPartitionProblem":
        """A copy with fields of link 0 (tier 0 to tier 1) replaced (``None`` keeps a field).

        Shares the layers and the graph structure (O(n), no re-sort). The
        CLI's ``--uplink-mbps/--downlink-mbps/--rtt-ms`` use this. With a
        ``radio`` its powers are re-evaluated at the new rates; explicit
        ``energy`` powers are kept as they are (rescale them with
        :meth:`replace` if they depend on the rate).
        """
        first = self.links[0]
        link = Link(
            first.uplink_mbps if uplink_mbps is None else uplink_mbps,
            first.downlink_mbps if downlink_mbps is None else downlink_mbps,
            first.rtt_ms if rtt_ms is None else rtt_ms,
        )
        fields = ["network"] + [f"network.links[{b}]" for b in range(1, len(self.links))]
        return self._with_links((link, *self.links[1:]), fields)

    def __repr__(self) -> str:
        return (
            f"TieredPartitionProblem(name={self.name!r}, tiers={list(self.tiers)}, layers={self.n_layers}, "
            f"edges={len(self.edges)}, objective={self.objective!r})"
        )
