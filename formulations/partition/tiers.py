"""DNN DAG partitioning over k >= 2 tiers (device, edge, cloud, ...), for latency and energy.

A layer ``v`` runs on tier ``t(v)`` in ``0..k-1`` (tier 0 holds the data's
source, e.g. the phone; higher tiers are further out). An assignment is
feasible when every layer without predecessors is on tier 0, ``t(u) <= t(v)``
on every edge ``u -> v`` (data only moves outward), the pins hold, and the
optional constraints and ``device_budget`` hold.

Latency (ms)::

    sum_v ms[v][t(v)]
    + sum over links b = 0..k-2 (link b joins tier b and tier b + 1) of
        sum_{v: t(v) <= b < max_{w successor of v} t(w)} up_b[v]
      + sum_{v without successor, t(v) > b} down_b[v]
      + rtt_b   if some layer has t > b

with ``up_b[v] = output_bytes[v]*8 / (uplink_mbps_b*1000)`` and
``down_b[v] = output_bytes[v]*8 / (downlink_mbps_b*1000)``. For k = 2 this is
:class:`~formulations.partition.PartitionProblem`'s latency exactly.

Energy of the device (tier 0), in mJ (times in ms, powers in W)::

    sum_{t(v)=0} device_mj[v] + tx_w * U_0 + rx_w * W_0
    + idle_w * (latency - sum_{t(v)=0} ms[v][0] - U_0 - W_0)

where ``U_0``/``W_0`` are the uplink/downlink times on link 0 and
``device_mj[v]`` defaults to ``compute_w * ms[v][0]``. With a ``radio``
(:mod:`formulations.partition.radio`: a preset ``"wifi"``, ``"lte"``,
``"3g"`` or explicit values) ``tx_w``, ``rx_w`` and ``idle_w`` come from
the radio at link 0's rates, and every assignment that uses link 0 adds the
radio's promotion + tail energy ``burst_mj`` once (one burst per inference).

Objective: ``"latency"`` (default), ``"energy"`` or
``{"weighted": {"latency": a, "energy": b}}`` (``a*latency + b*energy``);
constraints ``latency_max_ms`` and ``energy_max_mj`` (checked with a relative
tolerance of :data:`TOLERANCE`).

This module holds the data, validation and the independent evaluator
(:meth:`TieredPartitionProblem.evaluate`); the min-cut network is in
:mod:`formulations.partition.tier_cutgraph`, the CP-SAT model in
:mod:`formulations.partition.tier_ilp`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..base import Problem, require_mapping
from ..errors import InfeasibleAssignmentError, InstanceError
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
from .radio import RadioModel, radio_from_spec
from .units import RESOURCE_FIELDS, Network, checked_budget, checked_edges, topology_of, transfer_ms

__all__ = [
    "TierLayer",
    "Link",
    "EnergyModel",
    "TierEvaluation",
    "TieredPartitionProblem",
    "is_tiered_data",
    "TOLERANCE",
]

#: Relative tolerance of the ``latency_max_ms`` / ``energy_max_mj`` checks:
#: a value passes when ``value <= limit + TOLERANCE * max(1, |limit|)``.
TOLERANCE = 1e-9

_TOP_FIELDS = {
    "kind", "version", "name", "tiers", "layers", "edges", "network", "pinned", "device_budget",
    "energy", "objective", "constraints", "metadata", "radio",
}
_LAYER_FIELDS = {"name", "ms", "device_ms", "server_ms", "output_bytes", "device_mj", "op", "meta", *RESOURCE_FIELDS}
_ENERGY_FIELDS = ("compute_w", "tx_w", "rx_w", "idle_w")
_CONSTRAINT_FIELDS = ("latency_max_ms", "energy_max_mj")


def stage_loads(tiers: Sequence[str], compute_ms, uplink_ms, downlink_ms) -> dict[str, float]:
    """The stages of a pipelined stream and their load (ms per frame): each tier's compute, each
    link's uplink and downlink. RTT delays a frame but does not limit the rate: it is not a stage."""
    stages = {f"{tier} compute": float(ms) for tier, ms in zip(tiers, compute_ms)}
    for b, (up, down) in enumerate(zip(uplink_ms, downlink_ms)):
        stages[f"{tiers[b]}->{tiers[b + 1]} uplink"] = float(up)
        stages[f"{tiers[b + 1]}->{tiers[b]} downlink"] = float(down)
    return stages


