"""Layer placement across a heterogeneous cluster (kind ``"placement"``; EdgeShard, exo, DistrEE).

A chain of layers (a decoder's blocks, or a CNN's blocks between cut
vertices) is split into contiguous ranges, each run by one device; devices
are used at most once, in an order that is part of the plan, and may be left
unused. Activations pass from stage to stage over per-pair links.

Times (ms):

- a layer on a device: ``ms[device]`` when given, else the roofline
  ``max(gflop / gflops * 1000, weight_mb / mem_gbps)``;
- a transfer of ``b`` bytes over a link: ``b * 8 / (mbps * 1000) + latency_ms``
  (none between the same device): ``input_bytes`` from ``source`` to the first
  stage, each stage's last ``output_bytes`` to the next stage, the final
  ``output_bytes`` back to ``source``.

Objectives: ``"latency"`` (ms per token or frame, minimized) is the sum of the
stages' compute and every transfer; ``"throughput"`` (tokens or frames per s,
maximized) is ``1000 / period``, the period being the largest stage compute or
transfer time without its ``latency_ms`` (a pipeline of frames).

Optional ``constraints.latency_max_ms``: a cap on the latency (a video app
maximizing frames/s that still wants each frame in time).

Memory (MB): on each device, the sum over its layers of ``weight_mb +
kv_bytes_per_token * context_tokens / 1e6`` is at most ``memory_mb``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from ..base import Evaluation, Problem, cached_property, require_mapping
from ..errors import InfeasibleAssignmentError, InstanceError
from ..partition.units import transfer_ms
from ..validate import (
    as_list,
    as_mapping,
    as_name,
    as_nonneg,
    as_positive,
    check_header,
    reject_unknown,
    require,
)
from ..tolerances import FEASIBILITY_RTOL

__all__ = ["PlacementProblem", "PlacementEvaluation", "Device", "PlacementLayer", "OBJECTIVES", "MEMORY_RTOL"]

OBJECTIVES = ("latency", "throughput")
#: Relative tolerance of the memory check (float sums of many layers).
MEMORY_RTOL = FEASIBILITY_RTOL

_TOP = {"kind", "version", "name", "layers", "input_bytes", "devices", "network", "source", "objective",
        "context_tokens", "constraints", "metadata"}
#: Relative tolerance of ``constraints.latency_max_ms``.
LATENCY_RTOL = FEASIBILITY_RTOL
_LAYER = {"name", "gflop", "weight_mb", "output_bytes", "kv_bytes_per_token", "ms", "meta"}
_DEVICE = {"name", "gflops", "mem_gbps", "memory_mb", "meta"}


@dataclasses.dataclass(frozen=True)
class PlacementLayer:
    """One layer of the chain: work (GFLOP), weights (MB), output (bytes), KV cache per token (bytes),
    and measured times per device name (ms), which override the roofline."""

    name: str
    gflop: float = 0.0
    weight_mb: float = 0.0
    output_bytes: int = 0
    kv_bytes_per_token: float = 0.0
    ms: Mapping[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Device:
    """A device: compute (GFLOP/s), memory bandwidth (GB/s) and memory (MB)."""

    name: str
    gflops: float
    mem_gbps: float
    memory_mb: float


@dataclasses.dataclass(frozen=True)
class PlacementEvaluation(Evaluation):
    """``objective``: ms (latency) or tokens/s (throughput); the terms of the plan.

    Attributes
    ----------
    latency_ms : float
        Compute plus every transfer, latencies included.
    period_ms : float
        The largest stage compute or transfer time (without link latency).
    stage_ms, transfer_ms : tuple of float
        Compute per stage; transfers in order (source -> first, between
        stages, last -> source), link latency included.
    memory_mb : dict
        Memory used per device in the plan.
    """

    latency_ms: float = 0.0
    period_ms: float = 0.0
    stage_ms: tuple = ()
    transfer_ms: tuple = ()
    memory_mb: Mapping[str, float] = dataclasses.field(default_factory=dict)


class PlacementProblem(Problem):
    """A chain of layers to place on a cluster of devices (see the module docstring)."""

    kind = "placement"

    def __init__(self, layers: Sequence[PlacementLayer], devices: Sequence[Device], *, input_bytes: int = 0,
                 default_link: tuple[float, float] = (1000.0, 0.0), links: Mapping | None = None,
                 source: str | None = None, objective: str = "latency", context_tokens: int = 0,
                 constraints: Mapping | None = None, name: str | None = None, metadata: Mapping | None = None):
        self.layers = tuple(layers)
        self.devices = tuple(devices)
        if not self.layers:
            raise InstanceError("needs at least one layer", field="layers")
        if not self.devices:
            raise InstanceError("needs at least one device", field="devices")
        self.device_names = tuple(d.name for d in self.devices)
        self.device_index = MappingProxyType({nm: i for i, nm in enumerate(self.device_names)})
        self.layer_names = tuple(layer.name for layer in self.layers)
        for what, names in (("devices", self.device_names), ("layers", self.layer_names)):
            if len(set(names)) != len(names):
                dup = next(nm for nm in names if names.count(nm) > 1)
                raise InstanceError(f"duplicate name {dup!r}", field=what)
        if objective not in OBJECTIVES:
            raise InstanceError(f"must be one of {list(OBJECTIVES)}, got {objective!r}", field="objective")
        self.objective = objective
        self.sense = "min" if objective == "latency" else "max"
        self.source = self.device_names[0] if source is None else source
        if self.source not in self.device_index:
            raise InstanceError(f"unknown device {self.source!r}", field="source")
        self.input_bytes = int(input_bytes)
        self.context_tokens = int(context_tokens)
        self.constraints = MappingProxyType(dict(constraints or {}))
        unknown = set(self.constraints) - {"latency_max_ms"}
        if unknown:
            raise InstanceError(f"unknown constraint(s) {sorted(unknown)}; known: ['latency_max_ms']",
                                field="constraints")
        self.default_link = (float(default_link[0]), float(default_link[1]))
        self.links = MappingProxyType(dict(links or {}))
        self.name = name
        self.metadata = MappingProxyType(dict(metadata or {}))
        self._freeze()

    # ------------------------------------------------------------------ data
    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def n_devices(self) -> int:
        return len(self.devices)

    @property
    def unit(self) -> str:
        """The objective's unit."""
        return "ms" if self.objective == "latency" else "tokens/s"

    @cached_property
    def layer_ms(self) -> np.ndarray:
        """(devices, layers) time of each layer on each device (ms): measured, else the roofline."""
        out = np.zeros((self.n_devices, self.n_layers))
        for i, dev in enumerate(self.devices):
            for j, layer in enumerate(self.layers):
                if dev.name in layer.ms:
                    out[i, j] = layer.ms[dev.name]
                else:
                    out[i, j] = max(layer.gflop / dev.gflops * 1000.0, layer.weight_mb / dev.mem_gbps)
        return out

    @cached_property
    def layer_mb(self) -> np.ndarray:
        """(layers,) memory of each layer (MB): weights plus its KV cache at ``context_tokens``."""
        return np.array([layer.weight_mb + layer.kv_bytes_per_token * self.context_tokens / 1e6
                         for layer in self.layers])

    @cached_property
    def memory_mb(self) -> np.ndarray:
        return np.array([d.memory_mb for d in self.devices])

    @cached_property
    def link_mbps(self) -> np.ndarray:
        """(devices, devices) bandwidth of each pair (Mbps; inf on the diagonal: no transfer)."""
        out = np.full((self.n_devices, self.n_devices), self.default_link[0])
        for (a, b), (mbps, _) in self.links.items():
            out[a, b] = out[b, a] = mbps
        np.fill_diagonal(out, np.inf)
        return out

    @cached_property
    def link_latency_ms(self) -> np.ndarray:
        """(devices, devices) latency of each pair (ms; 0 on the diagonal)."""
        out = np.full((self.n_devices, self.n_devices), self.default_link[1])
        for (a, b), (_, latency) in self.links.items():
            out[a, b] = out[b, a] = latency
        np.fill_diagonal(out, 0.0)
        return out

    def transfer(self, a: int, b: int, nbytes: float, *, with_latency: bool = True) -> float:
        """Transfer time (ms) of ``nbytes`` from device ``a`` to ``b`` (0 when ``a == b``)."""
        if a == b:
            return 0.0
        return float(transfer_ms(nbytes, self.link_mbps[a, b])) + (self.link_latency_ms[a, b] if with_latency else 0.0)

    # ------------------------------------------------------------ evaluation
    def stages(self, plan) -> list[tuple[int, int, int]]:
        """``[(device index, first layer, end layer)]`` of a plan, checked for form (not memory)."""
        plan = require_mapping(plan, '{"stages": [{"device": ..., "layers": [...]}, ...]}')
        raw = plan.get("stages")
        if not isinstance(raw, (list, tuple)) or not raw:
            raise InfeasibleAssignmentError('a plan needs a non-empty list "stages"')
        out, used, nxt = [], set(), 0
        layer_index = {nm: j for j, nm in enumerate(self.layer_names)}
        for k, stage in enumerate(raw):
            if not isinstance(stage, Mapping) or "device" not in stage or "layers" not in stage:
                raise InfeasibleAssignmentError(f"stage {k} needs 'device' and 'layers'")
            dev = stage["device"]
            if dev not in self.device_index:
                raise InfeasibleAssignmentError(f"stage {k}: unknown device {dev!r}")
            if dev in used:
                raise InfeasibleAssignmentError(f"stage {k}: device {dev!r} used twice")
            used.add(dev)
            idx = [layer_index.get(nm, -1) for nm in stage["layers"]]
            if not idx or idx != list(range(nxt, nxt + len(idx))):
                raise InfeasibleAssignmentError(
                    f"stage {k}: layers must continue the chain in order from {self.layer_names[nxt]!r}"
                    if nxt < self.n_layers else f"stage {k}: every layer is already placed")
            out.append((self.device_index[dev], nxt, nxt + len(idx)))
            nxt += len(idx)
        if nxt != self.n_layers:
            raise InfeasibleAssignmentError(f"layers from {self.layer_names[nxt]!r} on are not placed")
        return out

    def measure(self, plan) -> PlacementEvaluation:
        """Every term of ``plan`` (raises only on a malformed plan; memory reported in ``violations``)."""
        stages = self.stages(plan)
        src = self.device_index[self.source]
        compute = [float(self.layer_ms[d, a:b].sum()) for d, a, b in stages]
        hops = [(src, stages[0][0], self.input_bytes)]
        hops += [(stages[k][0], stages[k + 1][0], self.layers[stages[k][2] - 1].output_bytes)
                 for k in range(len(stages) - 1)]
        hops.append((stages[-1][0], src, self.layers[-1].output_bytes))
        transfers = [self.transfer(a, b, nbytes) for a, b, nbytes in hops]
        bandwidth = [self.transfer(a, b, nbytes, with_latency=False) for a, b, nbytes in hops]
        memory = {self.device_names[d]: math.fsum(self.layer_mb[a:b]) for d, a, b in stages}
        violations = tuple(f"{dev} needs {used:.6g} MB > memory_mb {self.memory_mb[self.device_index[dev]]:.6g}"
                           for dev, used in memory.items()
                           if used > self.memory_mb[self.device_index[dev]] * (1 + MEMORY_RTOL))
        latency = math.fsum(compute) + math.fsum(transfers)
        cap = self.constraints.get("latency_max_ms")
        if cap is not None and latency > cap * (1 + LATENCY_RTOL):
            violations += (f"latency {latency:.6g} ms > latency_max_ms {cap:.6g}",)
        period = max(compute + bandwidth)
        objective = latency if self.objective == "latency" else (math.inf if period <= 0 else 1000.0 / period)
        return PlacementEvaluation(objective, not violations, violations, latency, period, tuple(compute),
                                   tuple(transfers), memory)

    def evaluate(self, plan) -> PlacementEvaluation:
        """The objective of ``plan`` (ms or tokens/s) and its terms.

        Raises
        ------
        InfeasibleAssignmentError
            A malformed plan (unknown or repeated device, layers out of
            order or missing) or a device over its ``memory_mb``.
        """
        ev = self.measure(plan)
        if ev.violations:
            raise InfeasibleAssignmentError(ev.violations[0])
        return ev

    def violations(self, plan) -> list[str]:
        return list(self.measure(plan).violations)

    def plan(self, stages: Sequence[tuple[int, int, int]]) -> dict:
        """The plan dict of ``[(device index, first layer, end layer)]``."""
        return {"stages": [{"device": self.device_names[d], "layers": list(self.layer_names[a:b])}
                           for d, a, b in stages]}

    def summarize(self, plan) -> str:
        ev = self.measure(plan)
        parts = " | ".join(f"{s['device']}: {len(s['layers'])}" for s in plan["stages"])
        return f"{parts}; {ev.latency_ms:.2f} ms, {1000.0 / ev.period_ms if ev.period_ms else math.inf:.2f}/s"

    def infeasibility_reason(self) -> str | None:
        """Why no plan can fit memory, when a single layer is heavier than every device (else None)."""
        biggest = float(self.memory_mb.max())
        for j, mb in enumerate(self.layer_mb):
            if mb > biggest * (1 + MEMORY_RTOL):
                return f"layer {self.layer_names[j]!r} needs {mb:.6g} MB, more than any device has ({biggest:.6g} MB)"
        if float(self.layer_mb.sum()) > float(self.memory_mb.sum()) * (1 + MEMORY_RTOL):
            return (f"the layers need {float(self.layer_mb.sum()):.6g} MB, more than all devices together "
                    f"({float(self.memory_mb.sum()):.6g} MB)")
        return None

    # ------------------------------------------------------------------- I/O
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, file: str | None = None, base_dir=None) -> "PlacementProblem":
        """Read the ``"placement"`` format (see docs/placement.md); errors name the field."""
        check_header(data, "placement")
        reject_unknown(data, _TOP, "<root>")
        devices = [_device(raw, k) for k, raw in enumerate(as_list(require(data, "devices", "devices"), "devices",
                                                                   nonempty=True))]
        known = {d.name for d in devices}
        layers = [_layer(raw, k, known) for k, raw in enumerate(as_list(require(data, "layers", "layers"), "layers",
                                                                        nonempty=True))]
        index = {d.name: i for i, d in enumerate(devices)}
        default, links = _network(data.get("network", {}), index)
        source = data.get("source")
        if source is not None:
            source = as_name(source, "source")
            if source not in index:
                raise InstanceError(f"unknown device {source!r}", field="source")
        constraints = {}
        for key, value in as_mapping(data.get("constraints", {}), "constraints").items():
            if key != "latency_max_ms":
                raise InstanceError(f"unknown constraint {key!r}; known: ['latency_max_ms']", field="constraints")
            constraints[key] = as_nonneg(value, f"constraints.{key}")
        return cls(layers, devices, input_bytes=_whole(data.get("input_bytes", 0), "input_bytes"),
                   constraints=constraints,
                   default_link=default, links=links, source=source, objective=data.get("objective", "latency"),
                   context_tokens=_whole(data.get("context_tokens", 0), "context_tokens"),
                   name=data.get("name"), metadata=as_mapping(data.get("metadata", {}), "metadata"))

    def to_dict(self) -> dict:
        names = self.device_names
        out = {"kind": "placement", "version": 1}
        if self.name:
            out["name"] = self.name
        out["layers"] = [{"name": l.name, "gflop": l.gflop, "weight_mb": l.weight_mb, "output_bytes": l.output_bytes,
                          "kv_bytes_per_token": l.kv_bytes_per_token, **({"ms": dict(l.ms)} if l.ms else {})}
                         for l in self.layers]
        out["input_bytes"] = self.input_bytes
        out["devices"] = [{"name": d.name, "gflops": d.gflops, "mem_gbps": d.mem_gbps, "memory_mb": d.memory_mb}
                          for d in self.devices]
        out["network"] = {"default": {"mbps": self.default_link[0], "latency_ms": self.default_link[1]},
                          "links": [{"between": [names[a], names[b]], "mbps": m, "latency_ms": lat}
                                    for (a, b), (m, lat) in sorted(self.links.items())]}
        out["source"] = self.source
        out["objective"] = self.objective
        out["context_tokens"] = self.context_tokens
        if self.constraints:
            out["constraints"] = dict(self.constraints)
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        return out

    def __repr__(self) -> str:
        return (f"PlacementProblem(name={self.name!r}, layers={self.n_layers}, devices={self.n_devices}, "
                f"objective={self.objective!r})")


