"""Max-flow backends for :class:`formulations.partition.cutgraph.CutNetwork`."""

from __future__ import annotations

import numpy as np
from ortools.graph.python import max_flow

from formulations.errors import OptionError
from formulations.scaling import int_capacities_scaled

__all__ = ["min_cut", "BACKENDS"]

BACKENDS = ("ortools", "networkx")


def min_cut(network, backend: str = "ortools", info: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Minimum s-t cut of ``network``, and a proven lower bound per block.

    Parameters
    ----------
    network : CutNetwork
    backend : {"ortools", "networkx"}
        ``"ortools"``: OR-Tools' compiled push-relabel ``SimpleMaxFlow`` on
        capacities scaled by :func:`formulations.scaling.int_capacities`
        (floor to ns), so each block's integer flow, converted back to ms,
        is a proven lower bound on that block's float min cut.
        ``"networkx"``: ``networkx.minimum_cut`` in floats (slow; the
        readable reference); the "bound" is then the float cut value of the
        partition found, not a proof.
    info : dict, optional
        Filled with the scaling used: ``units_per_ms``, ``exact`` (no
        rounding) and ``coarse`` (unit coarsened below ns: no slack claim).

    Returns
    -------
    side : ndarray of bool, length ``network.n_nodes``
        Source (device) side: the nodes reachable from the source in the
        residual network.
    block_lb_ms : ndarray of float, length ``network.n_blocks``
        Lower bound on each block's min cut in ms; ``inf`` when every cut
        of the block crosses an infinite arc (contradicting constraints).
        Blocks without arcs get 0.
    """
    nb = network.n_blocks
    if backend == "ortools":
        from_source = network.tails == network.source
        scaled = int_capacities_scaled(network.capacity_ms, from_source)
        caps, units = scaled.ints, scaled.units
        if info is not None:
            info.update(units_per_ms=units, exact=scaled.exact, coarse=scaled.coarse)
        side = np.zeros(network.n_nodes, dtype=bool)
        side[network.source] = True
        if not len(caps):
            return side, np.zeros(nb)
        solver = max_flow.SimpleMaxFlow()
        solver.add_arcs_with_capacity(network.tails, network.heads, caps)
        status = solver.solve(network.source, network.sink)
        if status != solver.OPTIMAL:
            raise RuntimeError(f"OR-Tools max-flow failed with status {status}")
        side[np.asarray(solver.get_source_side_min_cut(), dtype=np.int64)] = True
        from_source = np.flatnonzero(from_source)
        flows = np.asarray(solver.flows(from_source), dtype=np.int64)
        per_block = np.bincount(network.arc_block[from_source], weights=flows, minlength=nb)
        infinite = np.isinf(network.capacity_ms)
        big = int(caps[infinite][0]) if infinite.any() else None
        lb = per_block / units
        if big is not None:
            lb[per_block >= big] = np.inf
        return side, lb
    if backend == "networkx":
        import networkx as nx

        if info is not None:
            info.update(units_per_ms=None, exact=False, coarse=True)  # float flow: no proof

        graph = network.to_networkx()
        try:
            _, (reach, _) = nx.minimum_cut(graph, network.source, network.sink)
        except nx.NetworkXUnbounded:
            side = np.zeros(network.n_nodes, dtype=bool)
            side[network.source] = True
            return side, np.full(nb, np.inf)
        side = np.zeros(network.n_nodes, dtype=bool)
        side[list(reach)] = True
        return side, cut_value_by_block(network, side)
    raise OptionError(f"unknown `backend` {backend!r}; choose from {list(BACKENDS)}")


def cut_value_by_block(network, side: np.ndarray) -> np.ndarray:
    """Float capacity (ms) of the arcs ``side`` cuts, per block (``inf`` if an infinite arc is cut)."""
    cut = side[network.tails] & ~side[network.heads]
    return np.bincount(network.arc_block[cut], weights=network.capacity_ms[cut], minlength=network.n_blocks)
