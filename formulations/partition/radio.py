"""The phone's radio: power while sending and receiving, and the energy of a transfer burst.

A :class:`RadioModel` follows Huang et al. [1]_: while a radio moves data at
``u`` Mbps up or ``d`` Mbps down the phone draws (Table 4 of [1]_, one
direction at a time)::

    P_up(u)   = alpha_up   * min(u, max_up_mbps)   + beta     (mW)
    P_down(d) = alpha_down * min(d, max_down_mbps) + beta     (mW)

The linear model holds within the throughputs Huang et al. measured; beyond
``max_up_mbps`` / ``max_down_mbps`` the power is held at its value there
(saturated), never extrapolated. While the phone waits with the radio
connected (the server computes, an RTT passes) it draws ``idle_mw`` (the
tail base power of Table 3, the connected state without data).

A burst of transfers (one offloaded inference: upload, wait, download) also
costs, once (Table 3 of [1]_)::

    burst_mj = promotion_mw * promotion_ms / 1000 + sum(tail_mw * tail_ms) / 1000

the promotion from idle to connected before the first packet and the tail
(the radio kept connected after the last packet until its inactivity timer
expires). For LTE the tail is 1060 mW for 11.576 s = 12.27 J, far above the
upload energy of one inference. The promotion *delay* is not added to the
latency: an application can start the promotion when the inference starts,
overlapping the phone's compute (add it to link 0's ``rtt_ms`` otherwise).

Presets (:data:`PRESETS`): ``"wifi"``, ``"lte"``, ``"3g"``. An instance
gives ``"radio": "lte"``, or ``{"preset": "lte", "tail_ms": 5000}`` (a
preset with fields replaced) or every field explicitly.

Notes
-----
The measurement ranges (``max_up_mbps``, ``max_down_mbps``) are not
tabulated in [1]_; the presets use the approximate upper end of the
throughputs in its power-throughput figures (Fig. 9 for LTE, Fig. 10 for 3G
and Wi-Fi), read from the plots. Huang et al. measured whole-phone power
(an HTC Thunderbolt, 2011): the LTE uplink model passes 3 W near
3.9 Mbps.

References
----------
.. [1] J. Huang, F. Qian, A. Gerber, Z. M. Mao, S. Sen, O. Spatscheck. A
   Close Examination of Performance and Power Characteristics of 4G LTE
   Networks. MobiSys 2012, Table 3 (promotion, tail, base powers) and
   Table 4 (data transfer power model).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping

from ..errors import InstanceError
from ..validate import as_mapping, as_nonneg, as_positive, reject_unknown

__all__ = ["RadioModel", "PRESETS", "radio_from_spec", "SOURCE"]

SOURCE = (
    "J. Huang, F. Qian, A. Gerber, Z. M. Mao, S. Sen, O. Spatscheck: A Close Examination of Performance and "
    "Power Characteristics of 4G LTE Networks, MobiSys 2012, Table 3 (promotion, tail) and Table 4 "
    "(P = alpha * throughput + beta)"
)


@dataclass(frozen=True)
class RadioModel:
    """A phone radio's power model (mW, Mbps, ms); see the module docstring.

    Attributes
    ----------
    alpha_up_mw_per_mbps, alpha_down_mw_per_mbps : float
        Power per Mbps sent / received (mW/Mbps).
    beta_mw : float
        Power while transferring at (near) zero throughput (mW).
    max_up_mbps, max_down_mbps : float
        End of the measured range; the power is saturated beyond (Mbps, > 0).
    idle_mw : float
        Power while connected and waiting, no data (mW).
    promotion_mw, promotion_ms : float
        Power and duration of the promotion to the connected state, once per burst.
    tail_mw, tail_ms : tuple of float
        Power and duration of each tail phase after the last packet (3G has two).
    preset : str or None
        The preset the model came from (unchanged), else None.
    """

    alpha_up_mw_per_mbps: float
    alpha_down_mw_per_mbps: float
    beta_mw: float
    max_up_mbps: float
    max_down_mbps: float
    idle_mw: float
    promotion_mw: float = 0.0
    promotion_ms: float = 0.0
    tail_mw: tuple[float, ...] = ()
    tail_ms: tuple[float, ...] = ()
    preset: str | None = None

    def __post_init__(self):
        for f in _NUMBER_FIELDS:
            check = as_positive if f in ("max_up_mbps", "max_down_mbps") else as_nonneg
            object.__setattr__(self, f, check(getattr(self, f), f"radio.{f}"))
        mw, ms = tuple(self.tail_mw), tuple(self.tail_ms)
        if len(mw) != len(ms):
            raise InstanceError(f"tail_mw has {len(mw)} entries, tail_ms {len(ms)}; give one per tail phase",
                                field="radio.tail_ms")
        object.__setattr__(self, "tail_mw", tuple(as_nonneg(x, f"radio.tail_mw[{i}]") for i, x in enumerate(mw)))
        object.__setattr__(self, "tail_ms", tuple(as_nonneg(x, f"radio.tail_ms[{i}]") for i, x in enumerate(ms)))

    def tx_w(self, uplink_mbps: float) -> float:
        """Power while sending at ``uplink_mbps`` (W), saturated beyond ``max_up_mbps``. O(1)."""
        return (self.alpha_up_mw_per_mbps * min(float(uplink_mbps), self.max_up_mbps) + self.beta_mw) / 1000.0

    def rx_w(self, downlink_mbps: float) -> float:
        """Power while receiving at ``downlink_mbps`` (W), saturated beyond ``max_down_mbps``. O(1)."""
        return (self.alpha_down_mw_per_mbps * min(float(downlink_mbps), self.max_down_mbps) + self.beta_mw) / 1000.0

    @property
    def idle_w(self) -> float:
        """Power while connected and waiting (W)."""
        return self.idle_mw / 1000.0

    @property
    def promotion_mj(self) -> float:
        """Energy of one promotion (mJ): ``promotion_mw * promotion_ms / 1000``."""
        return self.promotion_mw * self.promotion_ms / 1000.0

    @property
    def tail_mj(self) -> float:
        """Energy of one tail (mJ): ``sum(tail_mw * tail_ms) / 1000``."""
        return sum(p * t for p, t in zip(self.tail_mw, self.tail_ms)) / 1000.0

    @property
    def burst_mj(self) -> float:
        """Promotion plus tail energy (mJ), paid once per offloaded inference."""
        return self.promotion_mj + self.tail_mj

    def max_power_w(self, uplink_mbps: float, downlink_mbps: float) -> float:
        """The largest power this radio draws on a link of these rates (W): transfer, idle, promotion, tail."""
        return max([self.tx_w(uplink_mbps), self.rx_w(downlink_mbps), self.idle_w, self.promotion_mw / 1000.0,
                    *(p / 1000.0 for p in self.tail_mw)])

    def to_spec(self) -> Any:
        """The JSON form: the preset name when unchanged, else every field."""
        if self.preset is not None and PRESETS.get(self.preset) == self:
            return self.preset
        out: dict[str, Any] = {f: getattr(self, f) for f in _NUMBER_FIELDS}
        out["tail_mw"], out["tail_ms"] = list(self.tail_mw), list(self.tail_ms)
        return out


_NUMBER_FIELDS = (
    "alpha_up_mw_per_mbps", "alpha_down_mw_per_mbps", "beta_mw", "max_up_mbps", "max_down_mbps", "idle_mw",
    "promotion_mw", "promotion_ms",
)
_SPEC_FIELDS = (*_NUMBER_FIELDS, "tail_mw", "tail_ms")
_REQUIRED = _NUMBER_FIELDS[:6]

#: Huang et al. (MobiSys'12) presets. Table 4: alpha_u, alpha_d, beta; Table 3: the promotion,
#: the tail (LTE: tail base for T_tail; 3G: DCH tail then FACH tail; Wi-Fi: tail base), the
#: connected-waiting power = the tail base. Ranges: see the module notes.
PRESETS: dict[str, RadioModel] = {
    "wifi": RadioModel(283.17, 137.01, 132.86, max_up_mbps=10.0, max_down_mbps=15.0, idle_mw=119.3,
                       promotion_mw=124.4, promotion_ms=79.1, tail_mw=(119.3,), tail_ms=(238.1,), preset="wifi"),
    "lte": RadioModel(438.39, 51.97, 1288.04, max_up_mbps=5.0, max_down_mbps=20.0, idle_mw=1060.0,
                      promotion_mw=1210.7, promotion_ms=260.1, tail_mw=(1060.0,), tail_ms=(11576.0,), preset="lte"),
    "3g": RadioModel(868.98, 122.12, 817.88, max_up_mbps=2.0, max_down_mbps=5.0, idle_mw=803.9,
                     promotion_mw=659.4, promotion_ms=582.1, tail_mw=(803.9, 601.3), tail_ms=(8088.2, 824.2),
                     preset="3g"),
}


def radio_from_spec(spec: Any, field: str = "radio") -> RadioModel:
    """A :class:`RadioModel` from an instance's ``radio`` value.

    ``spec`` is a preset name (``"wifi"``, ``"lte"``, ``"3g"``), a mapping
    ``{"preset": name, field: value, ...}`` (the preset with fields
    replaced), a mapping with every field, or a :class:`RadioModel`.

    Raises
    ------
    InstanceError
        Naming ``field`` (e.g. ``radio.tail_ms``) for an unknown preset, an
        unknown or missing field, or a bad value.
    """
    if isinstance(spec, RadioModel):
        return spec
    if isinstance(spec, str):
        if spec not in PRESETS:
            raise InstanceError(f"unknown radio preset {spec!r}; presets: {sorted(PRESETS)}", field=field)
        return PRESETS[spec]
    raw = dict(as_mapping(spec, field))
    reject_unknown(raw, ("preset", *_SPEC_FIELDS), field)
    preset = raw.pop("preset", None)
    if preset is not None and preset not in PRESETS:
        raise InstanceError(f"unknown radio preset {preset!r}; presets: {sorted(PRESETS)}", field=f"{field}.preset")
    for key in ("tail_mw", "tail_ms"):
        if key in raw:
            value = raw[key]
            raw[key] = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    try:
        if preset is not None:
            return replace(PRESETS[preset], **raw, preset=None) if raw else PRESETS[preset]
        missing = [key for key in _REQUIRED if key not in raw]
        if missing:
            raise InstanceError(f"missing required field (or give a `preset`: {sorted(PRESETS)})",
                                field=f"{field}.{missing[0]}")
        return RadioModel(**raw)
    except InstanceError as exc:
        if field != "radio" and exc.field and exc.field.startswith("radio."):
            raise InstanceError(exc.message, field=field + exc.field[5:]) from None
        raise
