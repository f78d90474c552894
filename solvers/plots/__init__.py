"""Figures of coinfer problems and results (optional extra ``coinfer[plot]``: matplotlib).

Every function takes a problem or a result and returns a
:class:`matplotlib.figure.Figure` (Agg canvas, no ``pyplot`` state) that the
caller may restyle and save; :func:`save_figure` writes it by file suffix.

==========================  =========================================================
function                    figure
==========================  =========================================================
:func:`plot_bandwidth_map`  optimal latency vs uplink, one curve per partition
:func:`plot_partition`      the layer DAG coloured by side, the cut with its bytes
:func:`plot_gantt`          a pipeline schedule, makespan and lower bound
:func:`plot_exits_front`    accuracy vs mean latency of the best exit plans
:func:`plot_dpp`            drift-plus-penalty cost and backlog (or delay) vs V
:func:`plot_pareto`         latency-energy front of a k-tier partition (latency-throughput for a stream)
:func:`plot_placement`      a layer placement: device lanes, stages, memory, transfers
==========================  =========================================================

The drawn data can be read back from the axes: every data artist has a
``gid`` (documented per function), e.g.
``[l for l in fig.axes[0].lines if l.get_gid() == "piece-0"][0].get_xydata()``.
Importing this package does not import matplotlib; the functions do, and
raise ImportError naming the extra when it is missing.
"""

from __future__ import annotations

import importlib

__all__ = [
    "plot_bandwidth_map",
    "plot_partition",
    "plot_gantt",
    "plot_exits_front",
    "plot_dpp",
    "plot_pareto",
    "plot_placement",
    "save_figure",
    "require_matplotlib",
    "find_artist",
]

_WHERE = {
    "plot_bandwidth_map": "bandwidth",
    "plot_partition": "partition",
    "plot_gantt": "gantt",
    "plot_exits_front": "exits",
    "plot_dpp": "dpp",
    "plot_pareto": "pareto",
    "plot_placement": "placement",
    "save_figure": "_style",
    "require_matplotlib": "_style",
    "find_artist": "_style",
}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_WHERE))
