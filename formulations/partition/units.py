"""What the two-tier and the k-tier partition forms share: the network link, transfer times, resource fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["RESOURCE_FIELDS", "Network", "transfer_ms"]

#: Optional per-layer resource fields that a ``device_budget`` may limit.
RESOURCE_FIELDS = ("memory_bytes", "flops")


def transfer_ms(nbytes, mbps: float):
    """Time in ms to send ``nbytes`` bytes at ``mbps`` megabits per second.

    ``nbytes * 8 / (mbps * 1000)``: 1 Mbps carries 1000 bits per ms.

    >>> transfer_ms(1000, 8.0)
    1.0
    """
    return nbytes * 8.0 / (mbps * 1000.0)


@dataclass(frozen=True)
class Network:
    """The link between device and server (or, in a k-tier problem, between tier b and b + 1).

    The network is the same object in both forms; ``rtt_ms`` is paid once when any layer runs
    beyond the link.

    Attributes
    ----------
    uplink_mbps : float
        Device-to-server bandwidth in Mbps (> 0).
    downlink_mbps : float, optional
        Server-to-device bandwidth in Mbps; defaults to ``uplink_mbps``.
    rtt_ms : float
        Round-trip time paid once whenever any layer runs on the server.
    """

    uplink_mbps: float
    downlink_mbps: float | None = None
    rtt_ms: float = 0.0

    @property
    def effective_downlink_mbps(self) -> float:
        return self.uplink_mbps if self.downlink_mbps is None else self.downlink_mbps

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"uplink_mbps": self.uplink_mbps}
        if self.downlink_mbps is not None:
            out["downlink_mbps"] = self.downlink_mbps
        if self.rtt_ms:
            out["rtt_ms"] = self.rtt_ms
        return out