def is_tiered_data(data: Any) -> bool:
    """Whether a partition instance dict uses the k-tier form.

    True when it has ``tiers``, ``network.links``, ``energy``, ``objective``
    or ``constraints``, or any layer gives ``ms``.
    """
    if not isinstance(data, Mapping):
        return False
    if any(key in data for key in ("tiers", "energy", "objective", "constraints", "radio")):
        return True
    net = data.get("network")
    if isinstance(net, Mapping) and "links" in net:
        return True
    layers = data.get("layers")
    return isinstance(layers, list) and any(isinstance(x, Mapping) and "ms" in x for x in layers)


@dataclass(frozen=True)
class TierLayer:
    """One layer: its time on each tier (ms), output size (bytes), optional measured device energy (mJ)."""

    name: str
    ms: tuple[float, ...]
    output_bytes: int
    device_mj: float | None = None
    memory_bytes: float | None = None
    flops: float | None = None
    op: str | None = None
    meta: Mapping[str, Any] | None = None


#: Link ``b`` between tier ``b`` and tier ``b + 1``: the same fields as the
#: two-tier :class:`Network` (``uplink_mbps``, ``downlink_mbps``, ``rtt_ms``).
Link = Network


@dataclass(frozen=True)
class EnergyModel:
    """The device's power draw in W: computing, transmitting, receiving, idle (waiting)."""

    compute_w: float
    tx_w: float
    rx_w: float
    idle_w: float

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in _ENERGY_FIELDS}


@dataclass(frozen=True)
class TierEvaluation:
    """The evaluation of a feasible tier assignment.

    Attributes
    ----------
    objective : float
        The instance's objective (latency in ms, energy in mJ, or the weighted sum).
    latency_ms : float
    energy_mj : float or None
        None when the instance has no ``energy`` model.
    terms : dict
        ``compute_ms`` (per tier), ``uplink_ms``, ``downlink_ms``, ``rtt_ms``
        (per link) and, with an energy model, ``device_compute_mj``,
        ``waiting_ms`` and ``radio_burst_mj`` (the radio's promotion + tail,
        0 without a radio or without offloading).
    feasible : bool
        Always True (``evaluate`` raises for infeasible assignments).
    """

    objective: float
    latency_ms: float
    energy_mj: float | None
    terms: Mapping[str, Any] = field(default_factory=dict)
    feasible: bool = True

    def __float__(self) -> float:
        return float(self.objective)


