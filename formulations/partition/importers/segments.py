"""Measured segments: time the real device and server sub-models of a split.

QDMP observes that a series of layers does not take the sum of its layers'
times. Instead of adding per-layer medians, a split can be *measured*: the
device part and the server part (:mod:`.onnx_split`) each run as their own
model with all of onnxruntime's optimizations, as a deployment runs them.

- :func:`measure_split` measures one split and sets it beside the additive
  prediction, term by term;
- :func:`measure_segments` measures the split at every cut vertex of an
  instance (QDMP: the optimum lies between adjacent cut vertices), for
  choosing a split by measured latency at any bandwidth
  (:func:`segment_latency`; the choice itself is on the solver side,
  ``solvers.split.choose_by_segments``).

The server part runs on *this* machine; it is scaled to the server by the
instance's speed ratio over the server's layers, ``sum(server_ms) /
sum(device_ms)`` (the server profile against this CPU's per-layer medians),
which every result states.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from ..units import transfer_ms

__all__ = ["measure_split", "measure_segments", "segment_latency", "segment_mask", "server_ratio"]


def segment_mask(problem, row: Mapping[str, Any]) -> np.ndarray:
    """The device set of a :func:`measure_segments` row.

    Its ``device`` layers when given (an extra candidate), else the closure of
    its cut vertex (all layers if ``cut`` is None).
    """
    if row.get("device") is not None:
        return problem.device_mask(row["device"])
    if row["cut"] is None:
        return np.ones(problem.n_layers, dtype=bool)
    return problem.topology.closure_of([problem.index[row["cut"]]])


def server_ratio(problem, mask: np.ndarray) -> float | None:
    """``sum(server_ms) / sum(device_ms)`` over the layers off the device (None if none or 0 ms)."""
    on_server = ~np.asarray(mask, dtype=bool)
    device = float(problem.device_ms[on_server].sum())
    if not on_server.any() or device <= 0:
        return None
    return float(problem.server_ms[on_server].sum()) / device


def _median_ms(model, feeds, runs, warmup, threads) -> float:
    from .profiling import time_model

    return float(np.median(time_model(model.SerializeToString(), feeds, runs=runs, warmup=warmup,
                                      threads=threads, level="all")))


def _part_feeds(model, values: Mapping[str, np.ndarray]) -> dict:
    from .onnx_model import graph_inputs

    return {i.name: values[i.name] for i in graph_inputs(model)}


def measure_split(problem, assignment, split, feeds, *, runs: int = 10, warmup: int = 2,
                  threads: int = 1) -> dict[str, Any]:
    """Measured latency of a split beside its additive prediction.

    Parameters
    ----------
    problem : PartitionProblem
        The imported instance (its network gives the transfer times).
    assignment
        The split, as for :meth:`PartitionProblem.device_mask`.
    split : ModelSplit
        Its ONNX parts (:func:`~formulations.partition.importers.onnx_split.split_model`).
    feeds : mapping
        Model inputs by name.

    Returns
    -------
    dict
        ``predicted`` (the instance's breakdown) and ``measured``:
        ``device_ms`` (device part, this CPU), ``server_ms_here`` (server
        part on this CPU), ``server_ratio`` and ``server_ms`` (scaled),
        ``uplink_bytes`` (the sent tensors' bytes as the instance counts
        them) and ``uplink_ms``, ``downlink_ms``, ``rtt_ms``, ``total_ms``;
        ``error_pct`` = (measured - predicted) / predicted.
        Cost: ``runs + warmup`` runs of each part.
    """
    mask = problem.device_mask(assignment)
    predicted = problem.breakdown(mask)
    device_ms = _median_ms(split.device, feeds, runs, warmup, threads)
    server_here, ratio, server_ms = 0.0, None, 0.0
    if split.server is not None:
        from .profiling import _session

        device = _session(split.device.SerializeToString(), level="all")
        values = dict(zip([o.name for o in device.get_outputs()], device.run(None, _part_feeds(split.device, feeds))))
        server_here = _median_ms(split.server, _part_feeds(split.server, values), runs, warmup, threads)
        ratio = server_ratio(problem, mask)
        server_ms = server_here * (ratio if ratio is not None else 1.0)
    measured = {"device_ms": device_ms, "server_ms_here": server_here, "server_ratio": ratio,
                "server_ms": server_ms, "uplink_bytes": predicted["uplink_bytes"],
                "uplink_ms": predicted["uplink_ms"], "downlink_ms": predicted["downlink_ms"],
                "rtt_ms": predicted["rtt_ms"]}
    measured["total_ms"] = math.fsum(measured[k] for k in ("device_ms", "server_ms", "uplink_ms", "downlink_ms",
                                                           "rtt_ms"))
    error = 100.0 * (measured["total_ms"] - predicted["total_ms"]) / predicted["total_ms"]
    return {"predicted": predicted, "measured": measured, "error_pct": error,
            "server_scaling": "server part timed on this CPU x sum(server_ms)/sum(device_ms) over the server's "
                              "layers (the server profile against this CPU's per-layer medians)"}


def measure_segments(problem, model, graph=None, *, runs: int = 10, warmup: int = 2, threads: int = 1,
                     progress=None, limit: int | None = None, extra=()) -> list[dict[str, Any]]:
    """Measured device and server parts of the split at every cut vertex.

    The split at cut vertex ``c`` puts ``c`` and everything it depends on on
    the device. Both parts run as their own models (all optimizations).
    When no cut vertex puts every layer on the device (several outputs), a
    last row with ``cut`` None measures that split too.

    Parameters
    ----------
    problem : PartitionProblem
        Imported with ``meta.tensors`` on every layer.
    model : onnx.ModelProto
        The model the instance was imported from (static shapes).
    limit : int, optional
        Measure at most this many cut vertices, evenly spaced (the first and
        last always); None: all.
    extra : sequence of boolean masks
        Further candidate splits (e.g. the additive optimum of every
        bandwidth range, each block's optimal cut, computed by the caller);
        their rows have ``cut`` None and ``device`` (layer names). Splits
        equal to a cut vertex's are measured once.

    Returns
    -------
    list of dict
        Per cut vertex, in topological order: ``cut``, ``device_layers``,
        ``sent`` (tensor names), ``uplink_bytes``, ``downlink_bytes``,
        ``device_ms`` and ``server_ms_here`` (medians), ``server_ratio``.
        Cost: two part timings per cut vertex, ``2 (runs + warmup)`` runs of
        at most the whole model each.
    """
    from .onnx_split import device_tensors, split_model, value_infos
    from .profiling import make_feeds

    shapes = problem.metadata.get("import", {}).get("input_shapes", {})
    table = value_infos(model)
    dtypes = {nm: _np_dtype(table[nm]) for nm in shapes}
    feeds = make_feeds(shapes, dtypes)
    rows = []
    cuts: list = list(problem.cut_vertices)
    if limit is not None and 0 < limit < len(cuts):
        picks = np.unique(np.linspace(0, len(cuts) - 1, max(limit, 2)).round().astype(int))
        cuts = [cuts[k] for k in picks]
    if not cuts or problem.topology.closure_of([problem.index[cuts[-1]]]).sum() < problem.n_layers:
        cuts.append(None)  # several outputs: all on the device is no cut vertex's split
    candidates = [(cut, segment_mask(problem, {"cut": cut})) for cut in cuts]
    seen = {np.packbits(mask).tobytes() for _, mask in candidates}
    for mask in extra:
        key = np.packbits(np.asarray(mask, dtype=bool)).tobytes()
        if key not in seen:
            seen.add(key)
            candidates.append((None, np.asarray(mask, dtype=bool)))
    for k, (cut, mask) in enumerate(candidates):
        split = split_model(model, device_tensors(problem, mask), table)
        result = measure_split(problem, mask, split, feeds, runs=runs, warmup=warmup, threads=threads)
        measured = result["measured"]
        rows.append({"cut": cut, **({"device": problem.assignment(mask)["device"]} if k >= len(cuts) else {}),
                     "device_layers": int(mask.sum()), "sent": split.sent,
                     "uplink_bytes": int(measured["uplink_bytes"]),
                     "downlink_bytes": int(result["predicted"]["downlink_bytes"]),
                     "device_ms": round(measured["device_ms"], 4), "server_ms_here": round(measured["server_ms_here"], 4),
                     "server_ratio": None if measured["server_ratio"] is None else round(measured["server_ratio"], 6)})
        if progress:
            progress(k + 1, len(candidates), f"timing {len(candidates)} candidate splits (device and server parts)")
    return rows


def _np_dtype(value_info):
    from onnx import helper

    return helper.tensor_dtype_to_np_dtype(value_info.type.tensor_type.elem_type)


def segment_latency(row: Mapping[str, Any], network) -> float:
    """Measured end-to-end ms of a :func:`measure_segments` row on ``network``.

    ``device_ms + uplink + rtt (if anything runs on the server) + server_ms_here
    * server_ratio + downlink``.
    """
    offloaded = row["server_ratio"] is not None
    total = row["device_ms"] + transfer_ms(row["uplink_bytes"], network.uplink_mbps)
    if offloaded:
        total += row["server_ms_here"] * row["server_ratio"] + network.rtt_ms
        total += transfer_ms(row["downlink_bytes"], network.effective_downlink_mbps)
    return float(total)
