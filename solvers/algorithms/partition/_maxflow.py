"""Max-flow backends for :class:`formulations.cutgraph.CutNetwork`."""

from __future__ import annotations

import numpy as np
from ortools.graph.python import max_flow

from formulations.scaling import int_capacities

__all__ = ["min_cut", "BACKENDS"]

BACKENDS = ("ortools", "networkx")


def min_cut(network, backend: str = "ortools") -> tuple[np.ndarray, float]:
    """Minimum s-t cut of ``network``.

    Parameters
    ----------
    network : CutNetwork
    backend : {"ortools", "networkx"}
        ``"ortools"``: OR-Tools' compiled push-relabel ``SimpleMaxFlow`` on
        capacities scaled by :func:`formulations.scaling.int_capacities`
        (floor to ns). ``"networkx"``: ``networkx.minimum_cut`` in floats
        (slow; the readable reference).

    Returns
    -------
    device : ndarray of bool
        For each layer of the network (``network.positions``), whether it is
        on the source (device) side.
    lower_bound_ms : float
        A proven lower bound on the minimum cut value in ms (``inf`` when
        every cut crosses an infinite arc, i.e. the constraints conflict).

    Notes
    -----
    The source side returned is the set reachable from the source in the
    residual network; with integer capacities it is an exact minimum cut of
    the scaled network.
    """
    k = len(network.positions)
    if backend == "ortools":

        caps, units = int_capacities(network.capacity_ms)
        solver = max_flow.SimpleMaxFlow()
        if len(caps):
            solver.add_arcs_with_capacity(network.tails, network.heads, caps)
        status = solver.solve(network.source, network.sink) if len(caps) else solver.OPTIMAL
        if status != solver.OPTIMAL:
            raise RuntimeError(f"OR-Tools max-flow failed with status {status}")
        flow = solver.optimal_flow() if len(caps) else 0
        big = int(caps[np.isinf(network.capacity_ms)][0]) if np.isinf(network.capacity_ms).any() else None
        side = np.zeros(network.n_nodes, dtype=bool)
        if len(caps):
            side[np.asarray(solver.get_source_side_min_cut(), dtype=np.int64)] = True
        else:
            side[network.source] = True
        if big is not None and flow >= big:
            return side[:k], float("inf")
        return side[:k], flow / units
    if backend == "networkx":
        import networkx as nx

        graph = network.to_networkx()
        graph.add_nodes_from([network.source, network.sink])
        try:
            value, (reach, _) = nx.minimum_cut(graph, network.source, network.sink)
        except nx.NetworkXUnbounded:
            side = np.zeros(k, dtype=bool)
            return side, float("inf")
        side = np.zeros(network.n_nodes, dtype=bool)
        side[list(reach)] = True
        # float residuals: the reported value is not a proof; re-evaluate upstream
        return side[:k], float(value) * (1 - 1e-9)
    raise ValueError(f"unknown `backend` {backend!r}; choose from {list(BACKENDS)}")
