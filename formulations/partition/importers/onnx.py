"""ONNX models to partition instances.

:func:`read_model` loads and checks a file; :func:`prepare_model` (both in
:mod:`.onnx_model`) fixes the input shapes, optionally applies onnxruntime's basic graph optimizations
(constant folding, Conv+BatchNorm fusion: one node per fused group) and runs
shape inference; :func:`onnx_graph` (:mod:`.onnx_graph`) turns the result into
layers and edges:

- one layer per ONNX node that computes on the input (constants, nodes fed
  only by constants, and nodes no output depends on are not layers);
- one source layer per graph input (op ``"Input"``, 0 ms, on the device);
- an edge ``producer -> consumer`` for every tensor passed between layers;
- ``output_bytes`` is the size of the layer's outputs that other layers or
  the graph's outputs use (static shape x dtype size); initializers
  (weights) are not layers and are never transferred;
- ``flops`` from :func:`formulations.partition.importers.flops.node_flops` (unknown
  operators count 0 with a warning) and ``memory_bytes`` the layer's weights.

:func:`import_onnx` adds costs (device measured on this CPU by onnxruntime's
profiler, or a named roofline profile; server from a named profile or a
measured profile file) and returns a :class:`PartitionProblem`.

Needs the ``onnx`` extra (``pip install 'coinfer[onnx]'``).
"""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ...validate import naming_file
from ..problem import Layer, Network, PartitionProblem
from .onnx_graph import OnnxGraph, UnknownOperatorWarning, fuse_groups, onnx_graph
from .onnx_model import parse_input_shape, prepare_model, read_model

__all__ = ["read_model", "prepare_model", "onnx_graph", "import_onnx", "OnnxGraph", "parse_input_shape",
           "UnknownOperatorWarning"]


def _round(x: float, digits: int = 4) -> float:
    """Round to ``digits`` significant digits (keeps instance files small)."""
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(f"{x:.{digits}g}")


def import_onnx(source, *, input_shape=None, server_profile: str = "datacentre-gpu",
                device_profile: str | None = None, runs: int = 20, warmup: int = 3, threads: int = 1,
                optimize: str = "basic", uplink_mbps: float = 5.85, rtt_ms: float = 0.0,
                prefixes: int = 0, realtime: bool = False, name: str | None = None, progress=None,
                source_info: Mapping[str, Any] | None = None) -> PartitionProblem:
    """Import an ONNX model as a partition instance with measured costs.

    Parameters
    ----------
    source : path, bytes or onnx.ModelProto
    input_shape : str, list or dict, optional
        Shapes for dynamic inputs (required when an input is dynamic).
    server_profile : str
        A shipped profile name (see ``profile_names()``) or a
        ``measured_profile`` JSON file.
    device_profile : str, optional
        ``None`` (default) measures the device side on this CPU with
        onnxruntime's profiler; otherwise a profile as for the server.
    runs, warmup : int
        Timed runs (the median is kept, the quartiles go to ``layer.meta``)
        and untimed warm-up runs.
    threads : int
        onnxruntime intra-op threads for all measurements.
    optimize : {"basic", "fuse", "none"}
        See :func:`prepare_model`. ``"fuse"`` also merges the nodes
        onnxruntime's extended optimizations fuse (Conv+Relu, ...) into one
        layer (:func:`~formulations.partition.importers.onnx_graph.fuse_groups`) and
        times the layers with those optimizations on.
    uplink_mbps, rtt_ms : float
        The network stored in the instance (override it when solving).
    prefixes : int
        Also time up to this many prefix sub-models ending at cut vertices
        (evenly spaced) and record measured vs additive latency in
        ``metadata["latency"]["prefixes"]`` (0: skip).
    realtime : bool
        Measure at real-time priority when permitted
        (:func:`~formulations.partition.importers.profiling.realtime_priority`), so
        other processes cannot preempt the timing; recorded in
        ``metadata["device_costs"]["realtime_priority"]``.
    progress : callable, optional
        ``progress(done, total, label)`` after every timed run.
    source_info : mapping, optional
        Extra provenance for ``metadata["source"]``.

    Returns
    -------
    PartitionProblem
        With ``metadata`` holding provenance, units, cost models and the
        measured whole-model latencies.

    Raises
    ------
    InstanceError
        For unreadable models, dynamic shapes without ``input_shape``, or an
        unknown profile name.
    """
    from .profiles import get_profile

    server = get_profile(server_profile)
    device = get_profile(device_profile, "device_profile") if device_profile is not None else None
    model = read_model(source)
    file = None if not isinstance(source, (str, os.PathLike)) else str(source)
    with naming_file(file):
        prepared = prepare_model(model, input_shape=input_shape, optimize=optimize)
        graph = onnx_graph(prepared)
    if optimize == "fuse":
        from .onnx_model import require_onnx
        from .profiling import optimize_model

        extended = require_onnx().load_model_from_string(optimize_model(prepared.SerializeToString(), "extended"))
        graph = fuse_groups(graph, {n.name for n in extended.graph.node})
    work = np.asarray(graph.work)
    flops = np.asarray(graph.flops)
    moved = np.asarray(graph.bytes_moved)
    server_ms = server.layer_ms(graph.names, flops, moved, work)
    latency: dict[str, Any] = {}
    spread: dict[str, tuple[float, float]] = {}
    if device is None:
        from .profiling import realtime_priority

        level = "extended" if optimize == "fuse" else "none"
        with realtime_priority(realtime) as raised:
            device_ms, spread, latency, device_info = _measure(prepared, graph, runs, warmup, threads, progress, level)
        device_info["realtime_priority"] = raised
    else:
        device_ms = device.layer_ms(graph.names, flops, moved, work)
        device_info = device.provenance()
    layers = []
    for i, nm in enumerate(graph.names):
        meta = {"iqr_ms": [_round(spread[nm][0], 3), _round(spread[nm][1], 3)]} if nm in spread else {}
        if nm in graph.fused:
            meta["fused"] = graph.fused[nm]
        layers.append(Layer(nm, _round(device_ms[i]), _round(server_ms[i]), graph.output_bytes[i],
                            memory_bytes=graph.weight_bytes[i], flops=_round(flops[i], 6), op=graph.ops[i],
                            meta=meta or None))
    src = {"format": "onnx", "producer": f"{model.producer_name} {model.producer_version}".strip(),
           "opset": max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=None)}
    if file:
        src["file"] = Path(file).name
        src["sha256"] = hashlib.sha256(Path(file).read_bytes()).hexdigest()
    src.update(source_info or {})
    metadata: dict[str, Any] = {
        "source": src,
        "units": {"device_ms": "ms", "server_ms": "ms", "output_bytes": "bytes", "flops": "FLOP",
                  "memory_bytes": "bytes of weights", "network": "Mbps, ms"},
        "import": {"optimize": optimize, "input_shapes": graph.input_shapes, "layers": len(graph.names),
                   "constant_nodes": graph.constant_nodes, "dead_nodes": graph.dead_nodes,
                   "unknown_ops": dict(graph.unknown_ops)},
        "device_costs": device_info,
        "server_costs": server.provenance(),
    }
    problem = PartitionProblem(layers, graph.edges, Network(uplink_mbps, None, rtt_ms), metadata=metadata,
                               name=name or (Path(file).stem if file else model.graph.name or None))
    if device is None:
        latency["sum_of_layers_ms"] = _round(float(problem.device_ms.sum()))
        if prefixes:
            with realtime_priority(realtime):
                latency["prefixes"] = _prefixes(problem, prepared, graph, prefixes, threads, progress)
        problem = problem.replace(metadata={**problem.metadata, "latency": latency})
    return problem


