"""Structure of a layer DAG: topological positions and cut vertices.

The structure depends only on the graph, not on costs or the network, so a
:class:`Topology` is computed once and shared by every copy of a problem
that differs only in its network (see ``PartitionProblem.with_network``).
"""

from __future__ import annotations

from collections import deque
from functools import cached_property
from typing import Sequence

import numpy as np

__all__ = ["Topology", "find_cycle"]


def find_cycle(n: int, src: np.ndarray, dst: np.ndarray) -> list[int] | None:
    """Return the node indices of one directed cycle, or None if acyclic."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(zip(src.tolist(), dst.tolist()))
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return None
    return [u for u, _ in cycle]


class Topology:
    """Topological positions, adjacency and cut vertices of a DAG.

    Parameters
    ----------
    n : int
        Number of nodes, indexed ``0..n-1``.
    src, dst : array of int
        Edge endpoints (no duplicates, no self-loops).

    Raises
    ------
    ValueError
        If the graph has a cycle (``cycle`` attribute lists the nodes).

    Notes
    -----
    ``order[p]`` is the node at topological position ``p`` and ``pos[v]``
    the position of node ``v``. Kahn's algorithm, O(n + m).
    """

    def __init__(self, n: int, src: np.ndarray, dst: np.ndarray):
        self.n = int(n)
        self.src = np.asarray(src, dtype=np.int64)
        self.dst = np.asarray(dst, dtype=np.int64)
        self.indegree = np.bincount(self.dst, minlength=self.n)
        self.outdegree = np.bincount(self.src, minlength=self.n)
        self.order = self._toposort()
        self.pos = np.empty(self.n, dtype=np.int64)
        self.pos[self.order] = np.arange(self.n)

    def _toposort(self) -> np.ndarray:
        succ_order = np.argsort(self.src, kind="stable")
        heads = self.dst[succ_order]
        start = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(self.outdegree, out=start[1:])
        indeg = self.indegree.tolist()
        heads_list = heads.tolist()
        start_list = start.tolist()
        queue = deque(v for v in range(self.n) if indeg[v] == 0)
        order: list[int] = []
        while queue:
            u = queue.popleft()
            order.append(u)
            for k in range(start_list[u], start_list[u + 1]):
                w = heads_list[k]
                indeg[w] -= 1
                if indeg[w] == 0:
                    queue.append(w)
        if len(order) != self.n:
            err = ValueError("graph has a cycle")
            err.cycle = find_cycle(self.n, self.src, self.dst)  # type: ignore[attr-defined]
            raise err
        return np.asarray(order, dtype=np.int64)

    @cached_property
    def inputs(self) -> np.ndarray:
        """Node indices without predecessors."""
        return np.flatnonzero(self.indegree == 0)

    @cached_property
    def sinks(self) -> np.ndarray:
        """Node indices without successors (the outputs)."""
        return np.flatnonzero(self.outdegree == 0)

    @cached_property
    def edges_by_position(self) -> tuple[np.ndarray, np.ndarray]:
        """Edges as ``(tail_pos, head_pos)``, sorted by tail position."""
        tp, hp = self.pos[self.src], self.pos[self.dst]
        key = np.lexsort((hp, tp))
        return tp[key], hp[key]

    @cached_property
    def cut_positions(self) -> np.ndarray:
        """Positions of the cut vertices, ascending.

        A cut vertex is a node that every path from an input to an output
        passes through (with a virtual source before all inputs and a virtual
        sink after all outputs). In any topological order, ``v`` is one iff
        no edge jumps over it (``pos[u] < pos[v] < pos[w]`` for an edge
        ``u -> w``), no input comes after it and no output before it. The
        property does not depend on which topological order is used. O(n + m).
        """
        n = self.n
        tp, hp = self.edges_by_position
        reach = np.full(n, -1, dtype=np.int64)
        np.maximum.at(reach, tp, hp)  # farthest head from each tail position
        before = np.empty(n, dtype=np.int64)  # farthest head of edges from positions < p
        before[0] = -1
        if n > 1:
            np.maximum.accumulate(reach[:-1], out=before[1:])
        positions = np.arange(n)
        last_input = int(self.pos[self.inputs].max())
        first_sink = int(self.pos[self.sinks].min())
        ok = (before <= positions) & (positions >= last_input) & (positions <= first_sink)
        return np.flatnonzero(ok)

    def closure_of(self, nodes: Sequence[int]) -> np.ndarray:
        """Boolean mask of ``nodes`` and all their ancestors. O(n + m)."""
        mask = np.zeros(self.n, dtype=bool)
        mask[list(nodes)] = True
        tp, hp = self.edges_by_position
        # sweep positions backwards: a tail is in the closure if any head is
        pos_mask = mask[self.order]
        order_desc = np.argsort(-tp, kind="stable")
        for t, h in zip(tp[order_desc].tolist(), hp[order_desc].tolist()):
            if pos_mask[h]:
                pos_mask[t] = True
        out = np.zeros(self.n, dtype=bool)
        out[self.order] = pos_mask
        return out
