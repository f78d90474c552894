"""Two-tier partition instances from Python data: parallel lists and networkx graphs.

The bodies of :meth:`PartitionProblem.from_lists` and
:meth:`PartitionProblem.from_networkx` (numpy scalars and arrays are
accepted wherever numbers are; errors name the node and attribute).
"""

from __future__ import annotations

import numpy as np

from ..errors import InstanceError
from ..validate import as_bytes, as_nonneg
from .layers import Layer
from .units import RESOURCE_FIELDS, Network

__all__ = ["from_lists", "from_networkx"]


def _plain(value):
    """A numpy scalar or 0-d array as the Python number it holds; anything else unchanged."""
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value.item()
    return value


def _plain_list(values) -> list:
    """A sequence (list, tuple, numpy array) as a list of plain Python values."""
    if isinstance(values, np.ndarray):
        return values.tolist()
    return [_plain(v) for v in values]


def _network(uplink_mbps, downlink_mbps, rtt_ms) -> Network:
    return Network(_plain(uplink_mbps), _plain(downlink_mbps), _plain(rtt_ms))


def from_lists(cls, names, device_ms, server_ms, output_bytes, edges, *, uplink_mbps, downlink_mbps=None,
               rtt_ms=0.0, **kwargs):
    """``cls`` built from parallel lists (one entry per layer). O(n + m)."""
    names, device_ms, server_ms, output_bytes = (_plain_list(v) for v in (names, device_ms, server_ms, output_bytes))
    lengths = {len(names), len(device_ms), len(server_ms), len(output_bytes)}
    if len(lengths) != 1:
        raise InstanceError("names, device_ms, server_ms and output_bytes differ in length", field="layers")
    layers = [Layer(n, d, s, b) for n, d, s, b in zip(names, device_ms, server_ms, output_bytes)]
    edges = [tuple(_plain_list(e)) if isinstance(e, (list, tuple, np.ndarray)) else e for e in edges]
    return cls(layers, edges, _network(uplink_mbps, downlink_mbps, rtt_ms), **kwargs)


def from_networkx(cls, graph, *, uplink_mbps, downlink_mbps=None, rtt_ms=0.0, device_ms="device_ms",
                  server_ms="server_ms", output_bytes="output_bytes", **kwargs):
    """``cls`` built from a ``networkx.DiGraph`` whose nodes carry the costs. O(n + m)."""
    layers, node_ids = [], {}
    for node, attrs in graph.nodes(data=True):
        name = str(node)
        if name in node_ids:
            raise InstanceError(f"nodes {node_ids[name]!r} and {node!r} have the same name {name!r}", field=f"node {node!r}")
        node_ids[name] = node
        values = {}
        for role, attr in (("device_ms", device_ms), ("server_ms", server_ms), ("output_bytes", output_bytes),
                           *((r, r) for r in RESOURCE_FIELDS)):
            if attr not in attrs:
                if role in RESOURCE_FIELDS:
                    continue
                raise InstanceError(f"lacks attribute {attr!r} ({role})", field=f"node {node!r}")
            check = as_bytes if role == "output_bytes" else as_nonneg
            values[role] = check(_plain(attrs[attr]), f"node {node!r} attribute {attr!r}")
        layers.append(Layer(name, **values))
    edges = [(str(u), str(v)) for u, v in graph.edges()]
    return cls(layers, edges, _network(uplink_mbps, downlink_mbps, rtt_ms), node_ids=node_ids, **kwargs)
