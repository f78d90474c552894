"""The min-cut network of a partition problem (DADS construction).

Nodes on the source side of a minimum s-t cut run on the device, nodes on
the sink side on the server. Arcs (capacities in ms):

- ``s -> v``: ``server_ms[v]`` (+ the download time if ``v`` is an output),
  paid when ``v`` is on the server;
- ``v -> t``: ``device_ms[v]``, paid when ``v`` is on the device;
- ``w -> u`` (infinite) for every layer edge ``u -> w``: a successor of a
  server layer cannot run on the device (closure);
- upload, sent once: for a layer ``u`` with one successor ``w``, ``u -> w``
  with ``upload_ms[u]``; with several, an auxiliary node ``a_u``: ``u -> a_u``
  with ``upload_ms[u]`` and ``a_u -> w`` (infinite) for each successor.
  If any successor is on the server, ``a_u`` must be too (else an infinite
  arc is cut), so ``u -> a_u`` is cut exactly once;
- ``s -> v`` (infinite) for layers forced to the device (inputs, device
  pins), ``v -> t`` (infinite) for layers forced to the server.

The RTT is a constant paid iff some layer is on the server; it is handled by
the solvers (compare the min cut plus RTT with the all-device partition).

:func:`build_network` builds the network for the layers at topological
positions ``lo..hi`` (all layers, or one block between two cut vertices).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CutNetwork", "build_network"]


@dataclass(frozen=True)
class CutNetwork:
    """An s-t network as arrays (a model, solved by ``solvers.partition``).

    Attributes
    ----------
    tails, heads : ndarray of int64
    capacity_ms : ndarray of float
        ``inf`` marks arcs that may not be cut.
    n_nodes, source, sink : int
    positions : ndarray of int64
        Topological position of local node ``i`` for ``i < len(positions)``
        (the layers); nodes beyond are ``source``, ``sink`` and auxiliaries.
    """

    tails: np.ndarray
    heads: np.ndarray
    capacity_ms: np.ndarray
    n_nodes: int
    source: int
    sink: int
    positions: np.ndarray

    def to_networkx(self):
        """The network as a ``networkx.DiGraph`` (``capacity`` attributes;
        infinite arcs carry no capacity, which networkx reads as infinite)."""
        import networkx as nx

        graph = nx.DiGraph()
        graph.add_nodes_from(range(self.n_nodes))
        for t, h, c in zip(self.tails.tolist(), self.heads.tolist(), self.capacity_ms.tolist()):
            if graph.has_edge(t, h):
                old = graph[t][h].get("capacity", np.inf)
                c = old + c
            if np.isinf(c):
                graph.add_edge(t, h)
                graph[t][h].pop("capacity", None)
            else:
                graph.add_edge(t, h, capacity=c)
        return graph


def build_network(problem, lo: int = 0, hi: int | None = None, *, force_device=(), force_server=()) -> CutNetwork:
    """Build the DADS min-cut network for layers at positions ``lo..hi``.

    Parameters
    ----------
    problem : PartitionProblem
    lo, hi : int
        Inclusive range of topological positions. When it is a block between
        cut vertices, no layer edge enters it except into ``lo`` and none
        leaves it except from ``hi``; arcs to layers outside are dropped.
    force_device, force_server : iterable of int
        Positions forced to a side, in addition to the inputs and pins in
        range (those are always forced).

    Returns
    -------
    CutNetwork

    Notes
    -----
    O(n + m) arcs and time for ``n`` layers and ``m`` edges in range.
    """
    topo = problem.topology
    hi = topo.n - 1 if hi is None else hi
    k = hi - lo + 1
    order = topo.order[lo : hi + 1]
    tp, hp = topo.edges_by_position
    first, last = np.searchsorted(tp, [lo, hi + 1])
    tp, hp = tp[first:last], hp[first:last]
    keep = hp <= hi
    tl, hl = tp[keep] - lo, hp[keep] - lo  # local indices

    source, sink = k, k + 1
    serve = problem.server_ms[order] + problem.download_ms[order]
    device = problem.device_ms[order]
    upload = problem.upload_ms[order]

    dev_forced = np.zeros(k, dtype=bool)
    srv_forced = np.zeros(k, dtype=bool)
    inputs_local = topo.pos[topo.inputs] - lo
    dev_forced[inputs_local[(inputs_local >= 0) & (inputs_local < k)]] = True
    for side, mask in (("device", dev_forced), ("server", srv_forced)):
        for nm in problem.pinned[side]:
            p = topo.pos[problem.index[nm]] - lo
            if 0 <= p < k:
                mask[p] = True
    for p in force_device:
        dev_forced[p - lo] = True
    for p in force_server:
        srv_forced[p - lo] = True

    local = np.arange(k)
    parts_t = [np.full(k, source), local]
    parts_h = [local, np.full(k, sink)]
    parts_c = [np.where(dev_forced, np.inf, serve), np.where(srv_forced, np.inf, device)]
    # closure: successor -> predecessor, infinite
    parts_t.append(hl)
    parts_h.append(tl)
    parts_c.append(np.full(len(tl), np.inf))
    # upload once per sender
    outdeg = np.bincount(tl, minlength=k)
    single = outdeg[tl] == 1
    parts_t.append(tl[single])
    parts_h.append(hl[single])
    parts_c.append(upload[tl[single]])
    multi_senders = np.flatnonzero(outdeg >= 2)
    aux = np.full(k, -1, dtype=np.int64)
    aux[multi_senders] = k + 2 + np.arange(len(multi_senders))
    parts_t.append(multi_senders)
    parts_h.append(aux[multi_senders])
    parts_c.append(upload[multi_senders])
    multi = ~single
    parts_t.append(aux[tl[multi]])
    parts_h.append(hl[multi])
    parts_c.append(np.full(int(multi.sum()), np.inf))

    tails = np.concatenate(parts_t).astype(np.int64)
    heads = np.concatenate(parts_h).astype(np.int64)
    caps = np.concatenate(parts_c).astype(float)
    nonzero = caps > 0
    return CutNetwork(
        tails=tails[nonzero],
        heads=heads[nonzero],
        capacity_ms=caps[nonzero],
        n_nodes=k + 2 + len(multi_senders),
        source=source,
        sink=sink,
        positions=np.arange(lo, hi + 1),
    )
