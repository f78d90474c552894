"""The records of a partition instance (layers, links, the energy model) and their validation.

Both forms share them: a two-tier :class:`Layer` is a :class:`TierLayer`
with ``ms = (device_ms, server_ms)``, and a two-tier network is the one
:class:`Link` of a k = 2 instance. Every check raises
:class:`~formulations.errors.InstanceError` naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..errors import InstanceError, OptionError
from ..validate import as_bytes, as_list, as_mapping, as_name, as_nonneg, as_positive, reject_unknown
from .units import RESOURCE_FIELDS, Network
from ..tolerances import FEASIBILITY_RTOL

__all__ = ["Layer", "TierLayer", "Link", "EnergyModel", "ENERGY_FIELDS", "CONSTRAINT_FIELDS", "TOLERANCE",
           "checked_tiers", "checked_link", "checked_energy", "checked_layers", "checked_pins",
           "checked_constraints", "resource_arrays"]

#: Relative tolerance of the ``latency_max_ms`` / ``energy_max_mj`` checks:
#: a value passes when ``value <= limit + TOLERANCE * max(1, |limit|)``.
TOLERANCE = FEASIBILITY_RTOL

ENERGY_FIELDS = ("compute_w", "tx_w", "rx_w", "idle_w")
CONSTRAINT_FIELDS = ("latency_max_ms", "energy_max_mj")


@dataclass(frozen=True)
class Layer:
    """One DNN layer of a two-tier instance (a node of the DAG).

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

    @property
    def ms(self) -> tuple[float, float]:
        """The times per tier, ``(device_ms, server_ms)``: the layer as a k = 2 :class:`TierLayer`."""
        return (self.device_ms, self.server_ms)

    @property
    def device_mj(self) -> None:
        """No measured device energy in the two-tier form."""
        return None


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
        return {k: getattr(self, k) for k in ENERGY_FIELDS}


def checked_tiers(tiers) -> tuple[str, ...]:
    """k >= 2 distinct tier names."""
    tiers = as_list(tiers, "tiers")
    if len(tiers) < 2:
        raise InstanceError(f"need at least 2 tiers, got {len(tiers)}", field="tiers")
    out = tuple(as_name(t, f"tiers[{i}]") for i, t in enumerate(tiers))
    if len(set(out)) != len(out):
        raise InstanceError(f"duplicate tier names in {list(out)}", field="tiers")
    return out


def checked_link(link: Network, fld: str) -> Network:
    """A link with bandwidths > 0 and an RTT >= 0; errors name ``fld.uplink_mbps`` etc."""
    if not isinstance(link, Network):  # a wrong argument (files always give a Network): an OptionError
        raise OptionError(f"`{fld}` must be a Link (Network), got {type(link).__name__}")
    as_positive(link.uplink_mbps, f"{fld}.uplink_mbps")
    if link.downlink_mbps is not None:
        as_positive(link.downlink_mbps, f"{fld}.downlink_mbps")
    as_nonneg(link.rtt_ms, f"{fld}.rtt_ms")
    return link


def checked_energy(energy: EnergyModel | None) -> EnergyModel | None:
    if energy is not None:
        for key in ENERGY_FIELDS:
            as_nonneg(getattr(energy, key), f"energy.{key}")
    return energy


def checked_layers(layers: Sequence, n_tiers: int, has_energy: bool,
                   time_fields: Callable[[int], Sequence[str]]) -> list[str]:
    """Validate every layer; return the names. ``time_fields(i)`` names layer ``i``'s k times for errors.

    O(n k).
    """
    names: list[str] = []
    seen: set[str] = set()
    for i, layer in enumerate(layers):
        nm = as_name(layer.name, f"layers[{i}].name")
        if nm in seen:
            raise InstanceError(f"duplicate layer name {nm!r}", field=f"layers[{i}].name")
        seen.add(nm)
        names.append(nm)
        if len(layer.ms) != n_tiers:
            raise InstanceError(f"expected {n_tiers} numbers (one per tier), got {len(layer.ms)}", field=f"layers[{i}].ms")
        for value, fld in zip(layer.ms, time_fields(i)):
            as_nonneg(value, fld)
        as_bytes(layer.output_bytes, f"layers[{i}].output_bytes")
        if layer.device_mj is not None:
            as_nonneg(layer.device_mj, f"layers[{i}].device_mj")
            if not has_energy:
                raise InstanceError("`device_mj` needs an `energy` model", field=f"layers[{i}].device_mj")
        for res in RESOURCE_FIELDS:
            if getattr(layer, res) is not None:
                as_nonneg(getattr(layer, res), f"layers[{i}].{res}")
    return names


def resource_arrays(layers: Sequence) -> dict[str, np.ndarray]:
    """Per-layer arrays of the resources some layer declares (0 where a layer does not)."""
    return {
        res: np.array([float(getattr(l, res) or 0.0) for l in layers])
        for res in RESOURCE_FIELDS
        if any(getattr(l, res) is not None for l in layers)
    }


def checked_pins(pinned, tiers: Sequence[str], index: Mapping[str, int]) -> Mapping[str, tuple[str, ...]]:
    """``{tier: (layer names)}`` for every tier; a layer pinned to two tiers is an error. O(pins)."""
    pinned = as_mapping(pinned, "pinned")
    out: dict[str, tuple[str, ...]] = {tier: () for tier in tiers}
    owner: dict[str, str] = {}
    for tier, names in pinned.items():
        if tier not in out:
            raise InstanceError(f"unknown tier {tier!r}; tiers: {list(tiers)}", field="pinned")
        names = as_list(names, f"pinned.{tier}")
        for k, nm in enumerate(names):
            if not isinstance(nm, str) or nm not in index:
                raise InstanceError(f"unknown layer {nm!r}", field=f"pinned.{tier}[{k}]")
            if owner.get(nm, tier) != tier:
                raise InstanceError(f"layer {nm!r} pinned to {owner[nm]!r} and {tier!r}", field="pinned")
            owner[nm] = tier
        out[tier] = tuple(dict.fromkeys(names))
    return MappingProxyType(out)


def checked_constraints(constraints, has_energy: bool) -> Mapping[str, float]:
    """``latency_max_ms`` and/or ``energy_max_mj`` (>= 0); the latter needs an energy model."""
    constraints = as_mapping(constraints, "constraints")
    reject_unknown(constraints, CONSTRAINT_FIELDS, "constraints")
    out = {key: as_nonneg(value, f"constraints.{key}") for key, value in constraints.items()}
    if "energy_max_mj" in out and not has_energy:
        raise InstanceError("`energy_max_mj` needs an `energy` model", field="constraints.energy_max_mj")
    return MappingProxyType(out)
