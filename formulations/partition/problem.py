"""DNN DAG partitioning between an end device and a server: the two-tier view of the one model.

A DNN is a DAG of layers. Each layer ``v`` has ``device_ms`` (time on the end
device), ``server_ms`` (time on the server) and ``output_bytes`` (size of its
output tensor). A partition is the set ``D`` of layers run on the device; it
contains every input and is closed under predecessors. Its latency in ms is::

    latency(D) = sum_{v in D} device_ms[v] + sum_{v not in D} server_ms[v]
               + sum_{v in D with a successor not in D} output_bytes[v]*8 / (uplink_mbps*1000)
               + sum_{v not in D without successor} output_bytes[v]*8 / (downlink_mbps*1000)
               + (rtt_ms if D != all layers else 0)

:class:`PartitionProblem` is the k = 2 view of
:class:`~formulations.partition.core.PartitionCore` (tiers ``device`` and
``server``, ``ms = [device_ms, server_ms]``, one ``network``): the data, its
validation and the evaluator are the core's (:mod:`.evaluation`); this class
adds the two-tier names (device sets, ``device_ms``, ``upload_ms``, ...) and
the two-tier JSON form. Models for solvers live in
:mod:`formulations.partition.cutgraph` (min-cut network) and
:mod:`formulations.partition.ilp` (CP-SAT model).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from ..base import AssignmentTypeError, cached_property
from ..errors import InfeasibleAssignmentError, OptionError
from . import builders, json_io
from .core import PartitionCore, layer_indices
from .dag import Topology
from .evaluation import Measures, PartitionEvaluation
from .layers import Layer, checked_link
from .units import RESOURCE_FIELDS, Network, format_bytes, transfer_ms

__all__ = ["Layer", "Network", "PartitionProblem", "PartitionEvaluation", "RESOURCE_FIELDS", "transfer_ms"]

_TIERS = ("device", "server")


class PartitionProblem(PartitionCore):
    """A two-tier DNN partitioning instance (``kind: "partition"``).

    Build one with :meth:`from_dict`, :meth:`from_json`, :meth:`from_lists`,
    :meth:`from_networkx`, or :func:`formulations.load`. Instances are
    immutable (assigning an attribute raises, arrays are read-only);
    :meth:`replace` returns a changed copy, and :meth:`with_network` a copy
    for another network that shares the graph structure.

    Parameters
    ----------
    layers : sequence of Layer
    edges : sequence of (str, str)
        ``(producer, consumer)`` layer names.
    network : Network
    pinned : mapping, optional
        ``{"device": [names], "server": [names]}``.
    device_budget : mapping, optional
        ``{resource: limit}`` for resources in :data:`RESOURCE_FIELDS`;
        the device's layers may use at most ``limit`` in total (a layer
        without the field uses 0).
    metadata : mapping, optional
        Provenance, units, known ``optimum`` etc. Not used by solvers.
    name : str, optional
    node_ids : mapping, optional
        Layer name -> the user's own node id (set by :meth:`from_networkx`;
        see :meth:`to_node_ids`). Not written by :meth:`to_dict`.

    Raises
    ------
    InstanceError
        For any invalid field (the message names the field).
    """

    def __init__(self, layers: Sequence[Layer], edges: Iterable[tuple[str, str]], network: Network, *,
                 pinned: Mapping[str, Sequence[str]] | None = None, device_budget: Mapping[str, float] | None = None,
                 metadata: Mapping[str, Any] | None = None, name: str | None = None,
                 node_ids: Mapping[str, Any] | None = None, _topology: Topology | None = None):
        self.node_ids = None if node_ids is None else MappingProxyType(dict(node_ids))
        super().__init__(_TIERS, layers, edges, (network,), pinned=pinned, device_budget=device_budget,
                         metadata=metadata, name=name, _topology=_topology)

    def _checked_links(self, links: tuple) -> tuple:
        return (checked_link(links[0], "network"),)

    def _time_fields(self, i: int) -> list[str]:
        return [f"layers[{i}].device_ms", f"layers[{i}].server_ms"]

    # ----------------------------------------------------------- constructors
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, file: str | None = None, base_dir=None) -> "PartitionCore":
        """Build from an instance dict (the JSON format, see README).

        A dict in the k-tier form (:func:`~.json_io.is_tiered_data`) gives a
        :class:`~formulations.partition.TieredPartitionProblem`.

        Raises
        ------
        InstanceError
            Naming ``file`` (if given) and the invalid field.
        """
        if cls is PartitionProblem and json_io.is_tiered_data(data):
            from .tiers import TieredPartitionProblem

            return TieredPartitionProblem.from_dict(data, file=file, base_dir=base_dir)
        return json_io.two_tier_from_dict(cls, data, file)

    @classmethod
    def from_lists(cls, names: Sequence[str], device_ms: Sequence[float], server_ms: Sequence[float],
                   output_bytes: Sequence[int], edges: Iterable[tuple[str, str]], *, uplink_mbps: float,
                   downlink_mbps: float | None = None, rtt_ms: float = 0.0, **kwargs) -> "PartitionProblem":
        """Build from parallel lists (one entry per layer).

        Examples
        --------
        >>> p = PartitionProblem.from_lists(
        ...     ["in", "conv", "fc"], [0, 30, 5], [0, 3, 0.5], [150528, 4096, 40],
        ...     [("in", "conv"), ("conv", "fc")], uplink_mbps=10)
        >>> round(p.latency({"in"}), 3)
        123.954
        """
        return builders.from_lists(cls, names, device_ms, server_ms, output_bytes, edges, uplink_mbps=uplink_mbps,
                                   downlink_mbps=downlink_mbps, rtt_ms=rtt_ms, **kwargs)

    @classmethod
    def from_networkx(cls, graph, *, uplink_mbps: float, downlink_mbps: float | None = None, rtt_ms: float = 0.0,
                      device_ms: str = "device_ms", server_ms: str = "server_ms", output_bytes: str = "output_bytes",
                      **kwargs) -> "PartitionProblem":
        """Build from a ``networkx.DiGraph`` whose nodes carry the costs.

        Parameters
        ----------
        graph : networkx.DiGraph
            Nodes may be any hashable (ints, tuples, strings); layer names
            are ``str(node)``, and :meth:`to_node_ids` maps an assignment
            back to the graph's own nodes.
        device_ms, server_ms, output_bytes : str
            Names of the node attributes holding each cost (numbers or
            numpy scalars). A missing or invalid attribute is an error
            naming the node and the attribute.

        Examples
        --------
        >>> import networkx as nx, numpy as np
        >>> g = nx.DiGraph()
        >>> g.add_node(0, device_ms=0.0, server_ms=0.0, output_bytes=np.int64(150528))
        >>> g.add_node(1, device_ms=np.float32(30), server_ms=3.0, output_bytes=4096)
        >>> g.add_edge(0, 1)
        >>> p = PartitionProblem.from_networkx(g, uplink_mbps=np.float32(10))
        >>> p.to_node_ids({"device": ["0"], "server": ["1"]})
        {'device': [0], 'server': [1]}
        """
        return builders.from_networkx(cls, graph, uplink_mbps=uplink_mbps, downlink_mbps=downlink_mbps,
                                      rtt_ms=rtt_ms, device_ms=device_ms, server_ms=server_ms,
                                      output_bytes=output_bytes, **kwargs)

    def to_node_ids(self, assignment) -> dict[str, list]:
        """An assignment with the original node ids of :meth:`from_networkx`
        (layer names for a problem built otherwise)."""
        ids: Mapping[str, Any] = self.node_ids or {}
        named = self.assignment(self.device_mask(assignment))
        return {side: [ids.get(nm, nm) for nm in layer_names] for side, layer_names in named.items()}

    def with_network(self, *, uplink_mbps=None, downlink_mbps=None, rtt_ms=None) -> "PartitionProblem":
        """A copy with some network fields replaced, sharing the graph structure.

        Fields left as ``None`` keep their value. Costs O(n) (no re-sort).
        """
        net = self.network
        net = Network(net.uplink_mbps if uplink_mbps is None else uplink_mbps,
                      net.downlink_mbps if downlink_mbps is None else downlink_mbps,
                      net.rtt_ms if rtt_ms is None else rtt_ms)
        return self._with_links((net,), ("network",))

    def to_dict(self) -> dict:
        """The instance as a JSON-ready dict (``kind: "partition"``, version 1)."""
        return json_io.to_dict(self, two_tier=True)

    def to_networkx(self):
        """The layer DAG as a ``networkx.DiGraph`` with cost attributes."""
        import networkx as nx

        graph = nx.DiGraph()
        for layer in self.layers:
            graph.add_node(layer.name, device_ms=layer.device_ms, server_ms=layer.server_ms, output_bytes=layer.output_bytes)
        graph.add_edges_from(self.edges)
        return graph

    # ------------------------------------------------------------- properties
    @property
    def network(self) -> Network:
        """The device-server link (the one link of the k = 2 model)."""
        return self.links[0]

    @cached_property
    def device_ms(self) -> np.ndarray:
        return np.ascontiguousarray(self.ms[:, 0])

    @cached_property
    def server_ms(self) -> np.ndarray:
        return np.ascontiguousarray(self.ms[:, 1])

    @property
    def upload_ms(self) -> np.ndarray:
        """Per layer: time to send its output over the uplink, in ms."""
        return self.up_ms[0]

    @property
    def download_ms(self) -> np.ndarray:
        """Per layer: time to send its output back over the downlink if it is
        an output computed on the server, else 0; in ms."""
        return self.down_ms[0]

    @property
    def cut_vertices(self) -> list[str]:
        """Layers every input-to-output path passes through, in topological order."""
        return [self.names[i] for i in self.topology.order[self.topology.cut_positions]]

    # ------------------------------------------------------------- assignments
    def device_mask(self, assignment) -> np.ndarray:
        """Boolean mask (by layer index) of the device set of ``assignment``.

        ``assignment`` is ``{"device": [...], "server": [...]}`` (``server``
        optional; if given, the two must be disjoint and cover every layer),
        an iterable of device layer names, or a boolean array.

        Raises
        ------
        InfeasibleAssignmentError
            For unknown names or sides that overlap or miss layers.
        """
        if isinstance(assignment, np.ndarray) and assignment.dtype == bool:
            if assignment.shape != (self.n_layers,):
                raise InfeasibleAssignmentError(f"mask must have shape ({self.n_layers},)")
            return assignment
        server = None
        if isinstance(assignment, Mapping):
            unknown_keys = set(assignment) - set(_TIERS)
            if unknown_keys:
                raise InfeasibleAssignmentError(f"unknown assignment key(s) {sorted(unknown_keys)}")
            device, server = assignment.get("device", []), assignment.get("server")
        else:
            device = assignment
        mask = _names_mask(self, device, "device")
        if server is not None:
            smask = _names_mask(self, server, "server")
            if (mask & smask).any():
                raise InfeasibleAssignmentError(f"layers on both sides: {_named(self, mask & smask)}")
            if not (mask | smask).all():
                raise InfeasibleAssignmentError(f"layers on neither side: {_named(self, ~(mask | smask))}")
        return mask

    def tier_vector(self, assignment) -> np.ndarray:
        """Tier per layer (0 device, 1 server) of any assignment :meth:`device_mask` takes, or a tier vector."""
        if isinstance(assignment, np.ndarray) and assignment.dtype.kind in "iu":
            return super().tier_vector(assignment)
        return (~self.device_mask(assignment)).view(np.int8).astype(np.int64)

    def assignment(self, mask: np.ndarray) -> dict[str, list[str]]:
        """``{"device": [...], "server": [...]}`` from a boolean mask (or a tier vector), layer order."""
        mask = np.asarray(mask)
        return super().assignment(mask if mask.dtype != bool else (~mask).view(np.int8))

    # ------------------------------------------------------------- evaluation
    def _evaluation(self, m: Measures) -> PartitionEvaluation:
        terms = self._breakdown(m)
        return PartitionEvaluation(objective=terms["total_ms"], breakdown=MappingProxyType(terms))

    def _breakdown(self, m: Measures) -> dict[str, float]:
        """The latency term by term (ms), plus bytes moved and the number of device layers."""
        return {"device_compute_ms": m.compute_ms[0], "server_compute_ms": m.compute_ms[1],
                "uplink_ms": m.uplink_ms[0], "downlink_ms": m.downlink_ms[0], "rtt_ms": m.rtt_ms[0],
                "total_ms": m.latency_ms, "uplink_bytes": m.uplink_bytes[0], "downlink_bytes": m.downlink_bytes[0],
                "device_layers": m.layers_per_tier[0]}

    def latency(self, assignment) -> float:
        """Latency in ms of a feasible assignment (:meth:`evaluate`'s objective).

        Raises
        ------
        InfeasibleAssignmentError
            If the assignment violates a constraint (the message says which).
        """
        return self.evaluate(assignment).objective

    def least_device_mask(self) -> np.ndarray:
        """The smallest candidate device set: inputs, device pins and their ancestors. O(n + m), cached."""
        if "_least" not in self.__dict__:
            seeds = list(self.topology.inputs) + [self.index[nm] for nm in self.pinned["device"]]
            least = self.topology.closure_of(seeds) if self.pinned["device"] else np.zeros(self.n_layers, dtype=bool)
            least[self.topology.inputs] = True
            least.flags.writeable = False
            self.__dict__["_least"] = least  # a cache: the problem itself is immutable
        return self.__dict__["_least"]

    def summarize(self, assignment) -> str:
        """A one-line description of a partition for tables."""
        b = self.breakdown(assignment)
        return f"{b['device_layers']}/{self.n_layers} on device, {format_bytes(b['uplink_bytes'])} up"

    def __repr__(self) -> str:
        return (
            f"PartitionProblem(name={self.name!r}, layers={self.n_layers}, edges={len(self.edges)}, "
            f"uplink_mbps={self.network.uplink_mbps})"
        )


def _named(problem, mask: np.ndarray) -> list[str]:
    """The first five layer names of ``mask`` (for messages)."""
    return [problem.names[i] for i in np.flatnonzero(mask)[:5]]


def _names_mask(problem, names, side: str) -> np.ndarray:
    """The mask of a list of layer names (one side of a two-tier assignment). O(len(names))."""
    if isinstance(names, (str, bytes, Mapping)) or not isinstance(names, Iterable):
        raise AssignmentTypeError(
            f"the {side} set must be a list of layer names, got {type(names).__name__}; an assignment is "
            "{'device': [names], 'server': [names]}, a list of device layer names, or a boolean mask"
        )
    idx = layer_indices(problem, names, f"{side} set")
    mask = np.zeros(problem.n_layers, dtype=bool)
    mask[idx] = True
    return mask
