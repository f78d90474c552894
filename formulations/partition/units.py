"""What the two-tier and the k-tier partition forms share: transfer times and resource fields."""

from __future__ import annotations

__all__ = ["RESOURCE_FIELDS", "transfer_ms"]

#: Optional per-layer resource fields that a ``device_budget`` may limit.
RESOURCE_FIELDS = ("memory_bytes", "flops")


def transfer_ms(nbytes, mbps: float):
    """Time in ms to send ``nbytes`` bytes at ``mbps`` megabits per second.

    ``nbytes * 8 / (mbps * 1000)``: 1 Mbps carries 1000 bits per ms.

    >>> transfer_ms(1000, 8.0)
    1.0
    """
    return nbytes * 8.0 / (mbps * 1000.0)
