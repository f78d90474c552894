"""The JSON forms of a partition instance (``kind: "partition"``), read into the one core model.

Two forms, one kind: the **two-tier** form (layers with ``device_ms`` and
``server_ms``, one ``network``) loads into
:class:`~formulations.partition.PartitionProblem`; the **k-tier** form
(``tiers``, layers with ``ms``, ``network.links``, optional ``energy``,
``objective``, ``constraints``) into
:class:`~formulations.partition.TieredPartitionProblem`. A two-tier file
that uses any k-tier field (:func:`is_tiered_data`) is read as k-tier.
Errors name the file and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from ..errors import InstanceError
from ..validate import (as_bytes, as_list, as_mapping, as_name, as_nonneg, as_positive, check_header, naming_file,
                        reject_unknown, require)
from .radio import radio_from_spec
from .layers import ENERGY_FIELDS, EnergyModel, Layer, Link, TierLayer, checked_tiers
from .units import RESOURCE_FIELDS

__all__ = ["is_tiered_data", "two_tier_from_dict", "tiered_from_dict", "to_dict"]

_TWO_TIER_TOP = {"kind", "version", "name", "layers", "edges", "network", "pinned", "device_budget", "metadata"}
_TIERED_TOP = _TWO_TIER_TOP | {"tiers", "energy", "objective", "constraints", "radio"}
_TWO_TIER_LAYER = {"name", "device_ms", "server_ms", "output_bytes", "op", "meta", *RESOURCE_FIELDS}
_TIERED_LAYER = _TWO_TIER_LAYER | {"ms", "device_mj"}
_LINK_FIELDS = ("uplink_mbps", "downlink_mbps", "rtt_ms")


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


def _common(data: Mapping[str, Any], file: str | None) -> dict[str, Any]:
    return dict(pinned=data.get("pinned"), device_budget=data.get("device_budget"),
                metadata=as_mapping(data.get("metadata", {}), "metadata"),
                name=data.get("name") or (Path(file).stem if file else None))


def _extras(raw: Mapping[str, Any], fld: str) -> dict[str, Any]:
    out = {key: as_nonneg(raw[key], f"{fld}.{key}") for key in RESOURCE_FIELDS if raw.get(key) is not None}
    return dict(out, op=raw.get("op"), meta=raw.get("meta"))


def _times(raw: Mapping[str, Any], fld: str, keys=("device_ms", "server_ms")) -> tuple[float, ...]:
    return tuple(as_nonneg(require(raw, key, f"{fld}.{key}"), f"{fld}.{key}") for key in keys)


def _link(raw: Any, fld: str) -> Link:
    raw = as_mapping(raw, fld)
    reject_unknown(raw, _LINK_FIELDS, fld)
    return Link(
        uplink_mbps=as_positive(require(raw, "uplink_mbps", f"{fld}.uplink_mbps"), f"{fld}.uplink_mbps"),
        downlink_mbps=None if raw.get("downlink_mbps") is None else as_positive(raw["downlink_mbps"], f"{fld}.downlink_mbps"),
        rtt_ms=as_nonneg(raw.get("rtt_ms", 0.0), f"{fld}.rtt_ms"),
    )


def two_tier_from_dict(cls, data: Mapping[str, Any], file: str | None = None):
    """A two-tier instance dict as ``cls`` (a :class:`PartitionProblem`). O(n + m)."""
    with naming_file(file):
        check_header(data, "partition")
        reject_unknown(data, _TWO_TIER_TOP, "<root>")
        layers = []
        for i, raw in enumerate(as_list(require(data, "layers", "layers"), "layers", nonempty=True)):
            fld = f"layers[{i}]"
            raw = as_mapping(raw, fld)
            reject_unknown(raw, _TWO_TIER_LAYER, fld)
            name = as_name(require(raw, "name", f"{fld}.name"), f"{fld}.name")
            device_ms, server_ms = _times(raw, fld)
            nbytes = as_bytes(require(raw, "output_bytes", f"{fld}.output_bytes"), f"{fld}.output_bytes")
            layers.append(Layer(name, device_ms, server_ms, nbytes, memory_bytes=raw.get("memory_bytes"),
                                flops=raw.get("flops"), op=raw.get("op"), meta=raw.get("meta")))
        network = _link(require(data, "network", "network"), "network")
        return cls(layers, as_list(data.get("edges", []), "edges"), network, **_common(data, file))


def _tier_layer(raw: Any, i: int, n_tiers: int) -> TierLayer:
    fld = f"layers[{i}]"
    raw = as_mapping(raw, fld)
    reject_unknown(raw, _TIERED_LAYER, fld)
    if "ms" in raw:
        if "device_ms" in raw or "server_ms" in raw:
            raise InstanceError("give either `ms` or `device_ms`/`server_ms`, not both", field=fld)
        values = as_list(raw["ms"], f"{fld}.ms")
        if len(values) != n_tiers:
            raise InstanceError(f"expected {n_tiers} numbers (one per tier), got {len(values)}", field=f"{fld}.ms")
        ms = tuple(as_nonneg(x, f"{fld}.ms[{j}]") for j, x in enumerate(values))
    elif n_tiers == 2:
        ms = _times(raw, fld)
    else:
        raise InstanceError("missing required field (one time per tier)", field=f"{fld}.ms")
    device_mj = None if raw.get("device_mj") is None else as_nonneg(raw["device_mj"], f"{fld}.device_mj")
    return TierLayer(name=as_name(require(raw, "name", f"{fld}.name"), f"{fld}.name"), ms=ms,
                     output_bytes=as_bytes(require(raw, "output_bytes", f"{fld}.output_bytes"), f"{fld}.output_bytes"),
                     device_mj=device_mj, **_extras(raw, fld))


def _links(net: Any, n_tiers: int) -> list[Link]:
    net = as_mapping(net, "network")
    if "links" not in net:
        if n_tiers != 2:
            raise InstanceError(f"missing required field ({n_tiers - 1} links)", field="network.links")
        return [_link(net, "network")]
    reject_unknown(net, ("links",), "network")
    raw_links = as_list(net["links"], "network.links")
    if len(raw_links) != n_tiers - 1:
        raise InstanceError(f"need {n_tiers - 1} links for {n_tiers} tiers, got {len(raw_links)}", field="network.links")
    return [_link(raw, f"network.links[{b}]") for b, raw in enumerate(raw_links)]


def tiered_from_dict(cls, data: Mapping[str, Any], file: str | None = None):
    """A k-tier (or two-tier) instance dict as ``cls`` (a :class:`TieredPartitionProblem`). O(k (n + m))."""
    with naming_file(file):
        check_header(data, "partition")
        reject_unknown(data, _TIERED_TOP, "<root>")
        tiers = checked_tiers(data.get("tiers", ["device", "server"]))
        raw_layers = as_list(require(data, "layers", "layers"), "layers", nonempty=True)
        layers = [_tier_layer(raw, i, len(tiers)) for i, raw in enumerate(raw_layers)]
        links = _links(require(data, "network", "network"), len(tiers))
        energy = None
        radio = radio_from_spec(data["radio"]) if "radio" in data else None
        if "energy" in data:
            # with a radio only compute_w is given: the radio supplies tx_w, rx_w and idle_w
            raw = as_mapping(data["energy"], "energy")
            reject_unknown(raw, ENERGY_FIELDS if radio is None else ("compute_w",), "energy")
            energy = EnergyModel(*(as_nonneg(require(raw, key, f"energy.{key}"), f"energy.{key}")
                                   if radio is None or key == "compute_w" else 0.0 for key in ENERGY_FIELDS))
        return cls(tiers, layers, as_list(data.get("edges", []), "edges"), links, energy=energy, radio=radio,
                   objective=data.get("objective", "latency"), constraints=data.get("constraints"),
                   **_common(data, file))


def _layer_dict(layer, times: dict[str, Any], extra_keys) -> dict[str, Any]:
    item: dict[str, Any] = {"name": layer.name, **times, "output_bytes": int(layer.output_bytes)}
    for key in (*extra_keys, *RESOURCE_FIELDS, "op", "meta"):
        if getattr(layer, key) is not None:
            item[key] = getattr(layer, key)
    return item


def to_dict(problem, two_tier: bool) -> dict:
    """``problem`` as a JSON-ready dict (``kind: "partition"``, version 1), in the two-tier or k-tier form."""
    out: dict[str, Any] = {"kind": "partition", "version": 1}
    if problem.name:
        out["name"] = problem.name
    if two_tier:
        out["network"] = problem.network.to_dict()
        out["layers"] = [_layer_dict(l, {"device_ms": float(l.device_ms), "server_ms": float(l.server_ms)}, ())
                         for l in problem.layers]
    else:
        out["tiers"] = list(problem.tiers)
        out["network"] = {"links": [link.to_dict() for link in problem.links]}
        if problem.energy is not None:
            out["energy"] = problem.energy.to_dict() if problem.radio is None else {"compute_w": problem.energy.compute_w}
        if problem.radio is not None:
            out["radio"] = problem.radio.to_spec()
        if problem.objective != "latency":
            out["objective"] = problem.objective
        if problem.constraints:
            out["constraints"] = dict(problem.constraints)
        out["layers"] = [_layer_dict(l, {"ms": [float(x) for x in l.ms]}, ("device_mj",)) for l in problem.layers]
    out["edges"] = [list(e) for e in problem.edges]
    if any(problem.pinned.values()):
        out["pinned"] = {k: list(v) for k, v in problem.pinned.items() if v}
    if problem.device_budget:
        out["device_budget"] = dict(problem.device_budget)
    if problem.metadata:
        out["metadata"] = dict(problem.metadata)
    return out
