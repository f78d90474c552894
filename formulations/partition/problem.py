"""DNN DAG partitioning between an end device and a server.

A DNN is a DAG of layers. Each layer ``v`` has ``device_ms`` (time on the end
device), ``server_ms`` (time on the server) and ``output_bytes`` (size of its
output tensor). A partition is the set ``D`` of layers run on the device; it
contains every input and is closed under predecessors. Its latency in ms is::

    latency(D) = sum_{v in D} device_ms[v] + sum_{v not in D} server_ms[v]
               + sum_{v in D with a successor not in D} output_bytes[v]*8 / (uplink_mbps*1000)
               + sum_{v not in D without successor} output_bytes[v]*8 / (downlink_mbps*1000)
               + (rtt_ms if D != all layers else 0)

This module holds the data, its validation, and the independent evaluator
(:meth:`PartitionProblem.latency`, :meth:`PartitionProblem.evaluate`,
:meth:`PartitionProblem.breakdown`). Models for solvers live in
:mod:`formulations.partition.cutgraph` (min-cut network) and
:mod:`formulations.partition.ilp` (CP-SAT model).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from pathlib import Path
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ..base import AssignmentTypeError, cached_property, Evaluation, Problem
from ..errors import InfeasibleAssignmentError, InstanceError, OptionError
from .dag import Topology
from .units import RESOURCE_FIELDS, Network, checked_budget, checked_edges, format_bytes, topology_of, transfer_ms
from ..validate import (
    as_bytes,
    as_list,
    as_mapping,
    as_name,
    as_nonneg,
    as_positive,
    check_header,
    naming_file,
    reject_unknown,
    require,
)

__all__ = ["Layer", "Network", "PartitionProblem", "PartitionEvaluation", "RESOURCE_FIELDS", "transfer_ms"]


_LAYER_FIELDS = {"name", "device_ms", "server_ms", "output_bytes", "op", "meta", *RESOURCE_FIELDS}
_TOP_FIELDS = {"kind", "version", "name", "layers", "edges", "network", "pinned", "device_budget", "metadata"}


@dataclass(frozen=True)
class Layer:
    """One DNN layer (a node of the DAG).

    Attributes
    ----------
    name : str
    device_ms, server_ms : float
        Compute time on the end device and on the server, in ms (>= 0).
    output_bytes : int
        Size of the layer's output tensor, in bytes.
    memory_bytes, flops : float, optional
        Resource use on the device, limited by ``device_budget``.
    op : str, optional
        Operator type (informational).
    """

    name: str
    device_ms: float
    server_ms: float
    output_bytes: int
    memory_bytes: float | None = None
    flops: float | None = None
    op: str | None = None
    meta: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class PartitionEvaluation(Evaluation):
    """What :meth:`PartitionProblem.evaluate` returns.

    Attributes
    ----------
    objective : float
        The latency in ms.
    feasible : bool
        Always True (``evaluate`` raises for an infeasible partition).
    breakdown : mapping
        The latency term by term (see :meth:`PartitionProblem.breakdown`).
    """

    breakdown: Mapping[str, float] = field(default_factory=dict)

    @property
    def latency_ms(self) -> float:
        return self.objective


@dataclass
class _Data:
    """Validated arrays, indexed by layer index (order of ``layers``)."""

    names: list[str]
    device_ms: np.ndarray
    server_ms: np.ndarray
    output_bytes: np.ndarray
    resources: dict[str, np.ndarray] = field(default_factory=dict)


class PartitionProblem(Problem):
    """A DNN partitioning instance (``kind: "partition"``).

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

    kind = "partition"
    sense = "min"

    def __init__(
        self,
        layers: Sequence[Layer],
        edges: Iterable[tuple[str, str]],
        network: Network,
        *,
        pinned: Mapping[str, Sequence[str]] | None = None,
        device_budget: Mapping[str, float] | None = None,
        metadata: Mapping[str, Any] | None = None,
        name: str | None = None,
        node_ids: Mapping[str, Any] | None = None,
        _topology: Topology | None = None,
    ):
        self.node_ids = None if node_ids is None else MappingProxyType(dict(node_ids))
        self.layers = tuple(layers)
        self.network = network
        self.metadata = MappingProxyType(dict(metadata or {}))
        self.name = name
        if not self.layers:
            raise InstanceError("the graph has no layers", field="layers")
        self._data = self._arrays(self.layers)
        self.index = {name: i for i, name in enumerate(self._data.names)}
        self.edges = checked_edges(edges, self.index)
        self._check_network(network)
        self.pinned = self._pins(pinned or {})
        self.device_budget = checked_budget(device_budget or {})
        self.topology = _topology if _topology is not None else topology_of(self._data.names, self.index, self.edges)
        self._freeze()

    # ------------------------------------------------------------------ build
    @staticmethod
    def _arrays(layers: Sequence[Layer]) -> _Data:
        names: list[str] = []
        seen: set[str] = set()
        for i, layer in enumerate(layers):
            name = as_name(layer.name, f"layers[{i}].name")
            if name in seen:
                raise InstanceError(f"duplicate layer name {name!r}", field=f"layers[{i}].name")
            seen.add(name)
            names.append(name)
            as_nonneg(layer.device_ms, f"layers[{i}].device_ms")
            as_nonneg(layer.server_ms, f"layers[{i}].server_ms")
            as_bytes(layer.output_bytes, f"layers[{i}].output_bytes")
            for res in RESOURCE_FIELDS:
                if getattr(layer, res) is not None:
                    as_nonneg(getattr(layer, res), f"layers[{i}].{res}")
        data = _Data(
            names=names,
            device_ms=np.array([float(l.device_ms) for l in layers]),
            server_ms=np.array([float(l.server_ms) for l in layers]),
            output_bytes=np.array([int(l.output_bytes) for l in layers], dtype=np.int64),
        )
        for res in RESOURCE_FIELDS:
            if any(getattr(l, res) is not None for l in layers):
                data.resources[res] = np.array([float(getattr(l, res) or 0.0) for l in layers])
        return data

    @staticmethod
    def _check_network(network: Network) -> None:
        as_positive(network.uplink_mbps, "network.uplink_mbps")
        if network.downlink_mbps is not None:
            as_positive(network.downlink_mbps, "network.downlink_mbps")
        as_nonneg(network.rtt_ms, "network.rtt_ms")

    def _pins(self, pinned: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
        pinned = as_mapping(pinned, "pinned")
        out: dict[str, tuple[str, ...]] = {"device": (), "server": ()}
        for side, names in pinned.items():
            if side not in out:
                raise InstanceError(f"unknown side {side!r}; use 'device' or 'server'", field="pinned")
            names = as_list(names, f"pinned.{side}")
            for k, nm in enumerate(names):
                if not isinstance(nm, str) or nm not in self.index:
                    raise InstanceError(f"unknown layer {nm!r}", field=f"pinned.{side}[{k}]")
            out[side] = tuple(dict.fromkeys(names))
        both = set(out["device"]) & set(out["server"])
        if both:
            raise InstanceError(f"layers pinned to both sides: {sorted(both)}", field="pinned")
        return MappingProxyType(out)

    # ----------------------------------------------------------- constructors
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, file: str | None = None, base_dir=None) -> "PartitionProblem":
        """Build from an instance dict (the JSON format, see README).

        Raises
        ------
        InstanceError
            Naming ``file`` (if given) and the invalid field.
        """
        from .tiers import TieredPartitionProblem, is_tiered_data  # k-tier form (docs/tiers.md)

        if cls is PartitionProblem and is_tiered_data(data):
            return TieredPartitionProblem.from_dict(data, file=file, base_dir=base_dir)
        with naming_file(file):
            check_header(data, "partition")
            reject_unknown(data, _TOP_FIELDS, "<root>")
            raw_layers = as_list(require(data, "layers", "layers"), "layers", nonempty=True)
            layers = []
            for i, raw in enumerate(raw_layers):
                raw = as_mapping(raw, f"layers[{i}]")
                reject_unknown(raw, _LAYER_FIELDS, f"layers[{i}]")
                layers.append(
                    Layer(
                        name=as_name(require(raw, "name", f"layers[{i}].name"), f"layers[{i}].name"),
                        device_ms=as_nonneg(require(raw, "device_ms", f"layers[{i}].device_ms"), f"layers[{i}].device_ms"),
                        server_ms=as_nonneg(require(raw, "server_ms", f"layers[{i}].server_ms"), f"layers[{i}].server_ms"),
                        output_bytes=as_bytes(require(raw, "output_bytes", f"layers[{i}].output_bytes"), f"layers[{i}].output_bytes"),
                        memory_bytes=raw.get("memory_bytes"),
                        flops=raw.get("flops"),
                        op=raw.get("op"),
                        meta=raw.get("meta"),
                    )
                )
            edges = as_list(data.get("edges", []), "edges")
            net = as_mapping(require(data, "network", "network"), "network")
            reject_unknown(net, ("uplink_mbps", "downlink_mbps", "rtt_ms"), "network")
            network = Network(
                uplink_mbps=as_positive(require(net, "uplink_mbps", "network.uplink_mbps"), "network.uplink_mbps"),
                downlink_mbps=None if net.get("downlink_mbps") is None else as_positive(net["downlink_mbps"], "network.downlink_mbps"),
                rtt_ms=as_nonneg(net.get("rtt_ms", 0.0), "network.rtt_ms"),
            )
            metadata = as_mapping(data.get("metadata", {}), "metadata")
            name = data.get("name") or (Path(file).stem if file else None)
            return cls(
                layers,
                edges,
                network,
                pinned=data.get("pinned"),
                device_budget=data.get("device_budget"),
                metadata=metadata,
                name=name,
            )

    @classmethod
    def from_lists(
        cls,
        names: Sequence[str],
        device_ms: Sequence[float],
        server_ms: Sequence[float],
        output_bytes: Sequence[int],
        edges: Iterable[tuple[str, str]],
        *,
        uplink_mbps: float,
        downlink_mbps: float | None = None,
        rtt_ms: float = 0.0,
        **kwargs,
    ) -> "PartitionProblem":
        """Build from parallel lists (one entry per layer).

        Examples
        --------
        >>> p = PartitionProblem.from_lists(
        ...     ["in", "conv", "fc"], [0, 30, 5], [0, 3, 0.5], [150528, 4096, 40],
        ...     [("in", "conv"), ("conv", "fc")], uplink_mbps=10)
        >>> round(p.latency({"in"}), 3)
        123.954
        """
        names, device_ms, server_ms, output_bytes = (_plain_list(v) for v in (names, device_ms, server_ms, output_bytes))
        lengths = {len(names), len(device_ms), len(server_ms), len(output_bytes)}
        if len(lengths) != 1:
            raise InstanceError("names, device_ms, server_ms and output_bytes differ in length", field="layers")
        layers = [Layer(n, d, s, b) for n, d, s, b in zip(names, device_ms, server_ms, output_bytes)]
        edges = [tuple(_plain_list(e)) if isinstance(e, (list, tuple, np.ndarray)) else e for e in edges]
        return cls(layers, edges, _network(uplink_mbps, downlink_mbps, rtt_ms), **kwargs)

    @classmethod
    def from_networkx(
        cls,
        graph,
        *,
        uplink_mbps: float,
        downlink_mbps: float | None = None,
        rtt_ms: float = 0.0,
        device_ms: str = "device_ms",
        server_ms: str = "server_ms",
        output_bytes: str = "output_bytes",
        **kwargs,
    ) -> "PartitionProblem":
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
        layers, node_ids = [], {}
        for node, attrs in graph.nodes(data=True):
            name = str(node)
            if name in node_ids:
                raise InstanceError(f"nodes {node_ids[name]!r} and {node!r} have the same name {name!r}", field=f"node {node!r}")
            node_ids[name] = node
            values = {}
            for role, attr in (("device_ms", device_ms), ("server_ms", server_ms), ("output_bytes", output_bytes),
                               *((r, r) for r in RESOURCE_FIELDS)):
                if attr not in attrs:
                    if role in RESOURCE_FIELDS:
                        continue
                    raise InstanceError(f"lacks attribute {attr!r} ({role})", field=f"node {node!r}")
                check = as_bytes if role == "output_bytes" else as_nonneg
                values[role] = check(_plain(attrs[attr]), f"node {node!r} attribute {attr!r}")
            layers.append(Layer(name, **values))
        edges = [(str(u), str(v)) for u, v in graph.edges()]
        return cls(layers, edges, _network(uplink_mbps, downlink_mbps, rtt_ms), node_ids=node_ids, **kwargs)

    def to_node_ids(self, assignment) -> dict[str, list]:
        """An assignment with the original node ids of :meth:`from_networkx`
        (layer names for a problem built otherwise)."""
        mask = self.device_mask(assignment)
        ids = self.node_ids or {}
        named = self.assignment(mask)
        return {side: [ids.get(nm, nm) for nm in layer_names] for side, layer_names in named.items()}

    def with_network(self, *, uplink_mbps=None, downlink_mbps=None, rtt_ms=None) -> "PartitionProblem":
        """A copy with some network fields replaced, sharing the graph structure.

        Fields left as ``None`` keep their value. Costs O(n) (no re-sort).
        """
        net = Network(
            self.network.uplink_mbps if uplink_mbps is None else uplink_mbps,
            self.network.downlink_mbps if downlink_mbps is None else downlink_mbps,
            self.network.rtt_ms if rtt_ms is None else rtt_ms,
        )
        clone = object.__new__(type(self))
        clone.__dict__.update(
            {k: v for k, v in self.__dict__.items() if k not in ("network", "upload_ms", "download_ms")}
        )
        self._check_network(net)
        clone.__dict__["network"] = net
        return clone

    def replace(self, **changes) -> "PartitionProblem":
        """A validated copy with some constructor arguments replaced.

        Parameters
        ----------
        **changes
            Any of ``layers``, ``edges``, ``network``, ``pinned``,
            ``device_budget``, ``metadata``, ``name``.

        Examples
        --------
        >>> p = PartitionProblem.from_lists(["in", "fc"], [0, 5], [0, 1], [100, 4], [("in", "fc")], uplink_mbps=10)
        >>> p.replace(name="renamed").name
        'renamed'
        """
        args = dict(layers=self.layers, edges=self.edges, network=self.network, pinned=self.pinned,
                    device_budget=self.device_budget, metadata=self.metadata, name=self.name, node_ids=self.node_ids)
        unknown = set(changes) - set(args)
        if unknown:
            raise TypeError(f"replace() got unknown field(s) {sorted(unknown)}; known: {sorted(args)}")
        args.update(changes)
        if not isinstance(args["network"], Network):
            raise OptionError(f"replace(network=...) needs a Network (see with_network), got {args['network']!r}")
        layers, edges, network = args.pop("layers"), args.pop("edges"), args.pop("network")
        return PartitionProblem(layers, edges, network, **args)

    def to_dict(self) -> dict:
        """The instance as a JSON-ready dict (``kind: "partition"``, version 1)."""
        layers = []
        for layer in self.layers:
            item: dict[str, Any] = {
                "name": layer.name,
                "device_ms": float(layer.device_ms),
                "server_ms": float(layer.server_ms),
                "output_bytes": int(layer.output_bytes),
            }
            for key in (*RESOURCE_FIELDS, "op", "meta"):
                if getattr(layer, key) is not None:
                    item[key] = getattr(layer, key)
            layers.append(item)
        out: dict[str, Any] = {"kind": "partition", "version": 1}
        if self.name:
            out["name"] = self.name
        out["network"] = self.network.to_dict()
        out["layers"] = layers
        out["edges"] = [list(e) for e in self.edges]
        if any(self.pinned.values()):
            out["pinned"] = {k: list(v) for k, v in self.pinned.items() if v}
        if self.device_budget:
            out["device_budget"] = dict(self.device_budget)
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        return out

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
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def names(self) -> list[str]:
        return self._data.names

    @property
    def device_ms(self) -> np.ndarray:
        return self._data.device_ms

    @property
    def server_ms(self) -> np.ndarray:
        return self._data.server_ms

    @property
    def output_bytes(self) -> np.ndarray:
        return self._data.output_bytes

    @property
    def resources(self) -> dict[str, np.ndarray]:
        """Per-layer resource arrays (only those some layer declares)."""
        return self._data.resources

    @cached_property
    def upload_ms(self) -> np.ndarray:
        """Per layer: time to send its output over the uplink, in ms."""
        return transfer_ms(self.output_bytes.astype(float), self.network.uplink_mbps)

    @cached_property
    def download_ms(self) -> np.ndarray:
        """Per layer: time to send its output back over the downlink if it is
        an output computed on the server, else 0; in ms."""
        out = np.zeros(self.n_layers)
        sinks = self.topology.sinks
        out[sinks] = transfer_ms(self.output_bytes[sinks].astype(float), self.network.effective_downlink_mbps)
        return out

    @property
    def inputs(self) -> list[str]:
        """Layers without predecessors (always on the device)."""
        return [self.names[i] for i in self.topology.inputs]

    @property
    def outputs(self) -> list[str]:
        """Layers without successors."""
        return [self.names[i] for i in self.topology.sinks]

    @property
    def cut_vertices(self) -> list[str]:
        """Layers every input-to-output path passes through, in topological order."""
        return [self.names[i] for i in self.topology.order[self.topology.cut_positions]]

    # ------------------------------------------------------------- evaluation
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
            unknown_keys = set(assignment) - {"device", "server"}
            if unknown_keys:
                raise InfeasibleAssignmentError(f"unknown assignment key(s) {sorted(unknown_keys)}")
            device = assignment.get("device", [])
            server = assignment.get("server")
        else:
            device = assignment
        mask = self._names_mask(device, "device")
        if server is not None:
            smask = self._names_mask(server, "server")
            if (mask & smask).any():
                both = [self.names[i] for i in np.flatnonzero(mask & smask)]
                raise InfeasibleAssignmentError(f"layers on both sides: {both[:5]}")
            if not (mask | smask).all():
                missing = [self.names[i] for i in np.flatnonzero(~(mask | smask))]
                raise InfeasibleAssignmentError(f"layers on neither side: {missing[:5]}")
        return mask

    def _names_mask(self, names, side: str) -> np.ndarray:
        index = self.index
        if isinstance(names, (str, bytes, Mapping)) or not isinstance(names, Iterable):
            raise AssignmentTypeError(
                f"the {side} set must be a list of layer names, got {type(names).__name__}; an assignment is "
                "{'device': [names], 'server': [names]}, a list of device layer names, or a boolean mask"
            )
        names = list(names)
        try:
            idx = [index[nm] for nm in names]
        except (KeyError, TypeError):  # an unknown or unhashable name: find it for the message
            bad = next(nm for nm in names if not isinstance(nm, str) or nm not in index)
            raise InfeasibleAssignmentError(f"unknown layer {bad!r} in {side} set") from None
        mask = np.zeros(self.n_layers, dtype=bool)
        mask[idx] = True
        return mask

    def violations(self, assignment) -> list[str]:
        """Every constraint the assignment violates, in words (empty if feasible)."""
        mask = self.device_mask(assignment)
        out = []
        topo = self.topology
        missing = [self.names[i] for i in topo.inputs if not mask[i]]
        if missing:
            out.append(f"inputs not on the device: {missing[:5]}")
        back = mask[topo.dst] & ~mask[topo.src]
        if back.any():
            k = int(np.flatnonzero(back)[0])
            out.append(
                f"not closed under predecessors: {self.names[topo.dst[k]]!r} on device "
                f"but its predecessor {self.names[topo.src[k]]!r} on server"
            )
        for nm in self.pinned["device"]:
            if not mask[self.index[nm]]:
                out.append(f"{nm!r} is pinned to the device")
        for nm in self.pinned["server"]:
            if mask[self.index[nm]]:
                out.append(f"{nm!r} is pinned to the server")
        for res, limit in self.device_budget.items():
            used = float(self.resources.get(res, np.zeros(self.n_layers))[mask].sum())
            if used > limit * (1 + 1e-12):
                out.append(f"device {res} {used:g} exceeds the budget {limit:g}")
        return out

    def breakdown(self, assignment) -> dict[str, float]:
        """The latency of ``assignment`` term by term (ms), plus bytes moved.

        Does not check feasibility (see :meth:`violations`).
        """
        mask = self.device_mask(assignment)
        topo = self.topology
        on_server = ~mask
        crossing = mask[topo.src] & on_server[topo.dst]
        senders = np.unique(topo.src[crossing])
        returned = topo.sinks[on_server[topo.sinks]]
        up_bytes = int(self.output_bytes[senders].sum())
        down_bytes = int(self.output_bytes[returned].sum())
        terms = {
            "device_compute_ms": float(self.device_ms[mask].sum()),
            "server_compute_ms": float(self.server_ms[on_server].sum()),
            "uplink_ms": transfer_ms(up_bytes, self.network.uplink_mbps),
            "downlink_ms": transfer_ms(down_bytes, self.network.effective_downlink_mbps),
            "rtt_ms": self.network.rtt_ms if on_server.any() else 0.0,
        }
        terms["total_ms"] = math.fsum(terms.values())
        terms["uplink_bytes"] = up_bytes
        terms["downlink_bytes"] = down_bytes
        terms["device_layers"] = int(mask.sum())
        return terms

    def latency(self, assignment) -> float:
        """Latency in ms of a feasible assignment.

        Computed from the formula alone, independent of every solver.

        Raises
        ------
        InfeasibleAssignmentError
            If the assignment violates a constraint (the message says which).
        """
        mask = self.device_mask(assignment)
        problems = self.violations(mask)
        if problems:
            raise InfeasibleAssignmentError("; ".join(problems))
        return self.breakdown(mask)["total_ms"]

    def evaluate(self, assignment) -> PartitionEvaluation:
        """Evaluate a partition independently of every solver.

        Parameters
        ----------
        assignment : dict, iterable of str, or bool array
            See :meth:`device_mask`.

        Returns
        -------
        PartitionEvaluation
            ``.objective`` is the latency in ms (:meth:`latency`),
            ``.breakdown`` its terms.

        Raises
        ------
        InfeasibleAssignmentError
            For unknown layers or a violated constraint (the message says which).
        TypeError
            For an assignment of the wrong type (the message says what is expected).

        Notes
        -----
        O(n + m).
        """
        mask = self.device_mask(assignment)
        problems = self.violations(mask)
        if problems:
            raise InfeasibleAssignmentError("; ".join(problems))
        terms = self.breakdown(mask)
        return PartitionEvaluation(objective=terms["total_ms"], breakdown=MappingProxyType(terms))

    # ------------------------------------------------------------ solver aids
    def assignment(self, mask: np.ndarray) -> dict[str, list[str]]:
        """``{"device": [...], "server": [...]}`` from a boolean mask (layer order)."""
        names = self.names
        return {
            "device": [names[i] for i in np.flatnonzero(mask)],
            "server": [names[i] for i in np.flatnonzero(~mask)],
        }

    def infeasibility_reason(self) -> str | None:
        """Why no partition is feasible (contradicting pins or budget), or None.

        The least device set is the closure of the inputs and the device
        pins; the instance is feasible iff that set holds no server pin and
        fits the budget (resources are non-negative).
        """
        least = self.least_device_mask()
        for nm in self.pinned["server"]:
            if least[self.index[nm]]:
                if self.index[nm] in set(self.topology.inputs.tolist()):
                    return f"input layer {nm!r} is pinned to the server"
                return f"{nm!r} is pinned to the server but a device-pinned layer depends on it"
        for res, limit in self.device_budget.items():
            used = float(self.resources.get(res, np.zeros(self.n_layers))[least].sum())
            if used > limit * (1 + 1e-12):
                return f"the inputs and device pins alone use {res} {used:g} > budget {limit:g}"
        return None

    def least_device_mask(self) -> np.ndarray:
        """The smallest candidate device set: inputs, device pins and their ancestors."""
        if "_least" not in self.__dict__:
            if self.pinned["device"]:
                seeds = list(self.topology.inputs) + [self.index[nm] for nm in self.pinned["device"]]
                least = self.topology.closure_of(seeds)
            else:
                least = np.zeros(self.n_layers, dtype=bool)
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


def _plain(value):
    """A numpy scalar or 0-d array as the Python number it holds; anything else unchanged."""
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value.item()
    return value


def _plain_list(values) -> list:
    """A sequence (list, tuple, numpy array) as a list of plain Python values."""
    if isinstance(values, np.ndarray):
        return values.tolist()
    return [_plain(v) for v in values]


def _network(uplink_mbps, downlink_mbps, rtt_ms) -> Network:
    return Network(_plain(uplink_mbps), _plain(downlink_mbps), _plain(rtt_ms))
