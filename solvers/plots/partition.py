"""``partition``: the layer DAG left to right, layers coloured by side, the cut with its tensor sizes."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._style import (
    CUT_COLOR,
    DEVICE_COLOR,
    LINK_STYLES,
    SERVER_COLOR,
    TIER_COLORS,
    fmt_bytes,
    instance_name,
    new_figure,
    place_without_overlap,
    require_matplotlib,
)
from formulations.partition import TieredPartitionProblem

__all__ = ["plot_partition", "partition_layout", "PartitionLayout"]


@dataclass
class PartitionLayout:
    """What the partition figure draws.

    Attributes
    ----------
    nodes : list of (label, side, layers)
        One drawn node per entry: a single layer (``layers == (name,)``,
        ``label == name``) or a collapsed group of layers of one side.
    xy : (len(nodes), 2) float
        Node positions: x is the depth (longest path from the first drawn
        node), y the lane.
    edges : list of (i, j)
        Drawn edges between node indices (parallel layer edges merged).
    cut_edges : list of (i, j)
        The drawn edges from a device node to a server node.
    senders : dict
        Device layer -> bytes it sends up (each sent once).
    collapsed : bool
        Whether some layers were merged into groups.
    tiers : tuple of str
        The side names in tier order (``("device", "server")`` for a
        two-tier problem, the problem's ``tiers`` for a k-tier one); a
        node's ``side`` is one of them.
    link_cut_edges : list of list of (i, j)
        Per link ``b`` (tier ``b`` to ``b + 1``) the drawn edges crossing it
        (tier of ``i`` <= b < tier of ``j``; an edge may cross several links).
    link_senders : list of dict
        Per link ``b`` the layers sending their output over it -> bytes
        (``senders`` is their union).
    """

    nodes: list = field(default_factory=list)
    xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    edges: list = field(default_factory=list)
    cut_edges: list = field(default_factory=list)
    senders: dict = field(default_factory=dict)
    collapsed: bool = False
    tiers: tuple = ("device", "server")
    link_cut_edges: list = field(default_factory=list)
    link_senders: list = field(default_factory=list)


def _place_nodes(layout: PartitionLayout, topo, node_of: np.ndarray) -> None:
    """Set ``layout.xy``: x = longest path over the drawn edges, y = barycentre lanes. O(n + m)."""
    pairs = layout.edges
    # depth = longest path over the drawn edges, in topological order of the nodes
    n_nodes = len(layout.nodes)
    rank = np.zeros(n_nodes)
    for v in topo.order.tolist():
        rank[node_of[v]] = max(rank[node_of[v]], topo.pos[v])
    depth = np.zeros(n_nodes, dtype=np.int64)
    for a, b in sorted(pairs, key=lambda e: rank[e[0]]):
        depth[b] = max(depth[b], depth[a] + 1)
    preds = [[] for _ in range(n_nodes)]
    for a, b in pairs:
        preds[b].append(a)
    lanes = np.zeros(n_nodes)
    for d in np.unique(depth):  # barycentre ordering: a node goes near its predecessors' lanes
        members = np.flatnonzero(depth == d)
        centre = {i: (np.mean(lanes[preds[i]]) if preds[i] else 0.0) for i in members.tolist()}
        members = sorted(members.tolist(), key=lambda i: (centre[i], rank[i]))
        lanes[members] = np.arange(len(members)) - (len(members) - 1) / 2.0
    layout.xy = np.column_stack([depth.astype(float), -lanes])


def partition_layout(problem, assignment, *, max_layers: int = 60) -> PartitionLayout:
    """Nodes, positions and edges of the partition figure (see :class:`PartitionLayout`).

    With at most ``max_layers`` layers every layer is a node. Otherwise the
    layers outside the block holding the cut are collapsed into one device
    node and one server node (and the block too when it alone has more than
    ``max_layers`` layers), so 700-layer models draw as a handful of nodes.
    For a k-tier problem (``solver_kind == "tiers"``) the nodes carry tier
    names, the block runs from the last cut vertex on tier 0 to the first
    cut vertex on the last used tier, the rest is one node per tier, and
    ``link_cut_edges``/``link_senders`` hold the cut of every link.
    O(k (n + m)) for k tiers.
    """
    if is_tiered(problem):
        return _tiered_layout(problem, assignment, max_layers)
    topo = problem.topology
    names = problem.names
    mask = problem.device_mask(assignment)
    detail = _detail_positions(problem, (~mask).astype(np.int64), max_layers)
    detail_layers = topo.order[detail]
    node_of = np.full(problem.n_layers, -1, dtype=np.int64)
    layout = PartitionLayout(collapsed=len(detail) < problem.n_layers)
    for side, on in (("device", True), ("server", False)):
        rest = np.flatnonzero((mask == on) & ~np.isin(np.arange(problem.n_layers), detail_layers))
        if len(rest):
            node_of[rest] = len(layout.nodes)
            layout.nodes.append((f"{side}: {len(rest)} layers", side, tuple(names[v] for v in rest)))
    for v in detail_layers.tolist():
        node_of[v] = len(layout.nodes)
        layout.nodes.append((names[v], "device" if mask[v] else "server", (names[v],)))
    pairs = sorted({(int(a), int(b)) for a, b in zip(node_of[topo.src], node_of[topo.dst]) if a != b})
    layout.edges = pairs
    layout.cut_edges = [(a, b) for a, b in pairs if layout.nodes[a][1] == "device" and layout.nodes[b][1] == "server"]
    crossing = mask[topo.src] & ~mask[topo.dst]
    layout.senders = {names[v]: int(problem.output_bytes[v]) for v in np.unique(topo.src[crossing]).tolist()}
    layout.link_cut_edges, layout.link_senders = [layout.cut_edges], [layout.senders]
    _place_nodes(layout, topo, node_of)
    return layout


def is_tiered(problem) -> bool:
    """Whether ``problem`` is a k-tier :class:`~formulations.partition.tiers.TieredPartitionProblem`."""
    return isinstance(problem, TieredPartitionProblem)


def _detail_positions(problem, tiers: np.ndarray, max_layers: int) -> np.ndarray:
    """Topological positions drawn one layer per node: all of them, or the block holding the cuts.

    ``tiers`` is each layer's tier index (two tiers: 0 device, 1 server). The
    block runs from the last cut vertex on tier 0 to the first on the last
    used tier, both included. Every layer before a cut vertex is its ancestor and every layer after it
    its descendant (no edge jumps over it, no input after it, no output
    before it), so by ``t(u) <= t(w)`` on edges everything before the block
    is on tier 0 and everything after it on the last used tier.
    """
    topo = problem.topology
    n_layers = problem.n_layers
    if n_layers <= max_layers:
        return np.arange(n_layers)
    cut_pos = topo.cut_positions
    cut_tiers = tiers[topo.order[cut_pos]]
    top = int(tiers.max())
    first = int(cut_pos[cut_tiers == 0].max()) if (cut_tiers == 0).any() else 0
    on_top = (cut_tiers == top) & (cut_tiers > 0)
    last = int(cut_pos[on_top].min()) if on_top.any() else n_layers - 1
    if last - first + 1 > max_layers:
        return np.zeros(0, dtype=np.int64)
    return np.arange(first, last + 1)


def _tiered_layout(problem, assignment, max_layers: int) -> PartitionLayout:
    """:func:`partition_layout` of a k-tier problem: nodes coloured by tier, the cut of every link. O(k (n + m))."""
    topo = problem.topology
    names = problem.names
    tiers = problem.tier_vector(assignment)
    detail = _detail_positions(problem, tiers, max_layers)
    detail_layers = topo.order[detail]
    in_detail = np.zeros(problem.n_layers, dtype=bool)
    in_detail[detail_layers] = True
    node_of = np.full(problem.n_layers, -1, dtype=np.int64)
    layout = PartitionLayout(collapsed=len(detail) < problem.n_layers, tiers=tuple(problem.tiers))
    node_tier = []
    for j, tier in enumerate(problem.tiers):
        rest = np.flatnonzero((tiers == j) & ~in_detail)
        if len(rest):
            node_of[rest] = len(layout.nodes)
            layout.nodes.append((f"{tier}: {len(rest)} layers", tier, tuple(names[v] for v in rest)))
            node_tier.append(j)
    for v in detail_layers.tolist():
        node_of[v] = len(layout.nodes)
        layout.nodes.append((names[v], problem.tiers[tiers[v]], (names[v],)))
        node_tier.append(int(tiers[v]))
    pairs = sorted({(int(a), int(b)) for a, b in zip(node_of[topo.src], node_of[topo.dst]) if a != b})
    layout.edges = pairs
    layout.cut_edges = [(a, b) for a, b in pairs if node_tier[a] < node_tier[b]]
    far = np.full(problem.n_layers, -1, dtype=np.int64)  # farthest tier a layer's output goes to
    np.maximum.at(far, topo.src, tiers[topo.dst])
    for link in range(problem.n_tiers - 1):
        layout.link_cut_edges.append([(a, b) for a, b in layout.cut_edges if node_tier[a] <= link < node_tier[b]])
        sends = np.flatnonzero((tiers <= link) & (far > link))
        layout.link_senders.append({names[v]: int(problem.output_bytes[v]) for v in sends.tolist()})
        layout.senders.update(layout.link_senders[-1])
    _place_nodes(layout, topo, node_of)
    return layout


def _solve_partition(problem, method, time_limit):
    from ..registry import solve

    solution = solve(problem, method=method, time_limit=time_limit)
    if solution.assignment is None:
        raise ValueError(f"no partition to draw: {solution.status} {solution.message}".strip())
    return solution


def plot_partition(problem, solution=None, *, uplink_mbps: float | None = None, method: str | None = None,
                   time_limit: float | None = None, max_layers: int = 60, title: str | None = None):
    """The layer DAG left to right in topological order, layers coloured by side, the cut marked.

    Parameters
    ----------
    problem : PartitionProblem or TieredPartitionProblem
    solution : Solution or mapping, optional
        A partition (a :class:`~solvers.solution.Solution` or an assignment
        ``{"device": [...]}``, ``{tier: [...]}`` for k tiers); solved with
        ``method`` (default: the kind's, ``mincut`` for k tiers) when omitted.
    uplink_mbps : float, optional
        Solve at this uplink instead of the instance's (link 0's for k
        tiers; ignored with a given ``solution``, whose network is the
        problem's).
    method, time_limit
        Passed to :func:`solvers.solve`.
    max_layers : int
        Larger DAGs are collapsed (see :func:`partition_layout`).

    Returns
    -------
    matplotlib.figure.Figure
        Artists with ``gid``: ``device`` and ``server`` (scatter of the
        nodes of each side, offsets = ``layout.xy`` rows of that side in
        node order), ``edges`` and ``cut-edges`` (line collections, one
        segment per drawn edge), ``cut-label-<layer>`` (the sender's number
        next to its node; the axes legend maps numbers to layer and bytes), ``group-<side>`` (the text of a collapsed group).
        ``fig.coinfer_layout`` is the :class:`PartitionLayout`,
        ``fig.coinfer_solution`` the solution drawn (or None).
        For a k-tier problem instead: ``tier-<j>`` (scatter of the nodes on
        tier ``j``, colour ``TIER_COLORS[j]``), ``edges``, ``cut-edges-<b>``
        (the drawn edges crossing link ``b``, colour and style
        ``LINK_STYLES[b]``), ``cut-label-<b>-<layer>`` (the number of a
        tensor sent over link ``b``; the axes legend lists them per link)
        and ``group-<tier>``.

    Notes
    -----
    O(n + m) layout plus the greedy label placement, O(senders^2).
    """
    require_matplotlib()
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    if uplink_mbps is not None:
        problem = problem.with_network(uplink_mbps=uplink_mbps)
    if solution is None:
        solution = _solve_partition(problem, method, time_limit)
    assignment = getattr(solution, "assignment", solution)
    layout = partition_layout(problem, assignment, max_layers=max_layers)
    if is_tiered(problem):
        fig = _draw_tiered(problem, assignment, layout, title)
        fig.coinfer_layout = layout
        fig.coinfer_solution = solution if hasattr(solution, "status") else None
        return fig
    n_depth = int(layout.xy[:, 0].max()) + 1 if len(layout.nodes) else 1
    n_lanes = int(np.ptp(layout.xy[:, 1])) + 1 if len(layout.nodes) else 1
    fig, ax = new_figure(min(18.0, max(9.0, 0.42 * n_depth + 4.5)), min(9.0, max(3.6, 0.55 * n_lanes + 2.2)))
    xy = layout.xy
    cut = set(layout.cut_edges)
    plain = [xy[[a, b]] for a, b in layout.edges if (a, b) not in cut]
    ax.add_collection(LineCollection(plain, colors="0.6", linewidths=0.9, zorder=1, gid="edges"))
    ax.add_collection(LineCollection([xy[[a, b]] for a, b in layout.cut_edges], colors=CUT_COLOR, linewidths=2.6,
                                     zorder=2, gid="cut-edges"))
    sizes = np.array([420.0 if len(layers) > 1 else 70.0 for _, _, layers in layout.nodes])
    for side, color in (("device", DEVICE_COLOR), ("server", SERVER_COLOR)):
        idx = [i for i, node in enumerate(layout.nodes) if node[1] == side]
        ax.scatter(xy[idx, 0], xy[idx, 1], s=sizes[idx], marker="s", color=color, edgecolors="black",
                   linewidths=0.6, zorder=3, gid=side)
    for i, (label, side, layers) in enumerate(layout.nodes):
        if len(layers) > 1:
            ax.annotate(f"{len(layers)} layers\non {side}", xy[i], xytext=(0, -16), textcoords="offset points",
                        ha="center", va="top", fontsize=8, gid=f"group-{side}")
    texts, sent = [], []
    index = {layers[0]: i for i, (_, _, layers) in enumerate(layout.nodes) if len(layers) == 1}
    group_of = {nm: i for i, (_, _, layers) in enumerate(layout.nodes) if len(layers) > 1 for nm in layers}
    senders = sorted(layout.senders.items(), key=lambda item: tuple(xy[index.get(item[0], group_of.get(item[0]))]))
    for number, (name, nbytes) in enumerate(senders, start=1):
        i = index.get(name, group_of.get(name))
        texts.append(ax.annotate(str(number), xy[i], xytext=(7, 6), textcoords="offset points", ha="left", va="bottom",
                                 fontsize=8, fontweight="bold", color=CUT_COLOR, gid=f"cut-label-{name}", zorder=5))
        sent.append(Line2D([], [], ls="none", marker=f"${number}$", ms=7, color=CUT_COLOR,
                           label=f"{name}: {fmt_bytes(nbytes)}"))
    ax.set_xlim(-0.8, n_depth - 1 + 0.8)
    ax.set_ylim(xy[:, 1].min() - 1.0, xy[:, 1].max() + 1.2)
    ax.set_xlabel("depth in the DAG (layers, topological order left to right)" + (", collapsed" if layout.collapsed else ""))
    ax.set_yticks([])
    for spine in ("left", "right", "top"):
        ax.spines[spine].set_visible(False)
    b = problem.breakdown(assignment)
    fig.suptitle(title or (f"{instance_name(problem, 'partition')}: {b['device_layers']}/{problem.n_layers} layers on device, "
                           f"{fmt_bytes(b['uplink_bytes'])} up at {problem.network.uplink_mbps:g} Mbps, "
                           f"latency {b['total_ms']:.2f} ms"), fontsize=10)
    handles = [Line2D([], [], marker="s", ls="none", color=DEVICE_COLOR, mec="black", label="on device"),
               Line2D([], [], marker="s", ls="none", color=SERVER_COLOR, mec="black", label="on server"),
               Line2D([], [], color=CUT_COLOR, lw=2.6, label="cut: tensor sent up (bytes)")]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    if sent:
        ax.legend(handles=sent, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7.5, frameon=False,
                  title="tensors sent up", title_fontsize=8, alignment="left")
    place_without_overlap(fig, texts)
    fig.coinfer_layout = layout
    fig.coinfer_solution = solution if hasattr(solution, "status") else None
    return fig


def _frame(layout: PartitionLayout):
    """Figure sized to the layout, its axes with limits, x label and no y axis."""
    n_depth = int(layout.xy[:, 0].max()) + 1 if len(layout.nodes) else 1
    n_lanes = int(np.ptp(layout.xy[:, 1])) + 1 if len(layout.nodes) else 1
    fig, ax = new_figure(min(18.0, max(9.0, 0.42 * n_depth + 4.5)), min(9.0, max(3.6, 0.55 * n_lanes + 2.2)))
    ax.set_xlim(-0.8, n_depth - 1 + 0.8)
    ax.set_ylim(layout.xy[:, 1].min() - 1.0, layout.xy[:, 1].max() + 1.2)
    ax.set_xlabel("depth in the DAG (layers, topological order left to right)" + (", collapsed" if layout.collapsed else ""))
    ax.set_yticks([])
    ax.xaxis.get_major_locator().set_params(integer=True)
    for spine in ("left", "right", "top"):
        ax.spines[spine].set_visible(False)
    return fig, ax


def _tiered_title(problem, assignment) -> str:
    b = problem.breakdown(assignment)
    counts = "/".join(str(n) for n in b["layers_per_tier"])
    energy = f", energy {b['energy_mj']:.2f} mJ" if "energy_mj" in b else ""
    return (f"{instance_name(problem, 'partition')}: {counts} layers on {'/'.join(problem.tiers)}, "
            f"link 0 at {problem.links[0].uplink_mbps:g} Mbps up, latency {b['total_ms']:.2f} ms{energy}")


def _draw_tiered(problem, assignment, layout: PartitionLayout, title):
    """The k-tier partition figure (see :func:`plot_partition`). O(nodes + edges + labels^2)."""
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    fig, ax = _frame(layout)
    xy = layout.xy
    cut = set(layout.cut_edges)
    plain = [xy[[a, b]] for a, b in layout.edges if (a, b) not in cut]
    ax.add_collection(LineCollection(plain, colors="0.6", linewidths=0.9, zorder=1, gid="edges"))
    handles = []
    for j, tier in enumerate(layout.tiers):
        color, marker = TIER_COLORS[j % len(TIER_COLORS)], "sodv^<>"[(j // len(TIER_COLORS)) % 7]
        idx = [i for i, node in enumerate(layout.nodes) if node[1] == tier]
        sizes = [420.0 if len(layout.nodes[i][2]) > 1 else 70.0 for i in idx]
        ax.scatter(xy[idx, 0], xy[idx, 1], s=sizes, marker=marker, color=color, edgecolors="black",
                   linewidths=0.6, zorder=3, gid=f"tier-{j}")
        handles.append(Line2D([], [], marker=marker, ls="none", color=color, mec="black", label=f"on {tier}"))
    node_index = {nm: i for i, (_, _, layers) in enumerate(layout.nodes) for nm in layers}
    texts, sent, number = [], [], 0
    for link, (edges, senders) in enumerate(zip(layout.link_cut_edges, layout.link_senders)):
        color, style = LINK_STYLES[link % len(LINK_STYLES)]
        width = max(1.2, 2.6 - 0.6 * link)
        ax.add_collection(LineCollection([xy[[a, b]] for a, b in edges], colors=color, linestyles=style,
                                         linewidths=width, zorder=2 + 0.01 * link, gid=f"cut-edges-{link}"))
        name = f"{layout.tiers[link]} \u2192 {layout.tiers[link + 1]}"
        handles.append(Line2D([], [], color=color, ls=style, lw=width, label=f"cut of link {link}: {name}"))
        if senders:
            sent.append(Line2D([], [], ls="none", label=f"link {link}, {name}:"))
        for nm, nbytes in sorted(senders.items(), key=lambda item: tuple(xy[node_index[item[0]]])):
            number += 1
            texts.append(ax.annotate(str(number), xy[node_index[nm]], xytext=(7, 6), textcoords="offset points",
                                     ha="left", va="bottom", fontsize=8, fontweight="bold", color=color,
                                     gid=f"cut-label-{link}-{nm}", zorder=5))
            sent.append(Line2D([], [], ls="none", marker=f"${number}$", ms=7, color=color,
                               label=f"{nm}: {fmt_bytes(nbytes)}"))
    for i, (_, tier, layers) in enumerate(layout.nodes):
        if len(layers) > 1:
            ax.annotate(f"{len(layers)} layers\non {tier}", xy[i], xytext=(0, -16), textcoords="offset points",
                        ha="center", va="top", fontsize=8, gid=f"group-{tier}")
    fig.suptitle(title or _tiered_title(problem, assignment), fontsize=10)
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 5), fontsize=8, frameon=False)
    if sent:
        ax.legend(handles=sent, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7.5, frameon=False,
                  title="tensors sent up (bytes)", title_fontsize=8, alignment="left")
    place_without_overlap(fig, texts)
    return fig