class TieredPartitionProblem(Problem):
    """A k-tier DNN partitioning instance (files: ``kind: "partition"`` with ``tiers``).

    Parameters
    ----------
    tiers : sequence of str
        k >= 2 distinct tier names, from the data's source outward.
    layers : sequence of TierLayer
        ``ms`` has k entries (ms, >= 0).
    edges : iterable of (str, str)
    links : sequence of Link
        k - 1 links.
    pinned : mapping, optional
        ``{tier_name: [layer names]}``.
    device_budget : mapping, optional
        ``{resource: limit}``: the tier-0 layers use at most ``limit``.
    energy : EnergyModel, optional
    objective : str or mapping
        ``"latency"``, ``"energy"`` or ``{"weighted": {"latency": a, "energy": b}}``.
    constraints : mapping, optional
        ``latency_max_ms`` and/or ``energy_max_mj``.
    metadata : mapping, optional
    name : str, optional
    radio : RadioModel, str or mapping, optional
        The phone's radio (:mod:`formulations.partition.radio`); needs
        ``energy`` for ``compute_w`` and replaces its ``tx_w``, ``rx_w`` and
        ``idle_w`` with the radio's powers at link 0's rates.

    Notes
    -----
    ``kind`` is ``"partition"`` (the file kind); methods are registered under
    :attr:`solver_kind` ``"tiers"`` (see docs/tiers.md).
    """

    kind = "partition"
    solver_kind = "tiers"
    sense = "min"

    def __init__(
        self,
        tiers: Sequence[str],
        layers: Sequence[TierLayer],
        edges,
        links: Sequence[Link],
        *,
        pinned: Mapping[str, Sequence[str]] | None = None,
        device_budget: Mapping[str, float] | None = None,
        energy: EnergyModel | None = None,
        objective: Any = "latency",
        constraints: Mapping[str, float] | None = None,
        metadata: Mapping[str, Any] | None = None,
        name: str | None = None,
        radio: RadioModel | str | Mapping[str, Any] | None = None,
    ):
        self.tiers = self._tiers(tiers)
        self.layers = tuple(layers)
        if not self.layers:
            raise InstanceError("the graph has no layers", field="layers")
        self.links = self._links(links)
        # radio (issue 22): tx_w, rx_w, idle_w from the radio at link 0's rates; burst_mj once per offload
        self.radio = None if radio is None else radio_from_spec(radio)
        if self.radio is not None:
            if energy is None:
                raise InstanceError("a `radio` needs an `energy` model (at least `compute_w`)", field="energy")
            link0 = self.links[0]
            energy = EnergyModel(energy.compute_w, self.radio.tx_w(link0.uplink_mbps),
                                 self.radio.rx_w(link0.effective_downlink_mbps), self.radio.idle_w)
        #: Energy (mJ) of the radio's promotion and tail, paid once when any layer leaves tier 0.
        self.burst_mj = 0.0 if self.radio is None else self.radio.burst_mj
        self.energy = self._energy(energy)
        self.names = self._layer_names()
        self.index = {nm: i for i, nm in enumerate(self.names)}
        self.ms = self._ms_matrix()
        self.output_bytes = np.array([int(l.output_bytes) for l in self.layers], dtype=np.int64)
        self.edges = checked_edges(edges, self.index)
        self.topology = topology_of(self.names, self.index, self.edges)
        self.pinned = self._pins(pinned or {})
        self.device_budget = checked_budget(device_budget or {})
        self.resources = {
            res: np.array([float(getattr(l, res) or 0.0) for l in self.layers])
            for res in RESOURCE_FIELDS
            if any(getattr(l, res) is not None for l in self.layers)
        }
        self.objective_weights = self._objective(objective)
        self.objective = objective if isinstance(objective, str) else {"weighted": dict(objective["weighted"])}
        #: Maximize frames/s of a pipelined stream (``"objective": "throughput"``).
        self.throughput = objective == "throughput"
        self.sense = "max" if self.throughput else "min"
        self.constraints = self._constraints(constraints or {})
        self.device_mj = self._device_mj()
        self.up_ms, self.down_ms, self.rtt_ms = self._transfer_times()
        self.metadata = dict(metadata or {})
        self.name = name
        self._freeze()

    # ------------------------------------------------------------ validation
    @staticmethod
    def _tiers(tiers) -> tuple[str, ...]:
        tiers = as_list(tiers, "tiers")
        if len(tiers) < 2:
            raise InstanceError(f"need at least 2 tiers, got {len(tiers)}", field="tiers")
        out = tuple(as_name(t, f"tiers[{i}]") for i, t in enumerate(tiers))
        if len(set(out)) != len(out):
            raise InstanceError(f"duplicate tier names in {list(out)}", field="tiers")
        return out

    def _links(self, links) -> tuple[Link, ...]:
        links = tuple(links)
        if len(links) != len(self.tiers) - 1:
            raise InstanceError(
                f"need {len(self.tiers) - 1} links for {len(self.tiers)} tiers, got {len(links)}", field="network.links"
            )
        for b, link in enumerate(links):
            as_positive(link.uplink_mbps, f"network.links[{b}].uplink_mbps")
            if link.downlink_mbps is not None:
                as_positive(link.downlink_mbps, f"network.links[{b}].downlink_mbps")
            as_nonneg(link.rtt_ms, f"network.links[{b}].rtt_ms")
        return links

    @staticmethod
    def _energy(energy) -> EnergyModel | None:
        if energy is None:
            return None
        for key in _ENERGY_FIELDS:
            as_nonneg(getattr(energy, key), f"energy.{key}")
        return energy

    def _layer_names(self) -> list[str]:
        names, seen = [], set()
        n_tiers = len(self.tiers)
        for i, layer in enumerate(self.layers):
            nm = as_name(layer.name, f"layers[{i}].name")
            if nm in seen:
                raise InstanceError(f"duplicate layer name {nm!r}", field=f"layers[{i}].name")
            seen.add(nm)
            names.append(nm)
            if len(layer.ms) != n_tiers:
                raise InstanceError(f"expected {n_tiers} numbers (one per tier), got {len(layer.ms)}", field=f"layers[{i}].ms")
            for j, value in enumerate(layer.ms):
                as_nonneg(value, f"layers[{i}].ms[{j}]")
            as_bytes(layer.output_bytes, f"layers[{i}].output_bytes")
            if layer.device_mj is not None:
                as_nonneg(layer.device_mj, f"layers[{i}].device_mj")
                if self.energy is None:
                    raise InstanceError("`device_mj` needs an `energy` model", field=f"layers[{i}].device_mj")
            for res in RESOURCE_FIELDS:
                if getattr(layer, res) is not None:
                    as_nonneg(getattr(layer, res), f"layers[{i}].{res}")
        return names

    def _ms_matrix(self) -> np.ndarray:
        return np.array([[float(x) for x in layer.ms] for layer in self.layers], dtype=float)

    def _pins(self, pinned) -> dict[str, tuple[str, ...]]:
        pinned = as_mapping(pinned, "pinned")
        out = {tier: () for tier in self.tiers}
        owner: dict[str, str] = {}
        for tier, names in pinned.items():
            if tier not in out:
                raise InstanceError(f"unknown tier {tier!r}; tiers: {list(self.tiers)}", field="pinned")
            names = as_list(names, f"pinned.{tier}")
            for nm in names:
                if not isinstance(nm, str) or nm not in self.index:
                    raise InstanceError(f"unknown layer {nm!r}", field=f"pinned.{tier}")
                if owner.get(nm, tier) != tier:
                    raise InstanceError(f"layer {nm!r} pinned to {owner[nm]!r} and {tier!r}", field="pinned")
                owner[nm] = tier
            out[tier] = tuple(dict.fromkeys(names))
        return out

    def _objective(self, objective) -> tuple[float, float]:
        if objective == "throughput":  # frames/s of a pipelined stream; latency weights for warm starts
            return (1.0, 0.0)
        if objective == "latency":
            weights = (1.0, 0.0)
        elif objective == "energy":
            weights = (0.0, 1.0)
        elif isinstance(objective, Mapping) and set(objective) == {"weighted"}:
            raw = as_mapping(objective["weighted"], "objective.weighted")
            reject_unknown(raw, ("latency", "energy"), "objective.weighted")
            weights = tuple(as_nonneg(raw.get(key, 0.0), f"objective.weighted.{key}") for key in ("latency", "energy"))
            if weights[0] + weights[1] <= 0:
                raise InstanceError("at least one weight must be > 0", field="objective.weighted")
        else:
            raise InstanceError(
                f'expected "latency", "energy", "throughput" or {{"weighted": {{"latency": a, "energy": b}}}}, '
                f'got {objective!r}',
                field="objective",
            )
        if weights[1] > 0 and self.energy is None:
            raise InstanceError("an energy objective needs an `energy` model", field="objective")
        return weights

    def _constraints(self, constraints) -> dict[str, float]:
        constraints = as_mapping(constraints, "constraints")
        reject_unknown(constraints, _CONSTRAINT_FIELDS, "constraints")
        out = {key: as_nonneg(value, f"constraints.{key}") for key, value in constraints.items()}
        if "energy_max_mj" in out and self.energy is None:
            raise InstanceError("`energy_max_mj` needs an `energy` model", field="constraints.energy_max_mj")
        return out

    def _device_mj(self) -> np.ndarray | None:
        if self.energy is None:
            return None
        return np.array(
            [
                float(l.device_mj) if l.device_mj is not None else self.energy.compute_w * float(l.ms[0])
                for l in self.layers
            ]
        )

    def _transfer_times(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n_links = len(self.links)
        nbytes = self.output_bytes.astype(float)
        up = np.zeros((n_links, len(self.layers)))
        down = np.zeros((n_links, len(self.layers)))
        sinks = self.topology.sinks
        for b, link in enumerate(self.links):
            up[b] = transfer_ms(nbytes, link.uplink_mbps)
            down[b, sinks] = transfer_ms(nbytes[sinks], link.effective_downlink_mbps)
        rtt = np.array([float(link.rtt_ms) for link in self.links])
        return up, down, rtt

    # ------------------------------------------------------------ properties
    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def n_tiers(self) -> int:
        return len(self.tiers)

    @property
    def inputs(self) -> list[str]:
        return [self.names[i] for i in self.topology.inputs]

    @property
    def outputs(self) -> list[str]:
        return [self.names[i] for i in self.topology.sinks]

    # ------------------------------------------------------------ assignments
    def tier_vector(self, assignment) -> np.ndarray:
        """Tier index per layer (layer order) from an assignment.

        ``assignment`` is ``{tier_name: [layer names]}`` (tiers left out hold
        no layer; every layer must appear exactly once) or an integer array
        of tier indices.

        Raises
        ------
        TypeError
            If ``assignment`` is neither a mapping nor an integer array.
        InfeasibleAssignmentError
            For unknown tiers or layers, or layers missing or repeated.
        """
        if isinstance(assignment, np.ndarray):
            if assignment.shape != (self.n_layers,) or assignment.dtype.kind not in "iu":
                raise InfeasibleAssignmentError(f"a tier vector must be {self.n_layers} integers")
            if assignment.size and (assignment.min() < 0 or assignment.max() >= self.n_tiers):
                raise InfeasibleAssignmentError(f"tier indices must lie in 0..{self.n_tiers - 1}")
            return assignment.astype(np.int64)
        assignment = require_mapping(assignment, "{tier_name: [layer names]} or an integer array")
        unknown = [key for key in assignment if key not in self.tiers]
        if unknown:
            raise InfeasibleAssignmentError(f"unknown tier(s) {unknown}; tiers: {list(self.tiers)}")
        tiers = np.full(self.n_layers, -1, dtype=np.int64)
        for j, tier in enumerate(self.tiers):
            names = assignment.get(tier, [])
            if isinstance(names, (str, bytes)) or not isinstance(names, (list, tuple, set, frozenset)):
                raise InfeasibleAssignmentError(f"tier {tier!r}: expected a list of layer names")
            for nm in names:
                i = self.index.get(nm) if isinstance(nm, str) else None
                if i is None:
                    raise InfeasibleAssignmentError(f"unknown layer {nm!r} in tier {tier!r}")
                if tiers[i] >= 0:
                    raise InfeasibleAssignmentError(f"layer {nm!r} assigned twice")
                tiers[i] = j
        missing = [self.names[i] for i in np.flatnonzero(tiers < 0)]
        if missing:
            raise InfeasibleAssignmentError(f"layers on no tier: {missing[:5]}")
        return tiers

    def assignment(self, tiers: np.ndarray) -> dict[str, list[str]]:
        """``{tier_name: [layer names]}`` (every tier, layer order) from a tier vector."""
        tiers = np.asarray(tiers)
        return {tier: [self.names[i] for i in np.flatnonzero(tiers == j)] for j, tier in enumerate(self.tiers)}

    # ------------------------------------------------------------- evaluation
    def structural_violations(self, tiers: np.ndarray) -> list[str]:
        """Violated inputs-on-tier-0, outward-edge and pin rules of a tier vector."""
        out = []
        topo = self.topology
        bad_inputs = [self.names[i] for i in topo.inputs if tiers[i] != 0]
        if bad_inputs:
            out.append(f"inputs not on {self.tiers[0]!r}: {bad_inputs[:5]}")
        back = tiers[topo.src] > tiers[topo.dst]
        if back.any():
            e = int(np.flatnonzero(back)[0])
            u, w = int(topo.src[e]), int(topo.dst[e])
            out.append(
                f"data moves inward: {self.names[u]!r} on {self.tiers[tiers[u]]!r} feeds "
                f"{self.names[w]!r} on {self.tiers[tiers[w]]!r}"
            )
        for j, tier in enumerate(self.tiers):
            for nm in self.pinned[tier]:
                if tiers[self.index[nm]] != j:
                    out.append(f"{nm!r} is pinned to {tier!r}")
        return out

    def violations(self, assignment) -> list[str]:
        """Every constraint ``assignment`` violates, in words (empty when feasible).

        Raises ``InfeasibleAssignmentError`` for a malformed assignment and
        ``TypeError`` for one of the wrong type.
        """
        tiers = self.tier_vector(assignment)
        out = self.structural_violations(tiers)
        on_device = tiers == 0
        for res, limit in self.device_budget.items():
            used = float(self.resources.get(res, np.zeros(self.n_layers))[on_device].sum())
            if used > limit * (1 + 1e-12):
                out.append(f"{self.tiers[0]} {res} {used:g} exceeds the budget {limit:g}")
        if self.constraints and not out:
            latency, energy, _ = self.measures(tiers)
            limit = self.constraints.get("latency_max_ms")
            if limit is not None and latency > limit + TOLERANCE * max(1.0, limit):
                out.append(f"latency {latency:.6g} ms exceeds latency_max_ms {limit:g}")
            limit = self.constraints.get("energy_max_mj")
            if limit is not None and energy > limit + TOLERANCE * max(1.0, limit):
                out.append(f"energy {energy:.6g} mJ exceeds energy_max_mj {limit:g}")
        return out

    def measures(self, tiers: np.ndarray) -> tuple[float, float | None, dict]:
        """``(latency_ms, energy_mj or None, terms)`` of a tier vector, from the formulas alone.

        Does not check feasibility. O(n + m) per call (k - 1 links).
        """
        topo = self.topology
        n_links = len(self.links)
        rows = np.arange(self.n_layers)
        compute = self.ms[rows, tiers]
        far = np.full(self.n_layers, -1, dtype=np.int64)  # farthest successor tier (-1: none)
        np.maximum.at(far, topo.src, tiers[topo.dst])
        sinks = topo.sinks
        top = int(tiers.max())
        compute_ms = [math.fsum(compute[tiers == j]) for j in range(self.n_tiers)]
        uplink, downlink, rtt = [], [], []
        for b in range(n_links):
            sends = (tiers <= b) & (far > b)
            uplink.append(math.fsum(self.up_ms[b][sends]))
            downlink.append(math.fsum(self.down_ms[b][sinks[tiers[sinks] > b]]))
            rtt.append(float(self.rtt_ms[b]) if top > b else 0.0)
        latency = math.fsum(compute_ms + uplink + downlink + rtt)
        terms: dict[str, Any] = {"compute_ms": compute_ms, "uplink_ms": uplink, "downlink_ms": downlink, "rtt_ms": rtt}
        stages = stage_loads(self.tiers, compute_ms, uplink, downlink)
        bottleneck = max(stages, key=stages.get)
        terms["stage_ms"] = stages
        terms["period_ms"] = stages[bottleneck]
        terms["bottleneck"] = bottleneck
        energy = None
        if self.energy is not None:
            power = self.energy
            waiting = math.fsum(compute_ms[1:] + uplink[1:] + downlink[1:] + rtt)
            device_mj = math.fsum(self.device_mj[tiers == 0])
            burst = self.burst_mj if top > 0 else 0.0
            energy = math.fsum(
                [device_mj, power.tx_w * uplink[0], power.rx_w * downlink[0], power.idle_w * waiting, burst]
            )
            terms["radio_burst_mj"] = burst
            terms["device_compute_mj"] = device_mj
            terms["waiting_ms"] = waiting
        return latency, energy, terms

    def objective_value(self, latency_ms: float, energy_mj: float | None, period_ms: float | None = None) -> float:
        """The objective from the measures: ``a*latency + b*energy``, or for throughput ``1000 / period_ms``
        (frames/s; infinite when no stage has work)."""
        if self.throughput:
            return math.inf if not period_ms else 1000.0 / float(period_ms)
        a, b = self.objective_weights
        if b == 0:
            return float(latency_ms) if a == 1 else a * float(latency_ms)
        if a == 0:
            return float(energy_mj) if b == 1 else b * float(energy_mj)
        return a * float(latency_ms) + b * float(energy_mj)

    def evaluate(self, assignment) -> TierEvaluation:
        """Evaluate a feasible assignment (independent of every solver).

        Raises
        ------
        TypeError
            For an assignment that is not a mapping (or integer array).
        InfeasibleAssignmentError
            For a malformed or infeasible assignment (the message says why).
        """
        tiers = self.tier_vector(assignment)
        problems = self.violations(tiers)
        if problems:
            raise InfeasibleAssignmentError("; ".join(problems))
        latency, energy, terms = self.measures(tiers)
        return TierEvaluation(self.objective_value(latency, energy, terms["period_ms"]), latency, energy, terms)

    def breakdown(self, assignment) -> dict[str, Any]:
        """Terms of ``assignment`` (no feasibility check): per-tier compute, per-link transfers, totals."""
        tiers = self.tier_vector(assignment)
        latency, energy, terms = self.measures(tiers)
        out = dict(terms)
        out["total_ms"] = latency
        if energy is not None:
            out["energy_mj"] = energy
        out["layers_per_tier"] = [int((tiers == j).sum()) for j in range(self.n_tiers)]
        return out

    def summarize(self, assignment) -> str:
        """One line for tables: layers per tier (and latency/energy)."""
        tiers = self.tier_vector(assignment)
        latency, energy, _ = self.measures(tiers)
        latency, energy, terms = self.measures(tiers)
        counts = "/".join(str(int((tiers == j).sum())) for j in range(self.n_tiers))
        text = f"{counts} on {'/'.join(self.tiers)}, {latency:.4g} ms"
        if self.throughput:
            rate = self.objective_value(latency, energy, terms["period_ms"])
            text += f", {rate:.4g} frames/s (bottleneck {terms['bottleneck']})"
        return text + (f", {energy:.4g} mJ" if energy is not None else "")

    # ----------------------------------------------------------- feasibility
    def tier_range(self) -> tuple[np.ndarray, np.ndarray]:
        """Per layer the least and greatest tier any structurally feasible assignment may give it.

        ``lo[v]`` is the largest pinned tier among ``v`` and its ancestors,
        ``hi[v]`` the smallest pinned tier among ``v`` and its descendants
        (0 for inputs, k - 1 otherwise). Pins are satisfiable iff
        ``lo <= hi`` everywhere, and then ``lo`` itself is feasible. O(n + m).
        """
        topo = self.topology
        n = self.n_layers
        lo = np.zeros(n, dtype=np.int64)
        hi = np.full(n, self.n_tiers - 1, dtype=np.int64)
        hi[topo.inputs] = 0
        for j, tier in enumerate(self.tiers):
            for nm in self.pinned[tier]:
                lo[self.index[nm]] = max(lo[self.index[nm]], j)
                hi[self.index[nm]] = min(hi[self.index[nm]], j)
        succ: list[list[int]] = [[] for _ in range(n)]
        for u, w in zip(topo.src.tolist(), topo.dst.tolist()):
            succ[u].append(w)
        order = topo.order.tolist()
        for u in order:
            for w in succ[u]:
                lo[w] = max(lo[w], lo[u])
        for u in reversed(order):
            for w in succ[u]:
                hi[u] = min(hi[u], hi[w])
        return lo, hi

    def infeasibility_reason(self) -> str | None:
        """Why no assignment meets the pins and the device budget, or None.

        Does not look at ``constraints`` (only a solve can tell).
        """
        lo, hi = self.tier_range()
        bad = np.flatnonzero(lo > hi)
        if bad.size:
            nm = self.names[int(bad[0])]
            return f"pins contradict at {nm!r}: an ancestor needs tier >= {self.tiers[lo[bad[0]]]!r}, it or a descendant <= {self.tiers[hi[bad[0]]]!r}"
        for res, limit in self.device_budget.items():
            used = float(self.resources.get(res, np.zeros(self.n_layers))[hi == 0].sum())
            if used > limit * (1 + 1e-12):
                return f"the layers that must stay on {self.tiers[0]!r} use {res} {used:g} > budget {limit:g}"
        return None

    # ------------------------------------------------------------------- I/O
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, file: str | None = None, base_dir=None) -> "TieredPartitionProblem":
        """Build from an instance dict (``kind: "partition"``, k-tier form or the two-tier form).

        Raises
        ------
        InstanceError
            Naming ``file`` (if given) and the invalid field.
        """
        with naming_file(file):
            check_header(data, "partition")
            reject_unknown(data, _TOP_FIELDS, "<root>")
            tiers = cls._tiers(data.get("tiers", ["device", "server"]))
            raw_layers = as_list(require(data, "layers", "layers"), "layers", nonempty=True)
            layers = [_layer_from_dict(raw, i, len(tiers)) for i, raw in enumerate(raw_layers)]
            links = _links_from_dict(require(data, "network", "network"), len(tiers))
            energy = None
            radio = radio_from_spec(data["radio"]) if "radio" in data else None
            if "energy" in data:
                raw = as_mapping(data["energy"], "energy")
                reject_unknown(raw, _ENERGY_FIELDS if radio is None else ("compute_w",), "energy")
                values = [as_nonneg(require(raw, key, f"energy.{key}"), f"energy.{key}") if radio is None or key == "compute_w"
                          else 0.0 for key in _ENERGY_FIELDS]
                energy = EnergyModel(*values)
            return cls(
                tiers,
                layers,
                as_list(data.get("edges", []), "edges"),
                links,
                pinned=data.get("pinned"),
                device_budget=data.get("device_budget"),
                energy=energy,
                objective=data.get("objective", "latency"),
                constraints=data.get("constraints"),
                metadata=as_mapping(data.get("metadata", {}), "metadata"),
                name=data.get("name") or (Path(file).stem if file else None),
                radio=radio,
            )

    def to_dict(self) -> dict:
        """The instance as a JSON-ready dict in the k-tier form."""
        layers = []
        for layer in self.layers:
            item: dict[str, Any] = {"name": layer.name, "ms": [float(x) for x in layer.ms], "output_bytes": int(layer.output_bytes)}
            for key in ("device_mj", *RESOURCE_FIELDS, "op", "meta"):
                if getattr(layer, key) is not None:
                    item[key] = getattr(layer, key)
            layers.append(item)
        out: dict[str, Any] = {"kind": "partition", "version": 1}
        if self.name:
            out["name"] = self.name
        out["tiers"] = list(self.tiers)
        out["network"] = {"links": [link.to_dict() for link in self.links]}
        if self.energy is not None:
            out["energy"] = self.energy.to_dict() if self.radio is None else {"compute_w": self.energy.compute_w}
        if self.radio is not None:
            out["radio"] = self.radio.to_spec()
        if self.objective != "latency":
            out["objective"] = self.objective
        if self.constraints:
            out["constraints"] = dict(self.constraints)
        out["layers"] = layers
        out["edges"] = [list(e) for e in self.edges]
        if any(self.pinned.values()):
            out["pinned"] = {k: list(v) for k, v in self.pinned.items() if v}
        if self.device_budget:
            out["device_budget"] = dict(self.device_budget)
        if self.metadata:
            out["metadata"] = self.metadata
        return out

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

    def replace(self, **changes) -> "TieredPartitionProblem":
        """A re-validated copy with constructor arguments replaced (``links=``, ``objective=``, ...)."""
        kwargs: dict[str, Any] = dict(
            tiers=self.tiers, layers=self.layers, edges=self.edges, links=self.links, pinned=self.pinned,
            device_budget=self.device_budget, energy=self.energy, objective=self.objective,
            constraints=self.constraints, metadata=self.metadata, name=self.name, radio=self.radio,
        )
        unknown = set(changes) - set(kwargs)
        if unknown:
            raise TypeError(f"replace() got unknown field(s) {sorted(unknown)}; known: {sorted(kwargs)}")
        kwargs.update(changes)
        return type(self)(
            kwargs.pop("tiers"), kwargs.pop("layers"), kwargs.pop("edges"), kwargs.pop("links"), **kwargs
        )

    def with_network(self, *, uplink_mbps=None, downlink_mbps=None, rtt_ms=None) -> "TieredPartitionProblem":
        """A copy with fields of link 0 (tier 0 to tier 1) replaced (``None`` keeps a field).

        The CLI's ``--uplink-mbps/--downlink-mbps/--rtt-ms`` use this. The
        ``energy`` powers are kept as they are (rescale them with
        :meth:`replace` if they depend on the rate).
        """
        first = self.links[0]
        link = Link(
            first.uplink_mbps if uplink_mbps is None else uplink_mbps,
            first.downlink_mbps if downlink_mbps is None else downlink_mbps,
            first.rtt_ms if rtt_ms is None else rtt_ms,
        )
        try:
            return self.replace(links=(link, *self.links[1:]))
        except InstanceError as exc:  # name the field as the two-tier form does
            raise InstanceError(exc.message, field=(exc.field or "").replace("links[0].", "")) from None

    def __repr__(self) -> str:
        return (
            f"TieredPartitionProblem(name={self.name!r}, tiers={list(self.tiers)}, layers={self.n_layers}, "
            f"edges={len(self.edges)}, objective={self.objective!r})"
        )


