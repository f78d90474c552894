"""The one partition model: a DNN DAG split over k >= 2 tiers (device, edge, cloud, ...).

:class:`PartitionCore` holds the validated data of both file forms and
evaluates them (:mod:`.evaluation` has the formulas, :mod:`.objectives` the
objectives). :class:`~formulations.partition.PartitionProblem` is its k = 2
view (tiers ``device``, ``server``; one ``network``),
:class:`~formulations.partition.TieredPartitionProblem` its k-tier form.

A layer ``v`` runs on tier ``t(v)`` in ``0..k-1`` (tier 0 holds the data's
source). An assignment is feasible when every layer without predecessors is
on tier 0, ``t(u) <= t(v)`` on every edge ``u -> v`` (data only moves
outward), the pins hold, the tier-0 layers fit ``device_budget``, and the
``constraints`` (``latency_max_ms``, ``energy_max_mj``) hold.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Mapping, Sequence

import numpy as np

from ..base import Problem, cached_property, require_mapping
from ..errors import InfeasibleAssignmentError, InstanceError
from . import evaluation as ev
from .dag import Topology
from .radio import RadioModel, radio_from_spec
from .layers import (Link, EnergyModel, checked_constraints, checked_energy, checked_layers, checked_link,
                     checked_pins, checked_tiers, resource_arrays)
from .objectives import Objective, objective_of
from .units import checked_budget, checked_edges, topology_of, transfer_ms

__all__ = ["PartitionCore"]

#: Attributes that depend on the links (dropped by :meth:`PartitionCore._with_links`).
_LINK_CACHES = ("links", "up_ms", "down_ms", "rtt_ms", "upload_ms", "download_ms")



def radio_energy(radio: RadioModel, energy: EnergyModel, link0: Link) -> EnergyModel:
    """``energy`` with ``tx_w``, ``rx_w`` and ``idle_w`` from ``radio`` at ``link0``'s rates."""
    return EnergyModel(energy.compute_w, radio.tx_w(link0.uplink_mbps), radio.rx_w(link0.effective_downlink_mbps),
                       radio.idle_w)

