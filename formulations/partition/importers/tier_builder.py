"""Build a k-tier partition instance from a model and a list of tier profiles (``coinfer import --tiers``).

:func:`import_tiers` imports an ONNX model once per tier beyond the second
with :func:`~formulations.partition.importers.onnx.import_onnx` (tier 0 as
the device, tier ``j`` as the server), takes each tier's per-layer times
from those imports and joins them with the links into a
:class:`~formulations.partition.tiers.TieredPartitionProblem`::

    from formulations.partition.importers.tier_builder import import_tiers

    problem = import_tiers("model.onnx", ["phone-cpu", "edge-gpu", "datacentre-gpu"],
                           links=["100/100/5", "1000/1000/30"], radio="wifi")

Tier 0 is a profile name, a ``measured_profile`` .json file, or
``"measured"`` (timed on this machine by onnxruntime, as ``coinfer import``
does without ``--device-profile``); every other tier is a profile name or
file. A link is ``"UP[/DOWN[/RTT]]"`` (Mbps, Mbps, ms), a ``(up, down,
rtt)`` tuple or a :class:`~formulations.partition.tiers.Link`. With a
``radio`` (``"wifi"``, ``"lte"``, ``"3g"`` or a radio mapping, see
:mod:`formulations.partition.radio`) the instance gets an energy model:
the radio's powers at link 0's rates and ``compute_w`` (default 3 W, an
assumption recorded in the metadata).

Cost: one import per tier beyond the first (roofline tiers cost a
graph pass each, O(n + m); a measured tier 0 is timed once).
"""

from __future__ import annotations

from typing import Any, Sequence

from ...errors import InstanceError
from ...validate import as_nonneg, as_positive
from ..problem import PartitionProblem
from ..radio import radio_from_spec
from ..tiers import EnergyModel, Link, TierLayer, TieredPartitionProblem

__all__ = ["import_tiers", "parse_link", "MEASURED"]

#: Tier-0 name meaning "time the device part on this machine".
MEASURED = "measured"
#: Assumed phone compute power (W) when a radio is given without ``compute_w``.
DEFAULT_COMPUTE_W = 3.0


def parse_link(spec: Any, field: str) -> Link:
    """A :class:`Link` from ``"UP[/DOWN[/RTT]]"``, a tuple or a Link; errors name ``field``.

    >>> parse_link("100/50/5", "links[0]")
    Network(uplink_mbps=100.0, downlink_mbps=50.0, rtt_ms=5.0)
    """
    if isinstance(spec, Link):
        return spec
    if isinstance(spec, str):
        parts = spec.split("/")
        if not 1 <= len(parts) <= 3 or not parts[0]:
            raise InstanceError(f"expected UP[/DOWN[/RTT]] (Mbps, Mbps, ms), got {spec!r}", field=field)
        try:
            values = [float(p) if p else None for p in parts]
        except ValueError:
            raise InstanceError(f"expected numbers in UP[/DOWN[/RTT]], got {spec!r}", field=field) from None
    elif isinstance(spec, (tuple, list)) and 1 <= len(spec) <= 3:
        values = list(spec)
    else:
        raise InstanceError(f"expected 'UP[/DOWN[/RTT]]' or (up, down, rtt), got {spec!r}", field=field)
    values += [None] * (3 - len(values))
    up, down, rtt = values
    return Link(as_positive(up, f"{field}.uplink_mbps"),
                None if down is None else as_positive(down, f"{field}.downlink_mbps"),
                0.0 if rtt is None else as_nonneg(rtt, f"{field}.rtt_ms"))


def _tier_name(profile: str) -> str:
    from pathlib import Path

    return Path(profile).stem if profile.endswith(".json") else profile