def _layer_from_dict(raw: Any, i: int, n_tiers: int) -> TierLayer:
    fld = f"layers[{i}]"
    raw = as_mapping(raw, fld)
    reject_unknown(raw, _LAYER_FIELDS, fld)
    if "ms" in raw:
        if "device_ms" in raw or "server_ms" in raw:
            raise InstanceError("give either `ms` or `device_ms`/`server_ms`, not both", field=fld)
        values = as_list(raw["ms"], f"{fld}.ms")
        if len(values) != n_tiers:
            raise InstanceError(f"expected {n_tiers} numbers (one per tier), got {len(values)}", field=f"{fld}.ms")
        ms = tuple(as_nonneg(x, f"{fld}.ms[{j}]") for j, x in enumerate(values))
    elif n_tiers == 2:
        ms = (
            as_nonneg(require(raw, "device_ms", f"{fld}.device_ms"), f"{fld}.device_ms"),
            as_nonneg(require(raw, "server_ms", f"{fld}.server_ms"), f"{fld}.server_ms"),
        )
    else:
        raise InstanceError("missing required field (one time per tier)", field=f"{fld}.ms")
    extras = {}
    for key in RESOURCE_FIELDS:
        if raw.get(key) is not None:
            extras[key] = as_nonneg(raw[key], f"{fld}.{key}")
    device_mj = None if raw.get("device_mj") is None else as_nonneg(raw["device_mj"], f"{fld}.device_mj")
    return TierLayer(
        name=as_name(require(raw, "name", f"{fld}.name"), f"{fld}.name"),
        ms=ms,
        output_bytes=as_bytes(require(raw, "output_bytes", f"{fld}.output_bytes"), f"{fld}.output_bytes"),
        device_mj=device_mj,
        op=raw.get("op"),
        meta=raw.get("meta"),
        **extras,
    )