class PartitionCore(Problem):
    """A DNN partitioning instance over ``k >= 2`` tiers (``kind: "partition"``); the base of both forms.

    Parameters
    ----------
    tiers : sequence of str
        k >= 2 distinct tier names, from the data's source outward.
    layers : sequence of TierLayer (or Layer for k = 2)
        ``ms`` has k entries (ms, >= 0).
    edges : iterable of (str, str)
    links : sequence of Link
        k - 1 links (link ``b`` joins tier ``b`` and ``b + 1``).
    pinned : mapping, optional
        ``{tier_name: [layer names]}``.
    device_budget : mapping, optional
        ``{resource: limit}``: the tier-0 layers use at most ``limit``.
    energy : EnergyModel, optional
    objective : str or mapping
        ``"latency"``, ``"energy"``, ``"throughput"`` or
        ``{"weighted": {"latency": a, "energy": b}}`` (:mod:`.objectives`).
    constraints : mapping, optional
        ``latency_max_ms`` and/or ``energy_max_mj``.
    metadata : mapping, optional
    name : str, optional
    radio : RadioModel, str or mapping, optional
        The phone's radio (:mod:`formulations.partition.radio`); needs
        ``energy`` for ``compute_w`` and replaces its ``tx_w``, ``rx_w`` and
        ``idle_w`` with the radio's powers at link 0's rates.

    Raises
    ------
    InstanceError
        For any invalid field (the message names the field).
    """

    kind = "partition"

    def __init__(self, tiers: Sequence[str], layers: Sequence, edges, links: Sequence[Link], *,
                 pinned: Mapping[str, Sequence[str]] | None = None, device_budget: Mapping[str, float] | None = None,
                 energy: EnergyModel | None = None, objective: Any = "latency",
                 constraints: Mapping[str, float] | None = None, metadata: Mapping[str, Any] | None = None,
                 name: str | None = None, radio: RadioModel | str | Mapping[str, Any] | None = None,
                 _topology: Topology | None = None):
        self.tiers = checked_tiers(tiers)
        self.layers = tuple(layers)
        if not self.layers:
            raise InstanceError("the graph has no layers", field="layers")
        self.links = self._checked_links(tuple(links))
        # radio (issue 22): tx_w, rx_w, idle_w from the radio at link 0's rates; burst_mj once per offload
        self.radio = None if radio is None else radio_from_spec(radio)
        if self.radio is not None:
            if energy is None:
                raise InstanceError("a `radio` needs an `energy` model (at least `compute_w`)", field="energy")
            energy = radio_energy(self.radio, energy, self.links[0])
        #: Energy (mJ) of the radio's promotion and tail, paid once when any layer leaves tier 0.
        self.burst_mj = 0.0 if self.radio is None else self.radio.burst_mj
        self.energy = checked_energy(energy)
        self.names = checked_layers(self.layers, self.n_tiers, self.energy is not None, self._time_fields)
        self.index = {nm: i for i, nm in enumerate(self.names)}
        self._name_array = np.array(self.names, dtype=object)  # fast selection by mask in assignment()
        self.ms = np.array([[float(x) for x in layer.ms] for layer in self.layers], dtype=float)
        self.output_bytes = np.array([int(l.output_bytes) for l in self.layers], dtype=np.int64)
        self.edges = checked_edges(edges, self.index)
        self.topology = _topology if _topology is not None else topology_of(self.names, self.index, self.edges)
        self.pinned = checked_pins(pinned or {}, self.tiers, self.index)
        self.device_budget = checked_budget(device_budget or {})
        self.resources = resource_arrays(self.layers)
        #: The objective as an object (:mod:`.objectives`); ``objective`` is its JSON form.
        self.goal: Objective = objective_of(objective, self.energy is not None)
        self.objective = self.goal.spec
        self.sense = self.goal.sense
        self.constraints = checked_constraints(constraints or {}, self.energy is not None)
        self.device_mj = None if self.energy is None else np.array(
            [float(l.device_mj) if l.device_mj is not None else self.energy.compute_w * float(l.ms[0])
             for l in self.layers])
        self.metadata = MappingProxyType(dict(metadata or {}))
        self.name = name
        self._freeze()

    # ------------------------------------------------------- validation hooks
    def _checked_links(self, links: tuple) -> tuple:
        if len(links) != len(self.tiers) - 1:
            raise InstanceError(f"need {len(self.tiers) - 1} links for {len(self.tiers)} tiers, got {len(links)}",
                                field="network.links")
        return tuple(checked_link(link, f"network.links[{b}]") for b, link in enumerate(links))

    def _time_fields(self, i: int) -> list[str]:
        return [f"layers[{i}].ms[{j}]" for j in range(self.n_tiers)]

    # ------------------------------------------------------------ properties
    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def n_tiers(self) -> int:
        return len(self.tiers)

    @property
    def inputs(self) -> list[str]:
        """Layers without predecessors (always on tier 0)."""
        return [self.names[i] for i in self.topology.inputs]

    @property
    def outputs(self) -> list[str]:
        """Layers without successors."""
        return [self.names[i] for i in self.topology.sinks]

    @property
    def objective_weights(self) -> tuple[float, float]:
        """``(latency, energy)`` weights of the linear objective (the latency's for throughput)."""
        return self.goal.weights

    @property
    def throughput(self) -> bool:
        """Whether the objective is frames/s of a pipelined stream (``"objective": "throughput"``)."""
        return self.goal.sense == "max"

    @property
    def unit(self) -> str:
        """The unit of ``evaluate(...).objective`` (ms, mJ, weighted, frames/s)."""
        return self.goal.unit

    @cached_property
    def up_ms(self) -> np.ndarray:
        """``up_ms[b][v]``: time to send ``v``'s output over link ``b``'s uplink (ms)."""
        nbytes = self.output_bytes.astype(float)
        return np.array([transfer_ms(nbytes, link.uplink_mbps) for link in self.links]).reshape(-1, self.n_layers)

    @cached_property
    def down_ms(self) -> np.ndarray:
        """``down_ms[b][v]``: time to return output ``v`` over link ``b``'s downlink (0 for non-outputs; ms)."""
        down = np.zeros((len(self.links), self.n_layers))
        sinks = self.topology.sinks
        for b, link in enumerate(self.links):
            down[b, sinks] = transfer_ms(self.output_bytes[sinks].astype(float), link.effective_downlink_mbps)
        return down

    @cached_property
    def rtt_ms(self) -> np.ndarray:
        """Per link: its round-trip time (ms), paid once when any layer runs beyond it."""
        return np.array([float(link.rtt_ms) for link in self.links])

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
        return _tiers_of_names(self, require_mapping(assignment, "{tier_name: [layer names]} or an integer array"))

    def assignment(self, tiers: np.ndarray) -> dict[str, list[str]]:
        """``{tier_name: [layer names]}`` (every tier, layer order) from a tier vector."""
        tiers, names = np.asarray(tiers), self._name_array
        return {tier: names[tiers == j].tolist() for j, tier in enumerate(self.tiers)}

    # ------------------------------------------------------------- evaluation
    def structural_violations(self, tiers: np.ndarray) -> list[str]:
        """Violated inputs-on-tier-0, outward-edge and pin rules of a tier vector."""
        return ev.structural_violations(self, tiers)

    def violations(self, assignment) -> list[str]:
        """Every constraint ``assignment`` violates, in words (empty when feasible).

        Raises ``InfeasibleAssignmentError`` for a malformed assignment and
        ``TypeError`` for one of the wrong type. O(n + k m).
        """
        tiers = self.tier_vector(assignment)
        out = ev.structural_violations(self, tiers) + ev.budget_violations(self, tiers == 0)
        if self.constraints and not out:
            out += ev.constraint_violations(self.constraints, ev.measure(self, tiers))
        return out

    def measures(self, tiers: np.ndarray) -> tuple[float, float | None, dict]:
        """``(latency_ms, energy_mj or None, terms)`` of a tier vector, from the formulas alone.

        Does not check feasibility. O(n + k m).
        """
        m = ev.measure(self, tiers)
        return m.latency_ms, m.energy_mj, m.terms()

    def objective_value(self, latency_ms: float, energy_mj: float | None, period_ms: float | None = None) -> float:
        """The objective from the measures (see :mod:`.objectives`)."""
        return self.goal.value(latency_ms, energy_mj, period_ms)

    def evaluate(self, assignment):
        """Evaluate a feasible assignment, independently of every solver.

        Returns
        -------
        Evaluation
            ``.objective`` in :attr:`unit`, and the terms (see the form's
            ``_evaluation``).

        Raises
        ------
        TypeError
            For an assignment of the wrong type (the message says what is expected).
        InfeasibleAssignmentError
            For a malformed or infeasible assignment (the message says why).

        Notes
        -----
        O(n + k m).
        """
        tiers = self.tier_vector(assignment)
        problems = ev.structural_violations(self, tiers) + ev.budget_violations(self, tiers == 0)
        m = ev.measure(self, tiers)
        if self.constraints and not problems:
            problems = ev.constraint_violations(self.constraints, m)
        if problems:
            raise InfeasibleAssignmentError("; ".join(problems))
        return self._evaluation(m)

    def _evaluation(self, m: ev.Measures):
        value = self.goal.value(m.latency_ms, m.energy_mj, m.period_ms)
        return ev.TierEvaluation(objective=value, latency_ms=m.latency_ms, energy_mj=m.energy_mj,
                                 terms=m.terms())

    def breakdown(self, assignment) -> dict[str, Any]:
        """Terms of ``assignment`` (no feasibility check): per-tier compute, per-link transfers, totals."""
        tiers = self.tier_vector(assignment)
        return self._breakdown(ev.measure(self, tiers))

    def _breakdown(self, m: ev.Measures) -> dict[str, Any]:
        out = m.terms()
        out["total_ms"] = m.latency_ms
        if m.energy_mj is not None:
            out["energy_mj"] = m.energy_mj
        out["layers_per_tier"] = m.layers_per_tier
        return out

    def summarize(self, assignment) -> str:
        """One line for tables: layers per tier, latency (and frames/s, energy)."""
        m = ev.measure(self, self.tier_vector(assignment))
        text = f"{'/'.join(map(str, m.layers_per_tier))} on {'/'.join(self.tiers)}, {m.latency_ms:.4g} ms"
        if self.throughput:
            rate = self.goal.value(m.latency_ms, m.energy_mj, m.period_ms)
            text += f", {rate:.4g} frames/s (bottleneck {m.bottleneck})"
        return text + (f", {m.energy_mj:.4g} mJ" if m.energy_mj is not None else "")

    # ----------------------------------------------------------- feasibility
    def tier_range(self) -> tuple[np.ndarray, np.ndarray]:
        """Per layer the least and greatest feasible tier (see :func:`.evaluation.tier_range`). O(n + m), cached."""
        return self._tier_range

    @cached_property
    def _tier_range(self) -> tuple[np.ndarray, np.ndarray]:
        return ev.tier_range(self)

    def infeasibility_reason(self) -> str | None:
        """Why no assignment meets the pins and the device budget, or None.

        Does not look at ``constraints`` (only a solve can tell). O(n + m).
        """
        return ev.infeasibility(self)

    # ------------------------------------------------------------ transforms
    def _with_links(self, links: Sequence[Link], fields: Sequence[str]):
        """A copy with other (validated) links that shares the layers and the graph structure. O(n)."""
        links = tuple(checked_link(link, fld) for link, fld in zip(links, fields))
        clone = object.__new__(type(self))
        clone.__dict__.update({k: v for k, v in self.__dict__.items() if k not in _LINK_CACHES})
        clone.__dict__["links"] = links
        if self.radio is not None and self.energy is not None:  # the radio's powers depend on link 0's rates
            clone.__dict__["energy"] = radio_energy(self.radio, self.energy, links[0])
        return clone