def _measure(prepared, graph: OnnxGraph, runs, warmup, threads, progress, level="none"):
    from .profiling import cpu_name, make_feeds, profile_nodes, require_ort, time_model

    ort = require_ort()
    feeds = make_feeds(graph.input_shapes, graph.input_dtypes)
    data = prepared.SerializeToString()
    times = profile_nodes(data, feeds, runs=runs, warmup=warmup, threads=threads, progress=progress, level=level)
    device_ms = np.array([float(np.median(times[nm])) if nm in times else 0.0 for nm in graph.names])
    spread = {nm: (float(np.percentile(times[nm], 25)), float(np.percentile(times[nm], 75)))
              for nm in graph.names if nm in times}
    latency = {}
    for whole in ("none", "all"):
        t = time_model(data, feeds, runs=runs, warmup=warmup, threads=threads, level=whole, progress=progress,
                       label=f"timing whole model ({whole} optimization)")
        latency[f"whole_model_ms_{whole}_opt"] = _round(float(np.median(t)))
        latency[f"whole_model_iqr_ms_{whole}_opt"] = [_round(float(np.percentile(t, 25))),
                                                      _round(float(np.percentile(t, 75)))]
    not_timed = [nm for nm, w in zip(graph.names, graph.work) if w and nm not in times]
    info = {"model": "measured", "runtime": f"onnxruntime {ort.__version__} CPUExecutionProvider",
            "cpu": cpu_name(), "threads": threads, "runs": runs, "warmup": warmup, "statistic": "median",
            "spread": "per-layer interquartile range in layers[].meta.iqr_ms",
            "per_layer_optimization": ("extended (fused groups timed as one kernel)" if level == "extended"
                                       else "none (graph as imported)"),
            "layers_not_executed": len(not_timed),
            "clocks": "layers: onnxruntime profiler kernel times (wall); whole model and prefixes: "
                      + ("CPU time of the inference thread" if threads == 1 else "wall time")}
    return device_ms, spread, latency, info


def _prefixes(problem: PartitionProblem, prepared, graph: OnnxGraph, count: int, threads, progress) -> list:
    from .profiling import make_feeds, prefix_latencies

    index = {nm: i for i, nm in enumerate(graph.names)}
    cuts = [c for c in problem.cut_vertices if graph.work[index[c]]]
    if len(cuts) > count:
        picks = np.unique(np.linspace(0, len(cuts) - 1, count).round().astype(int))
        cuts = [cuts[k] for k in picks]
    feeds = make_feeds(graph.input_shapes, graph.input_dtypes)
    measured = prefix_latencies(prepared, [graph.tensors[index[c]] for c in cuts], feeds, threads=threads,
                                progress=progress)
    rows = []
    for c, m in zip(cuts, measured):
        closure = problem.topology.closure_of([problem.index[c]])
        rows.append({"cut": c, "layers": int(closure.sum()),
                     "additive_ms": _round(float(problem.device_ms[closure].sum())),
                     "measured_ms_none_opt": _round(m["none"]), "measured_ms_all_opt": _round(m["all"])})
    return rows
