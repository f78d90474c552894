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
    paths : dict
        Edge ``(i, j)`` -> the drawn polyline, an ``(n_points, 2)`` array
        from ``xy[i]`` to ``xy[j]``: the straight segment, or an arc when the
        segment would pass through another node (a skip edge such as a
        residual shortcut), so that no edge hides behind others.
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
    paths: dict = field(default_factory=dict)

    @property
    def arcs(self) -> list:
        """The edges drawn as arcs (their straight line would run through another node)."""
        return [e for e, path in self.paths.items() if len(path) > 2]


#: Points of an arc's polyline, and the clearance (in depth/lane units) a straight edge keeps from other nodes.
_ARC_POINTS, _CLEARANCE = 24, 0.3


def edge_paths(xy: np.ndarray, edges) -> dict:
    """The drawn polyline of every edge: straight, or an arc above the line if it would cross a node.

    An edge from ``xy[a]`` to ``xy[b]`` is straight when no other node lies
    within ``_CLEARANCE`` of the segment's interior; otherwise it is a
    quadratic Bezier arc bowed away from the middle lane (its control point
    half the span, at least one lane, off the line),
    so residual shortcuts and other skip edges are visible instead of lying
    on the chain. O(len(edges) * nodes) with numpy.
    """
    paths = {}
    t = np.linspace(0.0, 1.0, _ARC_POINTS)[:, None]
    for a, b in edges:
        p, q = xy[a], xy[b]
        d = q - p
        length2 = float(d @ d)
        u = np.clip(((xy - p) @ d) / length2, 0.0, 1.0) if length2 > 0 else np.zeros(len(xy))
        dist = np.hypot(*(xy - (p + u[:, None] * d)).T)
        inside = (u > 1e-9) & (u < 1 - 1e-9) & (dist < _CLEARANCE)
        inside[[a, b]] = False
        if not inside.any():
            paths[(a, b)] = np.array([p, q])
            continue
        away = 1.0 if p[1] + q[1] >= 0 else -1.0  # bow away from the middle lane
        control = (p + q) / 2.0 + np.array([0.0, away * max(1.0, 0.5 * abs(d[0]))])
        paths[(a, b)] = (1 - t) ** 2 * p + 2 * (1 - t) * t * control + t ** 2 * q
    return paths


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
    preds = [[] for _ in range(n_nodes)]  # type: ignore[var-annotated]
    for a, b in pairs:
        preds[b].append(a)
    lanes = np.zeros(n_nodes)
    for d in np.unique(depth):  # barycentre ordering: a node goes near its predecessors' lanes
        members = np.flatnonzero(depth == d)
        centre = {i: (np.mean(lanes[preds[i]]) if preds[i] else 0.0) for i in members.tolist()}
        members = sorted(members.tolist(), key=lambda i: (centre[i], rank[i]))  # type: ignore[assignment]
        lanes[members] = np.arange(len(members)) - (len(members) - 1) / 2.0
    layout.xy = np.column_stack([depth.astype(float), -lanes])
    layout.paths = edge_paths(layout.xy, pairs)