def _tiers_of_names(problem: PartitionCore, assignment: Mapping) -> np.ndarray:
    """The tier vector of ``{tier_name: [layer names]}`` (see :meth:`PartitionCore.tier_vector`). O(n)."""
    unknown = [key for key in assignment if key not in problem.tiers]
    if unknown:
        raise InfeasibleAssignmentError(f"unknown tier(s) {unknown}; tiers: {list(problem.tiers)}")
    tiers = np.full(problem.n_layers, -1, dtype=np.int64)
    for j, tier in enumerate(problem.tiers):
        names = assignment.get(tier, [])
        if isinstance(names, (str, bytes)) or not isinstance(names, (list, tuple, set, frozenset)):
            raise InfeasibleAssignmentError(f"tier {tier!r}: expected a list of layer names")
        idx = layer_indices(problem, names, f"tier {tier!r}")
        if (tiers[idx] >= 0).any() or len(np.unique(idx)) < len(idx):
            counts = np.bincount(idx, minlength=problem.n_layers) + (tiers >= 0)
            twice = int(np.flatnonzero(counts > 1)[0])
            raise InfeasibleAssignmentError(f"layer {problem.names[twice]!r} assigned twice")
        tiers[idx] = j
    missing = [problem.names[i] for i in np.flatnonzero(tiers < 0)]
    if missing:
        raise InfeasibleAssignmentError(f"layers on no tier: {missing[:5]}")
    return tiers


def layer_indices(problem: PartitionCore, names, where: str) -> np.ndarray:
    """Layer indices of the names in ``names`` (an iterable), O(len(names)).

    Raises
    ------
    InfeasibleAssignmentError
        Naming the first unknown (or unhashable) name and ``where`` it was.
    """
    names = list(names)
    index = problem.index
    try:
        return np.fromiter(map(index.__getitem__, names), dtype=np.intp, count=len(names))
    except (KeyError, TypeError):  # an unknown or unhashable name: find it for the message
        bad = next(nm for nm in names if not isinstance(nm, str) or nm not in index)
        raise InfeasibleAssignmentError(f"unknown layer {bad!r} in {where}") from None
