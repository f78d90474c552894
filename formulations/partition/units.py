"""What the two-tier and the k-tier partition forms share: the network link, transfer times,
resource fields and budgets, and the checked edge list and topology of the layer DAG."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..errors import InstanceError
from ..validate import as_mapping, as_nonneg
from .dag import Topology

__all__ = ["RESOURCE_FIELDS", "Network", "transfer_ms", "format_bytes", "checked_edges", "checked_budget", "topology_of"]

#: Optional per-layer resource fields that a ``device_budget`` may limit.
RESOURCE_FIELDS = ("memory_bytes", "flops")


def transfer_ms(nbytes, mbps: float):
    """Time in ms to send ``nbytes`` bytes at ``mbps`` megabits per second.

    ``nbytes * 8 / (mbps * 1000)``: 1 Mbps carries 1000 bits per ms.

    >>> transfer_ms(1000, 8.0)
    1.0
    """
    return nbytes * 8.0 / (mbps * 1000.0)


def format_bytes(n: float) -> str:
    """``25088`` -> ``"25.1 kB"`` (decimal units, as in ``coinfer solve`` and the figures)."""
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000.0
    return f"{n} B"  # pragma: no cover


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


def checked_edges(edges: Iterable, index: Mapping[str, int]) -> tuple[tuple[str, str], ...]:
    """The edges as ``(from, to)`` name pairs, duplicates dropped; ``InstanceError`` naming
    ``edges[k]`` for a malformed edge, an unknown layer or a self-loop. O(m)."""
    out: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for k, edge in enumerate(edges):
        fld = f"edges[{k}]"
        if not isinstance(edge, (list, tuple)) or len(edge) != 2:
            raise InstanceError(f"expected [from, to], got {edge!r}", field=fld)
        u, v = edge
        for end, val in (("from", u), ("to", v)):
            if not isinstance(val, str) or val not in index:
                raise InstanceError(f"unknown layer {val!r} ({end})", field=fld)
        if u == v:
            raise InstanceError(f"self-loop on {u!r} (a cycle)", field=fld)
        if (u, v) not in seen:
            seen.add((u, v))
            out.append((u, v))
    return tuple(out)


def topology_of(names: Sequence[str], index: Mapping[str, int], edges: Sequence[tuple[str, str]]) -> Topology:
    """The DAG's :class:`~.dag.Topology`; ``InstanceError`` on ``edges`` naming a cycle. O(n + m)."""
    src = np.fromiter((index[u] for u, _ in edges), dtype=np.int64, count=len(edges))
    dst = np.fromiter((index[v] for _, v in edges), dtype=np.int64, count=len(edges))
    try:
        return Topology(len(names), src, dst)
    except ValueError as exc:
        cycle = [names[i] for i in getattr(exc, "cycle", None) or []]
        raise InstanceError("the graph has a cycle: " + " -> ".join(cycle + cycle[:1]), field="edges") from None


def checked_budget(budget) -> Mapping[str, float]:
    """``device_budget`` as ``{resource: limit}``; resources must be in :data:`RESOURCE_FIELDS`."""
    budget = as_mapping(budget, "device_budget")
    out = {}
    for res, limit in budget.items():
        if res not in RESOURCE_FIELDS:
            raise InstanceError(f"unknown resource {res!r}; known: {list(RESOURCE_FIELDS)}", field="device_budget")
        out[res] = as_nonneg(limit, f"device_budget.{res}")
    return MappingProxyType(out)