def import_tiers(source, tiers: Sequence[str], links: Sequence[Any], *, radio: Any = None,
                 compute_w: float | None = None, name: str | None = None,
                 **import_options) -> TieredPartitionProblem:
    """Import ``source`` as a k-tier partition instance, one profile per tier.

    Parameters
    ----------
    source : str, path or onnx.ModelProto
        The model (see :func:`~formulations.partition.importers.onnx.import_onnx`).
    tiers : sequence of str
        k >= 2 profiles from the data's source outward (e.g. ``["phone-cpu",
        "edge-gpu", "datacentre-gpu"]``); tier 0 may be ``"measured"``. The
        tier names in the instance are the profile names (file stems).
    links : sequence
        k - 1 links, link b between tier b and b + 1 (see :func:`parse_link`).
    radio : str or mapping, optional
        The phone's radio; adds ``energy`` (``compute_w``) and ``radio``.
    compute_w : float, optional
        The phone's compute power in W (default 3 W with a radio, an assumption).
    name : str, optional
    **import_options
        Passed to ``import_onnx`` (``input_shape``, ``input_dtype``, ``runs``, ...;
        not ``device_profile``/``server_profile``/``uplink_mbps``/``rtt_ms``, which
        the tiers and links set).

    Raises
    ------
    InstanceError
        Naming ``tiers``, ``links[b]``, ``radio`` or ``compute_w``.
    """
    from .onnx import import_onnx

    tiers = [str(t) for t in tiers]
    if len(tiers) < 2:
        raise InstanceError(f"need at least 2 tiers, got {len(tiers)}", field="tiers")
    names = [_tier_name(t) for t in tiers]
    if len(set(names)) != len(names):
        raise InstanceError(f"duplicate tiers in {tiers}", field="tiers")
    if len(links) != len(tiers) - 1:
        raise InstanceError(f"need {len(tiers) - 1} links for {len(tiers)} tiers, got {len(links)}", field="links")
    from .profiles import get_profile

    for j, profile in enumerate(tiers):
        if not (j == 0 and profile == MEASURED):
            get_profile(profile, f"tiers[{j}]")  # fail fast, naming the tier
    parsed = [parse_link(spec, f"links[{b}]") for b, spec in enumerate(links)]
    clash = sorted({"device_profile", "server_profile", "uplink_mbps", "rtt_ms"} & set(import_options))
    if clash:
        raise InstanceError(f"{clash} are set by the tiers and links", field="tiers")
    radio_model = None if radio is None else radio_from_spec(radio)
    power = None
    if radio_model is not None or compute_w is not None:
        watts = DEFAULT_COMPUTE_W if compute_w is None else as_nonneg(compute_w, "compute_w")
        power = EnergyModel(watts, 0.0, 0.0, 0.0)
    device = None if tiers[0] == MEASURED else tiers[0]
    first: PartitionProblem | None = None
    per_tier = []
    for profile in tiers[1:]:
        problem = import_onnx(source, device_profile=device, server_profile=profile, name=name, **import_options)
        if first is None:
            first = problem
            per_tier.append(problem.device_ms)
            device = device or "phone-cpu"  # a measured tier 0 is timed once; later imports give server times only
        elif problem.names != first.names:  # pragma: no cover - imports are deterministic
            raise InstanceError(f"tier {profile!r} imported different layers", field="tiers")
        per_tier.append(problem.server_ms)
    if first is None:  # pragma: no cover - at least two tiers were checked above
        raise InstanceError("need at least two tiers", field="tiers")
    layers = [TierLayer(layer.name, tuple(float(t[i]) for t in per_tier), int(layer.output_bytes), flops=layer.flops,
                        memory_bytes=layer.memory_bytes, op=layer.op, meta=layer.meta)
              for i, layer in enumerate(first.layers)]
    meta = _metadata(first, tiers, names, parsed, radio_model, power, compute_w)
    return TieredPartitionProblem(names, layers, first.edges, parsed, energy=power, radio=radio_model,
                                  metadata=meta, name=first.name)


def _metadata(first, tiers, names, links, radio, power, compute_w) -> dict[str, Any]:
    meta: dict[str, Any] = {k: v for k, v in first.metadata.items() if k not in ("server_profile",)}
    meta["tiers"] = {
        nm: ("device times measured on this machine (onnxruntime)" if profile == MEASURED and j == 0
             else f"profile {profile}")
        for j, (nm, profile) in enumerate(zip(names, tiers))
    }
    meta["links"] = {str(b): f"{link.uplink_mbps:g} Mbps up, {link.effective_downlink_mbps:g} Mbps down, "
                             f"RTT {link.rtt_ms:g} ms (given)" for b, link in enumerate(links)}
    meta["builder"] = "formulations.partition.importers.tier_builder.import_tiers (coinfer import --tiers)"
    if power is not None:
        from ..radio import SOURCE

        meta["power"] = {
            "compute_w": f"{power.compute_w:g} W" + (" (assumed default)" if compute_w is None else " (given)"),
            **({"radio": f"{radio.to_spec()!r}: {SOURCE}"} if radio is not None else {}),
        }
    return meta