def partition_layout(problem, assignment, *, max_layers: int = 60) -> PartitionLayout:
    """Nodes, positions and edges of the partition figure (see :class:`PartitionLayout`).

    With at most ``max_layers`` layers every layer is a node. Otherwise the
    layers outside the block holding the cut are collapsed into one device
    node and one server node (and the block too when it alone has more than
    ``max_layers`` layers), so 700-layer models draw as a handful of nodes.
    For a k-tier problem (a ``TieredPartitionProblem``) the nodes carry tier
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
    fig = _draw(problem, assignment, layout, title, tiered=is_tiered(problem))
    if getattr(problem, "throughput", False):
        _draw_stage_loads(fig, problem, assignment)
    fig.coinfer_layout = layout
    fig.coinfer_solution = solution if hasattr(solution, "status") else None
    return fig


def _frame(layout: PartitionLayout, stage_panel: bool = False):
    """Figure sized to the layout, its axes with limits, x label and no y axis (and, for a
    throughput problem, a second axes below for the stage loads)."""
    n_depth = int(layout.xy[:, 0].max()) + 1 if len(layout.nodes) else 1
    n_lanes = int(np.ptp(layout.xy[:, 1])) + 1 if len(layout.nodes) else 1
    width, height = min(18.0, max(9.0, 0.42 * n_depth + 4.5)), min(9.0, max(3.6, 0.55 * n_lanes + 2.2))
    if stage_panel:
        fig, (ax, _) = new_figure(width, height + 2.2, nrows=2, gridspec_kw={"height_ratios": [height, 2.0]})
    else:
        fig, ax = new_figure(width, height)
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


def _two_tier_title(problem, assignment) -> str:
    b = problem.breakdown(assignment)
    return (f"{instance_name(problem, 'partition')}: {b['device_layers']}/{problem.n_layers} layers on device, "
            f"{fmt_bytes(b['uplink_bytes'])} up at {problem.network.uplink_mbps:g} Mbps, latency {b['total_ms']:.2f} ms")


def _tier_styles(layout: PartitionLayout, tiered: bool) -> list:
    """Per tier: (scatter gid, colour, marker, legend label)."""
    if not tiered:
        return [("device", DEVICE_COLOR, "s", "on device"), ("server", SERVER_COLOR, "s", "on server")]
    return [(f"tier-{j}", TIER_COLORS[j % len(TIER_COLORS)], "sodv^<>"[(j // len(TIER_COLORS)) % 7], f"on {tier}")
            for j, tier in enumerate(layout.tiers)]


def _link_styles(layout: PartitionLayout, tiered: bool) -> list:
    """Per link: (collection gid, colour, line style, width, legend label, label gid prefix)."""
    if not tiered:
        return [("cut-edges", CUT_COLOR, "solid", 2.6, "cut: tensor sent up (bytes)", "cut-label-")]
    out = []
    for link in range(len(layout.tiers) - 1):
        color, style = LINK_STYLES[link % len(LINK_STYLES)]
        name = f"{layout.tiers[link]} \u2192 {layout.tiers[link + 1]}"
        out.append((f"cut-edges-{link}", color, style, max(1.2, 2.6 - 0.6 * link), f"cut of link {link}: {name}",
                    f"cut-label-{link}-"))
    return out


def _draw(problem, assignment, layout: PartitionLayout, title, *, tiered: bool):
    """The partition figure of either form (see :func:`plot_partition`). O(nodes * edges + labels^2).

    The legend lists only what is drawn: a side without layers and a link
    that nothing crosses get no entry. Edges whose straight line would pass
    through another node are drawn as arcs (:func:`edge_paths`); each
    sender's number is tied to its node by a thin leader line.
    """
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    fig, ax = _frame(layout, stage_panel=getattr(problem, "throughput", False))
    xy = layout.xy
    cut = set(layout.cut_edges)
    plain = [layout.paths[e] for e in layout.edges if e not in cut]
    ax.add_collection(LineCollection(plain, colors="0.6", linewidths=0.9, zorder=1, gid="edges"))
    handles = []
    for (gid, color, marker, label), tier in zip(_tier_styles(layout, tiered), layout.tiers):
        idx = [i for i, node in enumerate(layout.nodes) if node[1] == tier]
        sizes = [420.0 if len(layout.nodes[i][2]) > 1 else 70.0 for i in idx]
        ax.scatter(xy[idx, 0], xy[idx, 1], s=sizes, marker=marker, color=color, edgecolors="black",
                   linewidths=0.6, zorder=3, gid=gid)
        if idx:
            handles.append(Line2D([], [], marker=marker, ls="none", color=color, mec="black", label=label))
    node_index = {nm: i for i, (_, _, layers) in enumerate(layout.nodes) for nm in layers}
    texts, sent, number = [], [], 0
    at_node: dict = {}
    links = zip(_link_styles(layout, tiered), layout.link_cut_edges, layout.link_senders)
    for link, ((gid, color, style, width, label, label_gid), edges, senders) in enumerate(links):
        ax.add_collection(LineCollection([layout.paths[e] for e in edges], colors=color, linestyles=style,
                                         linewidths=width, zorder=2 + 0.01 * link, gid=gid))
        if edges:
            handles.append(Line2D([], [], color=color, ls=style, lw=width, label=label))
        if senders and tiered:
            sent.append(Line2D([], [], ls="none", label=f"link {link}, {label.split(': ', 1)[1]}:"))
        for nm, nbytes in sorted(senders.items(), key=lambda item: tuple(xy[node_index[item[0]]])):
            number += 1
            node = node_index[nm]
            beside = at_node[node] = at_node.get(node, -1) + 1  # numbers on one node side by side
            texts.append(ax.annotate(str(number), xy[node], xytext=(7 + 11 * beside, 6), textcoords="offset points",
                                     ha="left", va="bottom", fontsize=8, fontweight="bold", color=color,
                                     gid=f"{label_gid}{nm}", zorder=5))
            sent.append(Line2D([], [], ls="none", marker=f"${number}$", ms=7, color=color,
                               label=f"{nm}: {fmt_bytes(nbytes)}"))
    for i, (_, tier, layers) in enumerate(layout.nodes):
        if len(layers) > 1:
            ax.annotate(f"{len(layers)} layers\non {tier}", xy[i], xytext=(0, -16), textcoords="offset points",
                        ha="center", va="top", fontsize=8, gid=f"group-{tier}")
    arcs = [path for path in layout.paths.values() if len(path) > 2]
    if arcs:  # room for the arcs
        low, high = ax.get_ylim()
        ax.set_ylim(min(low, min(float(path[:, 1].min()) for path in arcs) - 0.4),
                    max(high, max(float(path[:, 1].max()) for path in arcs) + 0.4))
    fig.suptitle(title or (_tiered_title if tiered else _two_tier_title)(problem, assignment), fontsize=10)
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 5), fontsize=8, frameon=False)
    if sent:
        ax.legend(handles=sent, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7.5, frameon=False,
                  title="tensors sent up (bytes)", title_fontsize=8, alignment="left")
    start = [text.xyann for text in texts]
    place_without_overlap(fig, texts)
    for text, (_, y_pt) in zip(texts, start):  # a number moved off its node gets a leader line to it
        if abs(text.xyann[1] - y_pt) > 1.0:
            text.remove()
            ax.annotate(text.get_text(), text.xy, xytext=text.xyann, textcoords="offset points", ha="left",
                        va="bottom", fontsize=8, fontweight="bold", color=text.get_color(), gid=text.get_gid(),
                        zorder=5, arrowprops={"arrowstyle": "-", "color": text.get_color(), "lw": 0.5,
                                              "shrinkA": 0, "shrinkB": 2, "relpos": (0.0, 0.0)})
    return fig


def _draw_stage_loads(fig, problem, assignment) -> None:
    """For a throughput solution, in the panel below the DAG: a bar per pipeline stage (its load, ms
    per frame), the bottleneck marked (gid ``stage-loads``: the bars in stage order; ``bottleneck``:
    the slowest stage's bar)."""
    ax = fig.axes[1]
    terms = problem.breakdown(assignment)
    stages = terms["stage_ms"]
    names = list(stages)
    loads = [stages[name] for name in names]
    colors = ["0.7" if name != terms["bottleneck"] else CUT_COLOR for name in names]
    bars = ax.barh(range(len(names)), loads, color=colors, edgecolor="black", linewidth=0.5, gid="stage-loads")
    bars[names.index(terms["bottleneck"])].set_gid("bottleneck")
    ax.set_yticks(range(len(names)), names, fontsize=7.5)
    ax.invert_yaxis()
    ax.set_xlabel("stage load (ms per frame)")
    rate = 1000.0 / terms["period_ms"] if terms["period_ms"] else float("inf")
    ax.set_title(f"pipelined stream: {rate:.4g} frames/s, bottleneck {terms['bottleneck']} "
                 f"({terms['period_ms']:.3g} ms per frame)", fontsize=9)