def _link_from_dict(raw: Any, fld: str) -> Link:
    raw = as_mapping(raw, fld)
    reject_unknown(raw, ("uplink_mbps", "downlink_mbps", "rtt_ms"), fld)
    return Link(
        uplink_mbps=as_positive(require(raw, "uplink_mbps", f"{fld}.uplink_mbps"), f"{fld}.uplink_mbps"),
        downlink_mbps=None if raw.get("downlink_mbps") is None else as_positive(raw["downlink_mbps"], f"{fld}.downlink_mbps"),
        rtt_ms=as_nonneg(raw.get("rtt_ms", 0.0), f"{fld}.rtt_ms"),
    )


def _links_from_dict(net: Any, n_tiers: int) -> list[Link]:
    net = as_mapping(net, "network")
    if "links" not in net:
        if n_tiers != 2:
            raise InstanceError(f"missing required field ({n_tiers - 1} links)", field="network.links")
        return [_link_from_dict(net, "network")]
    reject_unknown(net, ("links",), "network")
    raw_links = as_list(net["links"], "network.links")
    if len(raw_links) != n_tiers - 1:
        raise InstanceError(f"need {n_tiers - 1} links for {n_tiers} tiers, got {len(raw_links)}", field="network.links")
    return [_link_from_dict(raw, f"network.links[{b}]") for b, raw in enumerate(raw_links)]