def _whole(value: Any, field: str) -> int:
    number = as_nonneg(value, field)
    if number != int(number):
        raise InstanceError(f"must be a whole number, got {value!r}", field=field)
    return int(number)


def _device(raw: Any, k: int) -> Device:
    fld = f"devices[{k}]"
    raw = as_mapping(raw, fld)
    reject_unknown(raw, _DEVICE, fld)
    return Device(as_name(require(raw, "name", f"{fld}.name"), f"{fld}.name"),
                  as_positive(require(raw, "gflops", f"{fld}.gflops"), f"{fld}.gflops"),
                  as_positive(require(raw, "mem_gbps", f"{fld}.mem_gbps"), f"{fld}.mem_gbps"),
                  as_nonneg(require(raw, "memory_mb", f"{fld}.memory_mb"), f"{fld}.memory_mb"))


def _layer(raw: Any, k: int, devices: set) -> PlacementLayer:
    fld = f"layers[{k}]"
    raw = as_mapping(raw, fld)
    reject_unknown(raw, _LAYER, fld)
    ms = {}
    for dev, value in as_mapping(raw.get("ms", {}), f"{fld}.ms").items():
        if dev not in devices:
            raise InstanceError(f"unknown device {dev!r}", field=f"{fld}.ms")
        ms[dev] = as_nonneg(value, f"{fld}.ms.{dev}")
    return PlacementLayer(as_name(require(raw, "name", f"{fld}.name"), f"{fld}.name"),
                          as_nonneg(raw.get("gflop", 0.0), f"{fld}.gflop"),
                          as_nonneg(raw.get("weight_mb", 0.0), f"{fld}.weight_mb"),
                          _whole(raw.get("output_bytes", 0), f"{fld}.output_bytes"),
                          as_nonneg(raw.get("kv_bytes_per_token", 0.0), f"{fld}.kv_bytes_per_token"),
                          MappingProxyType(ms))


