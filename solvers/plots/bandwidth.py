"""``bandwidth-map``: optimal latency against uplink bandwidth, one curve per optimal partition."""

from __future__ import annotations

import numpy as np

from ._style import OKABE_ITO, fmt_bytes, instance_name, new_figure, place_without_overlap, require_matplotlib

__all__ = ["plot_bandwidth_map", "piece_label"]


def piece_label(problem, piece) -> str:
    """``"5/6 on device, 25.1 kB up"`` for one piece of a bandwidth map.

    Without a problem the layer total is omitted; the bytes sent are then
    recovered from the piece's line (``per_mbps_ms = bytes * 8 / 1000``,
    exact when the downlink is fixed).
    """
    if problem is None:
        return f"{len(piece.device)} on device, {fmt_bytes(piece.per_mbps_ms * 125.0)} up"
    b = problem.breakdown({"device": list(piece.device)})
    return f"{len(piece.device)}/{problem.n_layers} on device, {fmt_bytes(b['uplink_bytes'])} up"


def _reference_lines(problem):
    """``[(label, gid, fixed_ms, per_mbps_ms)]`` for all-device and full offload, when feasible."""
    from ..algorithms.partition.bandwidth import _line

    out = []
    every = problem.assignment(np.ones(problem.n_layers, dtype=bool))
    least = problem.assignment(problem.least_device_mask())
    for label, gid, assignment in (("all on device", "all-device", every), ("full offload", "full-offload", least)):
        if problem.is_feasible(assignment):
            fixed, per, _ = _line(problem, assignment)
            out.append((label, gid, fixed, per))
    return out


def plot_bandwidth_map(source, min_mbps: float = 0.1, max_mbps: float = 1000.0, *, problem=None,
                       method: str | None = None, points_per_piece: int = 48, title: str | None = None):
    """Optimal latency (ms) against uplink (Mbps, log axis), one curve per optimal partition.

    Parameters
    ----------
    source : PartitionProblem or BandwidthMap
        A problem (its map over ``[min_mbps, max_mbps]`` is computed with
        :func:`solvers.bandwidth_map`, ``ilp`` when it has a device budget)
        or an already computed map.
    min_mbps, max_mbps : float
        Range when ``source`` is a problem.
    method : str, optional
        Exact partition method for the map (default ``qdmp``, ``ilp`` with
        a device budget).
    problem : PartitionProblem, optional
        With a map as ``source``: the problem, for the reference lines and
        the layer totals in the labels.
    points_per_piece : int
        Samples of each piece's curve (its exact endpoints included).

    Returns
    -------
    matplotlib.figure.Figure
        One axes. Artists carry ``gid``\\ s: ``piece-<i>`` (the curve of
        piece ``i``, ascending Mbps; its first and last points are
        ``(min_mbps, latency)`` and ``(max_mbps, latency)`` of the piece),
        ``breakpoints`` (markers at ``breakpoints_mbps`` and their
        latencies), ``all-device`` and ``full-offload`` (reference
        latencies over the range), ``tag-<i>`` (the number of piece ``i``
        on its curve; the legend says which layers run on the device and
        how many bytes go up). ``fig.coinfer_bandwidth_map`` is the map.

    Notes
    -----
    Latency on a piece is ``fixed_ms + per_mbps_ms / uplink``; the map
    itself costs at most ``2 * pieces - 1`` exact solves; drawing is
    O(pieces * points_per_piece) plus a greedy label placement O(pieces^2).
    """
    require_matplotlib()
    from ..algorithms.partition.bandwidth import BandwidthMap, bandwidth_map

    if isinstance(source, BandwidthMap):
        bmap = source
    else:
        problem = source
        method = method or ("ilp" if problem.device_budget else "qdmp")
        bmap = bandwidth_map(problem, min_mbps, max_mbps, method=method)
    pieces = bmap.pieces
    lo, hi = pieces[0].min_mbps, pieces[-1].max_mbps
    fig, ax = new_figure(10.0, 4.6)
    ax.set_xscale("log")
    colors = [OKABE_ITO[i] for i in (5, 6, 3, 7, 2, 0)]
    tags = []
    for i, piece in enumerate(pieces):
        xs = np.geomspace(piece.min_mbps, piece.max_mbps, max(2, points_per_piece))
        xs[0], xs[-1] = piece.min_mbps, piece.max_mbps
        color = colors[i % len(colors)]
        ax.plot(xs, [piece.latency(x) for x in xs], color=color, lw=2.4, gid=f"piece-{i}", zorder=3,
                label=f"{i + 1}: " + piece_label(problem, piece))
        x_mid = float(np.sqrt(piece.min_mbps * piece.max_mbps))
        tag = ax.annotate(str(i + 1), (x_mid, piece.latency(x_mid)), xytext=(0, 7), textcoords="offset points",
                          ha="center", va="bottom", fontsize=9, fontweight="bold", color=color, gid=f"tag-{i}",
                          zorder=5, bbox={"boxstyle": "circle,pad=0.15", "fc": "white", "ec": color, "lw": 0.8})
        tags.append(tag)
    breaks = bmap.breakpoints_mbps
    if breaks:
        ax.plot(breaks, [bmap.latency(x) for x in breaks], ls="none", marker="o", ms=6, mfc="white",
                mec=OKABE_ITO[0], mew=1.4, gid="breakpoints", zorder=4, label="breakpoints")
        for x in breaks:
            ax.axvline(x, color="0.8", lw=0.8, zorder=1)
    if problem is not None:
        xs = np.geomspace(lo, hi, 96)
        for (label, gid, fixed, per), color, style in zip(_reference_lines(problem), ("0.35", "0.55"), ("--", ":")):
            ax.plot(xs, fixed + per / xs, color=color, ls=style, lw=1.3, gid=gid, label=label, zorder=2)
    ax.set_xlim(lo, hi)
    latencies = [p.latency(x) for p in pieces for x in (p.min_mbps, p.max_mbps)]
    top = max(latencies)
    ax.set_ylim(0, top * 1.35 + 1e-9)
    ax.set_xlabel("uplink bandwidth (Mbps, log scale)")
    ax.set_ylabel("optimal latency (ms)")
    name = instance_name(problem, "partition") if problem is not None else "partition"
    ax.set_title(title or f"{name}: optimal latency vs uplink ({len(pieces)} partitions, {len(breaks)} breakpoints)",
                 fontsize=10)
    ax.grid(True, which="major", color="0.92", zorder=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False,
              title="optimal partition per piece\n(layers on device, bytes up)", title_fontsize=8, alignment="left")
    place_without_overlap(fig, tags)
    fig.coinfer_bandwidth_map = bmap
    return fig
