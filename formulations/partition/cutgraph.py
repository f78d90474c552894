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

**Blocks.** :func:`build_network` can *split* the DAG at given cut vertices
(layers every input-to-output path passes through). A split layer ``c`` gets
two copies: an *in* copy (forced to the server, ending the block before
``c``) and an *out* copy (forced to the device, starting the block after
``c``). The network then falls apart into one independent component per
block, and a single max-flow yields the min cut of every block at once
(QDMP). The cost arcs of split copies are left out: they are constants of
each block (``block_constant_ms``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CutNetwork", "build_network", "sent_once_arcs", "assemble"]


@dataclass(frozen=True)
class CutNetwork:
    """An s-t network as arrays (a model, solved by the partition methods).

    Node ids: ``0..n-1`` are layers by topological position (for a split
    layer, its *in* copy); ``n + k`` is the *out* copy of the ``k``-th split
    layer; then ``source``, ``sink`` and auxiliary nodes.

    Attributes
    ----------
    tails, heads : ndarray of int64
    capacity_ms : ndarray of float
        ``inf`` marks arcs that may not be cut.
    arc_block : ndarray of int64
        Block of each arc (0 when there are no splits).
    n_nodes, source, sink : int
    n_layers : int
    splits : ndarray of int64
        Positions of the split layers (ascending).
    """

    tails: np.ndarray
    heads: np.ndarray
    capacity_ms: np.ndarray
    arc_block: np.ndarray
    n_nodes: int
    source: int
    sink: int
    n_layers: int
    splits: np.ndarray

    @property
    def n_blocks(self) -> int:
        return len(self.splits) + 1

    def block_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(first, last)`` positions bounding each block: block ``b`` holds
        the layers strictly between ``first[b]`` and ``last[b]``; ``first`` is
        -1 for the first block and ``last`` is ``n`` for the last one."""
        points = np.concatenate(([-1], self.splits, [self.n_layers]))
        return points[:-1], points[1:]

    def to_networkx(self):
        """The network as a ``networkx.DiGraph`` (``capacity`` attributes;
        infinite arcs carry none, which networkx reads as infinite; parallel
        arcs are merged)."""
        import networkx as nx

        graph = nx.DiGraph()
        graph.add_nodes_from([self.source, self.sink])
        for t, h, c in zip(self.tails.tolist(), self.heads.tolist(), self.capacity_ms.tolist()):
            if graph.has_edge(t, h):
                c = graph[t][h].get("capacity", np.inf) + c
            graph.add_edge(t, h)
            if np.isinf(c):
                graph[t][h].pop("capacity", None)
            else:
                graph[t][h]["capacity"] = c
        return graph


def build_network(problem, splits=(), keep_blocks=None) -> CutNetwork:
    """Build the DADS min-cut network of ``problem``, optionally split into blocks.

    Parameters
    ----------
    problem : PartitionProblem
    splits : array_like of int
        Topological positions of cut vertices to split at (ascending).
        Splitting at anything but cut vertices is not meaningful.
    keep_blocks : array_like of bool, optional
        Which of the ``len(splits) + 1`` blocks to include (default: all).

    Returns
    -------
    CutNetwork

    Notes
    -----
    Vectorized, O(n + m) arcs and time.
    """
    topo = problem.topology
    n = topo.n
    splits = np.asarray(splits, dtype=np.int64)
    n_split = len(splits)
    order = topo.order
    serve = (problem.server_ms + problem.download_ms)[order]
    device = problem.device_ms[order]
    upload = problem.upload_ms[order]
    tp, hp = topo.edges_by_position

    is_split = np.zeros(n, dtype=bool)
    is_split[splits] = True
    out_id = np.arange(n, dtype=np.int64)
    out_id[splits] = n + np.arange(n_split)
    source, sink = n + n_split, n + n_split + 1
    first_aux = n + n_split + 2

    dev_forced = np.zeros(n, dtype=bool)
    srv_forced = np.zeros(n, dtype=bool)
    dev_forced[topo.pos[topo.inputs]] = True
    for nm in problem.pinned["device"]:
        dev_forced[topo.pos[problem.index[nm]]] = True
    for nm in problem.pinned["server"]:
        srv_forced[topo.pos[problem.index[nm]]] = True

    positions = np.arange(n)
    block_of = np.searchsorted(splits, positions, side="right")  # node (or out copy) block
    inner = ~is_split
    inner_pos = positions[inner]
    split_blocks_in = np.arange(n_split)  # in copy of split k ends block k
    split_blocks_out = np.arange(n_split) + 1  # out copy of split k starts block k + 1

    inf = np.inf
    parts = [
        # layer costs of unsplit layers
        (np.full(len(inner_pos), source), inner_pos, np.where(dev_forced[inner], inf, serve[inner]), block_of[inner]),
        (inner_pos, np.full(len(inner_pos), sink), np.where(srv_forced[inner], inf, device[inner]), block_of[inner]),
        # split copies: in copy forced server, out copy forced device
        (splits, np.full(n_split, sink), np.full(n_split, inf), split_blocks_in),
        (np.full(n_split, source), n + np.arange(n_split), np.full(n_split, inf), split_blocks_out),
        # closure
        (hp, out_id[tp], np.full(len(tp), inf), block_of[tp]),
    ]
    upload_parts, n_aux = sent_once_arcs(tp, hp, out_id, np.arange(n), upload, first_aux)
    parts += [(t, h, c, block_of[sender]) for t, h, c, sender in upload_parts]
    return assemble(parts, first_aux + n_aux, source, sink, n, splits, keep_blocks)


def sent_once_arcs(src: np.ndarray, dst: np.ndarray, tail_id: np.ndarray, head_id: np.ndarray,
                   upload: np.ndarray, first_aux: int) -> tuple[list[tuple], int]:
    """The arcs that charge ``upload[u]`` once when some successor of ``u`` is cut from it.

    For each edge ``u -> w`` (``src``, ``dst``: layer indices): if ``u`` has
    one successor, ``tail_id[u] -> head_id[w]`` with ``upload[u]``; with
    several, an auxiliary node ``a_u`` (numbered from ``first_aux``):
    ``tail_id[u] -> a_u`` with ``upload[u]`` and ``a_u -> head_id[w]``
    (infinite) for each successor. Shared by the two-tier and the k-tier
    networks.

    Returns
    -------
    parts : list of (tails, heads, capacities, sender layer per arc)
    n_aux : int
        Auxiliary nodes used.

    Notes
    -----
    O(n + m), vectorized.
    """
    n = len(upload)
    outdeg = np.bincount(src, minlength=n)
    single = outdeg[src] == 1
    multi_senders = np.flatnonzero(outdeg >= 2)
    aux = np.full(n, -1, dtype=np.int64)
    aux[multi_senders] = first_aux + np.arange(len(multi_senders))
    multi = ~single
    parts = [
        (tail_id[src[single]], head_id[dst[single]], upload[src[single]], src[single]),
        (tail_id[multi_senders], aux[multi_senders], upload[multi_senders], multi_senders),
        (aux[src[multi]], head_id[dst[multi]], np.full(int(multi.sum()), np.inf), src[multi]),
    ]
    return parts, len(multi_senders)


def assemble(parts, n_nodes: int, source: int, sink: int, n_layers: int, splits=None, keep_blocks=None) -> CutNetwork:
    """A :class:`CutNetwork` from ``(tails, heads, capacities[, blocks])`` parts; arcs of capacity 0 dropped.

    ``keep_blocks`` (by block) keeps only the arcs of some blocks; parts
    without a block column are block 0. O(arcs).
    """
    tails = np.concatenate([p[0] for p in parts]).astype(np.int64)
    heads = np.concatenate([p[1] for p in parts]).astype(np.int64)
    caps = np.concatenate([p[2] for p in parts]).astype(float)
    blocks = np.concatenate([p[3] if len(p) > 3 else np.zeros(len(p[0]), dtype=np.int64) for p in parts]).astype(np.int64)
    keep = caps > 0
    if keep_blocks is not None:
        keep &= np.asarray(keep_blocks, dtype=bool)[blocks]
    return CutNetwork(
        tails=tails[keep],
        heads=heads[keep],
        capacity_ms=caps[keep],
        arc_block=blocks[keep],
        n_nodes=n_nodes,
        source=source,
        sink=sink,
        n_layers=n_layers,
        splits=np.zeros(0, dtype=np.int64) if splits is None else splits,
    )