def _link(raw: Any, fld: str) -> tuple[float, float]:
    raw = as_mapping(raw, fld)
    reject_unknown(raw, {"mbps", "latency_ms", "between"}, fld)
    return (as_positive(require(raw, "mbps", f"{fld}.mbps"), f"{fld}.mbps"),
            as_nonneg(raw.get("latency_ms", 0.0), f"{fld}.latency_ms"))


def _network(raw: Any, index: Mapping[str, int]):
    raw = as_mapping(raw, "network")
    reject_unknown(raw, {"default", "links"}, "network")
    default = _link(raw["default"], "network.default") if "default" in raw else (1000.0, 0.0)
    links = {}
    for k, item in enumerate(as_list(raw.get("links", []), "network.links")):
        fld = f"network.links[{k}]"
        pair = as_list(require(as_mapping(item, fld), "between", f"{fld}.between"), f"{fld}.between")
        if len(pair) != 2 or pair[0] == pair[1]:
            raise InstanceError("needs two different device names", field=f"{fld}.between")
        for dev in pair:
            if dev not in index:
                raise InstanceError(f"unknown device {dev!r}", field=f"{fld}.between")
        a, b = sorted((index[pair[0]], index[pair[1]]))
        if (a, b) in links:
            raise InstanceError(f"a second link between {pair[0]!r} and {pair[1]!r}", field=fld)
        links[(a, b)] = _link(item, fld)
    return default, links
