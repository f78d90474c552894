"""The objectives of a partition instance, as small objects the core evaluates.

An objective turns the :class:`~formulations.partition.evaluation.Measures`
of an assignment (latency, device energy, the period of a pipelined stream)
into one number. Each knows its ``sense``, its ``unit`` and its JSON form
(``spec``):

======================================  ========  =========  ==============================
``objective`` in the file               sense     unit       value
======================================  ========  =========  ==============================
``"latency"`` (default)                 min       ms         ``latency_ms``
``"energy"``                            min       mJ         ``energy_mj`` (device, tier 0)
``{"weighted": {"latency": a,           min       weighted   ``a*latency_ms + b*energy_mj``
"energy": b}}``
``"throughput"``                        max       frames/s   ``1000 / period_ms``
======================================  ========  =========  ==============================

The linear objectives (all but throughput) are ``a*latency + b*energy`` with
``weights = (a, b)``; the min-cut and CP-SAT models use those weights. The
throughput objective's ``weights`` are the latency's (its warm starts).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from ..errors import InstanceError
from ..validate import as_mapping, as_nonneg, reject_unknown

__all__ = ["Objective", "Linear", "Throughput", "objective_of"]


@dataclass(frozen=True)
class Objective:
    """Base of the objectives: ``value(measures)`` in ``unit``, to ``sense``.

    Attributes
    ----------
    spec : str or mapping
        The objective as written in the instance file.
    weights : (float, float)
        ``(latency, energy)`` weights of the linear form (see module docstring).
    """

    spec: Any
    weights: tuple[float, float]
    sense = "min"
    unit = "ms"

    def value(self, latency_ms: float, energy_mj: float | None, period_ms: float | None = None) -> float:
        raise NotImplementedError

    @property
    def needs_energy(self) -> bool:
        """Whether the objective uses the device energy (an ``energy`` model)."""
        return self.weights[1] > 0


@dataclass(frozen=True)
class Linear(Objective):
    """``a*latency_ms + b*energy_mj`` (latency, energy or weighted). O(1)."""

    @property
    def unit(self) -> str:  # type: ignore[override]
        a, b = self.weights
        return "ms" if b == 0 else "mJ" if a == 0 else "weighted"

    def value(self, latency_ms: float, energy_mj: float | None, period_ms: float | None = None) -> float:
        a, b = self.weights
        if b == 0:
            return float(latency_ms) if a == 1 else a * float(latency_ms)
        if energy_mj is None:  # objective_of refuses energy weights without an energy model
            raise ValueError("an energy objective needs the energy (mJ)")
        if a == 0:
            return float(energy_mj) if b == 1 else b * float(energy_mj)
        return a * float(latency_ms) + b * float(energy_mj)


@dataclass(frozen=True)
class Throughput(Objective):
    """Frames per second of a pipelined stream, ``1000 / period_ms`` (infinite when no stage has work). O(1)."""

    sense = "max"
    unit = "frames/s"

    def value(self, latency_ms: float, energy_mj: float | None, period_ms: float | None = None) -> float:
        return math.inf if not period_ms else 1000.0 / float(period_ms)


def objective_of(spec: Any, has_energy: bool) -> Objective:
    """The objective object of an instance's ``objective`` field.

    Raises
    ------
    InstanceError
        For an unknown objective, bad weights, or an energy objective without
        an ``energy`` model (naming ``objective``).
    """
    if spec == "throughput":
        return Throughput("throughput", (1.0, 0.0))
    if spec == "latency":
        weights = (1.0, 0.0)
    elif spec == "energy":
        weights = (0.0, 1.0)
    elif isinstance(spec, Mapping) and set(spec) == {"weighted"}:
        raw = as_mapping(spec["weighted"], "objective.weighted")
        if "throughput" in raw:
            raise InstanceError('throughput is not a weighted sum and takes no energy weight: use "objective": '
                                '"throughput" (with "constraints" to bound latency or energy)',
                                field="objective.weighted.throughput")
        reject_unknown(raw, ("latency", "energy"), "objective.weighted")
        weights = (as_nonneg(raw.get("latency", 0.0), "objective.weighted.latency"),
                   as_nonneg(raw.get("energy", 0.0), "objective.weighted.energy"))
        if weights[0] + weights[1] <= 0:
            raise InstanceError("at least one weight must be > 0", field="objective.weighted")
        spec = {"weighted": dict(spec["weighted"])}
    else:
        raise InstanceError(
            f'expected "latency", "energy", "throughput" or {{"weighted": {{"latency": a, "energy": b}}}}, '
            f'got {spec!r}',
            field="objective",
        )
    if weights[1] > 0 and not has_energy:
        raise InstanceError("an energy objective needs an `energy` model", field="objective")
    return Linear(spec, weights)
