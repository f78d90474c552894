"""The pieces of a bandwidth map: intervals of uplink bandwidth, each with one optimal partition."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from formulations.errors import OptionError

__all__ = ["Piece", "BandwidthMap"]


@dataclass(frozen=True)
class Piece:
    """One interval of bandwidths with one optimal partition.

    Latency on this piece is ``fixed_ms + per_mbps_ms / uplink_mbps``.
    """

    min_mbps: float
    max_mbps: float
    device: tuple[str, ...]
    fixed_ms: float
    per_mbps_ms: float

    def latency(self, uplink_mbps: float) -> float:
        return self.fixed_ms + self.per_mbps_ms / uplink_mbps

    def to_dict(self) -> dict:
        return {
            "min_mbps": self.min_mbps,
            "max_mbps": self.max_mbps,
            "device_layers": len(self.device),
            "device": list(self.device),
            "fixed_ms": self.fixed_ms,
            "per_mbps_ms": self.per_mbps_ms,
        }


@dataclass
class BandwidthMap:
    """Optimal partitions over a bandwidth range, pieces in ascending Mbps.

    ``lookup`` is a binary search: O(log #pieces).
    """

    pieces: list[Piece]
    solves: int = 0
    method: str = "qdmp"
    _starts: list[float] = field(default_factory=list, repr=False)

    def __post_init__(self):
        self._starts = [p.min_mbps for p in self.pieces]

    @property
    def breakpoints_mbps(self) -> list[float]:
        """Bandwidths where the optimal partition changes."""
        return [p.min_mbps for p in self.pieces[1:]]

    def lookup(self, uplink_mbps: float) -> Piece:
        """The piece holding ``uplink_mbps`` (clamped to the mapped range); O(log pieces)."""
        if not isinstance(uplink_mbps, (int, float, np.integer, np.floating)) or not uplink_mbps > 0:
            raise OptionError(f"`uplink_mbps` must be a number > 0, got {uplink_mbps!r}")
        k = bisect.bisect_right(self._starts, uplink_mbps) - 1
        return self.pieces[min(max(k, 0), len(self.pieces) - 1)]

    def latency(self, uplink_mbps: float) -> float:
        """Optimal latency in ms at ``uplink_mbps`` (inside the range)."""
        return self.lookup(uplink_mbps).latency(uplink_mbps)

    def to_dict(self) -> dict:
        return {"method": self.method, "solves": self.solves, "pieces": [p.to_dict() for p in self.pieces]}
