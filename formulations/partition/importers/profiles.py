"""Device profiles: per-layer costs from a roofline model or from measurements.

A *named* profile is a roofline model read from the data file
``formulations/data/device_profiles.json`` (figures and their sources live
there, not in code). A layer with ``flops`` floating-point operations that
moves ``bytes`` bytes (inputs, weights and outputs) takes, in ms::

    overhead_us / 1000 + max(flops / (peak_gflops * efficiency * 1e6),
                             bytes / (memory_gbps * efficiency * 1e6))

Layers with no work (graph inputs) cost 0. A *measured* profile is a JSON
file ``{"kind": "measured_profile", "version": 1, "layers_ms": {name: ms}}``
(for instance written by ``coinfer import --save-profile``) that gives every
layer's time directly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ...errors import InstanceError
from ...validate import as_mapping, as_nonneg, as_positive, check_header, naming_file, require

__all__ = ["RooflineProfile", "MeasuredProfile", "profile_names", "get_profile", "load_profiles"]


@dataclass(frozen=True)
class RooflineProfile:
    """A roofline cost model of one device.

    Attributes
    ----------
    name, description : str
    peak_gflops : float
        Peak FP32 throughput, GFLOP/s.
    memory_gbps : float
        Peak memory bandwidth, GB/s.
    efficiency : float
        Fraction of both peaks a layer reaches (0 < efficiency <= 1).
    overhead_us : float
        Fixed cost per layer (kernel launch, dispatch), microseconds.
    sources : tuple of str
        Where the figures come from.
    """

    name: str
    description: str
    peak_gflops: float
    memory_gbps: float
    efficiency: float
    overhead_us: float
    sources: tuple[str, ...] = field(default=())

    def layer_ms(self, names: Sequence[str], flops: np.ndarray, bytes_moved: np.ndarray,
                 work: np.ndarray | None = None) -> np.ndarray:
        """Time in ms of each layer; layers with ``work`` False cost 0. O(n)."""
        flops = np.asarray(flops, dtype=float)
        bytes_moved = np.asarray(bytes_moved, dtype=float)
        compute = flops / (self.peak_gflops * self.efficiency * 1e6)
        memory = bytes_moved / (self.memory_gbps * self.efficiency * 1e6)
        out = self.overhead_us / 1000.0 + np.maximum(compute, memory)
        if work is not None:
            out = np.where(work, out, 0.0)
        return out

    def provenance(self) -> dict:
        return {"profile": self.name, "model": "roofline", "description": self.description,
                "peak_gflops": self.peak_gflops, "memory_gbps": self.memory_gbps,
                "efficiency": self.efficiency, "overhead_us": self.overhead_us,
                "sources": list(self.sources)}


@dataclass(frozen=True)
class MeasuredProfile:
    """Per-layer times measured elsewhere (a ``measured_profile`` file)."""

    name: str
    layers_ms: Mapping[str, float]
    source: str = ""

    def layer_ms(self, names: Sequence[str], flops=None, bytes_moved=None, work=None) -> np.ndarray:
        """Look every layer up by name; a missing non-input layer is an error."""
        out = np.zeros(len(names))
        for i, nm in enumerate(names):
            if nm in self.layers_ms:
                out[i] = self.layers_ms[nm]
            elif work is None or work[i]:
                raise InstanceError(f"the measured profile has no time for layer {nm!r}",
                                    field="layers_ms", file=self.name)
        return out

    def provenance(self) -> dict:
        return {"profile": self.name, "model": "measured", "source": self.source}


@lru_cache(maxsize=1)
def load_profiles() -> dict:
    """The named profiles of the package data file, as parsed JSON."""
    text = resources.files("formulations").joinpath("data/device_profiles.json").read_text("utf-8")
    return json.loads(text)["profiles"]


def profile_names() -> list[str]:
    """Names of the shipped roofline profiles."""
    return sorted(load_profiles())


def _roofline(name: str, raw: Mapping) -> RooflineProfile:
    fld = f"profiles.{name}"
    raw = as_mapping(raw, fld)
    eff = as_positive(raw.get("efficiency", 1.0), f"{fld}.efficiency")
    if eff > 1:
        raise InstanceError(f"must be <= 1, got {eff}", field=f"{fld}.efficiency")
    return RooflineProfile(
        name=name,
        description=str(raw.get("description", "")),
        peak_gflops=as_positive(require(raw, "peak_gflops", f"{fld}.peak_gflops"), f"{fld}.peak_gflops"),
        memory_gbps=as_positive(require(raw, "memory_gbps", f"{fld}.memory_gbps"), f"{fld}.memory_gbps"),
        efficiency=eff,
        overhead_us=as_nonneg(raw.get("overhead_us", 0.0), f"{fld}.overhead_us"),
        sources=tuple(raw.get("sources", ())),
    )


def _measured(path: Path) -> MeasuredProfile:
    from ...io import read_json

    data = read_json(path)
    with naming_file(str(path)):
        check_header(data, "measured_profile")
        layers = as_mapping(require(data, "layers_ms", "layers_ms"), "layers_ms")
        times = {str(k): as_nonneg(v, f"layers_ms.{k}") for k, v in layers.items()}
    return MeasuredProfile(name=str(path), layers_ms=times, source=str(data.get("source", "")))


def get_profile(name: str, field: str = "server_profile") -> RooflineProfile | MeasuredProfile:
    """A shipped roofline profile by name, or a measured profile file by path.

    Raises
    ------
    InstanceError
        Naming ``field`` and listing the known names, when ``name`` is
        neither a shipped profile nor an existing ``.json`` file.
    """
    table = load_profiles()
    if name in table:
        return _roofline(name, table[name])
    path = Path(name)
    if path.suffix == ".json" and path.is_file():
        return _measured(path)
    raise InstanceError(
        f"unknown profile {name!r}; use one of {sorted(table)} or a measured_profile .json file",
        field=field,
    )
