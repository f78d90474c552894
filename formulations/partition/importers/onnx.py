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

import dataclasses
import hashlib
import math
import os
import warnings
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ...errors import InstanceError
from ...validate import naming_file
from ..problem import Layer, Network, PartitionProblem
from .onnx_graph import OnnxGraph, UnknownOperatorWarning, fuse_groups, onnx_graph
from .profiling import MeasurementQualityWarning, realtime_priority
from .onnx_model import parse_input_shape, prepare_model, prepare_model_with_notes, read_model

__all__ = ["read_model", "prepare_model", "onnx_graph", "import_onnx", "OnnxGraph", "parse_input_shape",
           "UnknownOperatorWarning", "MeasurementQualityWarning", "UnmeasuredNodeWarning"]


def _round(x: float, digits: int = 4) -> float:
    """Round to ``digits`` significant digits (keeps instance files small)."""
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(f"{x:.{digits}g}")


def import_onnx(source, *, input_shape=None, server_profile: str = "datacentre-gpu",
                device_profile: str | None = None, runs: int = 20, warmup: int = 3, threads: int = 1,
                optimize: str = "basic", uplink_mbps: float = 5.85, rtt_ms: float = 0.0,
                prefixes: int = 0, realtime: bool = False, name: str | None = None, progress=None,
                source_info: Mapping[str, Any] | None = None, input_bytes: int | None = None,
                input_dtype: str | None = None, fallback_profile: str = "phone-cpu",
                segments: bool | int = False, segment_candidates=None,
                device_costs: str = "calibrated", calibration_cuts: int | None = 32) -> PartitionProblem:
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
        Measure at real-time priority when permitted (:func:`.profiling.realtime_priority`);
        recorded in ``metadata["device_costs"]["realtime_priority"]``.
    progress : callable, optional
        ``progress(done, total, label)`` after every timed run.
    source_info : mapping, optional
        Extra provenance for ``metadata["source"]``.
    input_bytes : int, optional
        The bytes the source really sends for the (single) model input, e.g.
        a JPEG's size: becomes the input layer's ``output_bytes``.
    input_dtype : str, optional
        Model the input as sent in this dtype (e.g. ``"uint8"``: 1 byte per
        element instead of float32's 4); applies to every input.
    fallback_profile : str
        Roofline profile for the device cost of nodes onnxruntime cannot run
        (scaled to this CPU by the measured nodes when there are any); a
        warning names the nodes.
    segments : bool or int
        Also time the real device and server sub-models of the split at every
        cut vertex (an int > 0: at most that many, evenly spaced;
        :func:`formulations.partition.importers.segments.measure_segments`) into
        ``metadata["segments"]``, for choosing a split by measured latency.
    segment_candidates : callable, optional
        ``segment_candidates(problem) -> list of boolean masks``: further
        splits to measure with ``segments`` (``solvers.split.additive_candidates``
        gives the additive optimum of every bandwidth range).
    device_costs, calibration_cuts : {"calibrated", "additive"}, int or None
        ``"calibrated"`` (QDMP's method, :mod:`.blocks`) scales the measured per-layer medians so
        that the device part ending at each of ``calibration_cuts`` cut vertices (spaced by cost;
        None: all) costs its measured time as its own model; ``"additive"`` keeps them.

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

    _check_choice(device_costs, ("calibrated", "additive"), "device_costs")
    server = get_profile(server_profile)
    device = get_profile(device_profile, "device_profile") if device_profile is not None else None
    model = read_model(source)
    file = None if not isinstance(source, (str, os.PathLike)) else str(source)
    with naming_file(file):
        prepared, notes = prepare_model_with_notes(model, input_shape=input_shape, optimize=optimize)
        graph = onnx_graph(prepared)
        input_note = _input_bytes(graph, input_bytes, input_dtype)
    if optimize == "fuse" and notes["ort_error"] is None:
        graph = _fused(graph, prepared)
    work, flops, moved = np.asarray(graph.work), np.asarray(graph.flops), np.asarray(graph.bytes_moved)
    server_ms = server.layer_ms(graph.names, flops, moved, work)
    latency: dict[str, Any] = {}
    spread: dict[str, tuple[float, float]] = {}
    if device is None:
        level = "extended" if optimize == "fuse" else "none"
        with realtime_priority(realtime) as raised, naming_file(file):
            device_ms, spread, latency, device_info = _measure_or_model(prepared, graph, runs, warmup, threads,
                                                                        progress, level, notes, fallback_profile)
        device_info["realtime_priority"] = raised
    else:
        device_ms = device.layer_ms(graph.names, flops, moved, work)
        device_info = device.provenance()
    layers = [_layer(graph, i, device_ms[i], server_ms[i], flops[i], spread) for i in range(len(graph.names))]
    layers = _with_input_dtype(layers, graph, input_dtype)
    metadata = _metadata(model, file, source_info, graph, optimize, notes, input_note, device_info, server)
    problem = PartitionProblem(layers, graph.edges, Network(uplink_mbps, None, rtt_ms), metadata=metadata,
                               name=name or (Path(file).stem if file else model.graph.name or None))
    if device is None and device_info.get("model") == "measured":
        problem = _calibrated(problem, prepared, graph, spread, device_info, server_ms, flops, runs, warmup,
                              threads, realtime, progress, file, (device_costs, calibration_cuts))
        measured = _measured_metadata(problem, prepared, graph, latency, spread, file, prefixes=prefixes,
                                      segments=segments, segment_candidates=segment_candidates, runs=runs,
                                      warmup=warmup, threads=threads, realtime=realtime, progress=progress)
        problem = problem.replace(metadata={**problem.metadata, **measured})
    return problem


def _with_input_dtype(layers: list, graph: OnnxGraph, input_dtype: str | None) -> list:
    """``layers`` with the inputs' ``meta.dtype`` set to ``input_dtype`` (the dtype the source sends:
    compression configurations are relative to it, issue 22); unchanged without one."""
    if input_dtype is None:
        return layers
    dtype = str(np.dtype(input_dtype))
    return [dataclasses.replace(x, meta={**x.meta, "dtype": dtype}) if not w else x for x, w in zip(layers, graph.work)]


def _check_choice(value, allowed, field: str) -> None:
    if value not in allowed:
        raise InstanceError(f"must be one of {', '.join(map(repr, allowed))}, got {value!r}", field=field)


def _calibrated(problem, prepared, graph, spread, device_info, server_ms, flops, runs, warmup, threads, realtime,
                progress, file, mode) -> PartitionProblem:
    """``problem`` with device costs calibrated to measured device parts (:mod:`.blocks`); spreads scaled alike.

    ``mode`` is ``(device_costs, calibration_cuts)``; with "additive", ``problem`` unchanged (the
    calibration record says so).
    """
    from . import blocks
    from .profiling import make_feeds, realtime_priority

    mode, limit = mode
    if mode != "calibrated":
        device_info["calibration"] = {"method": "none (additive: per-layer medians as timed)"}
        return problem
    feeds = make_feeds(graph.input_shapes, graph.input_dtypes)
    try:
        with realtime_priority(realtime), naming_file(file):
            costs, info = blocks.calibrated_costs(problem, prepared, feeds, runs=runs, warmup=warmup,
                                                  threads=threads, progress=progress, limit=limit)
    except ImportError:
        raise
    except Exception as exc:  # noqa: BLE001 - onnxruntime's errors derive from Exception only
        from .onnx_model import _ort_message

        reason = _ort_message(exc) if not isinstance(exc, InstanceError) else str(exc)
        warnings.warn(f"device costs not calibrated (a device part could not be run as its own model: {reason}); "
                      "they are the additive per-layer medians", MeasurementQualityWarning, stacklevel=3)
        device_info["calibration"] = {"method": "none (calibration failed)", "reason": reason}
        return problem
    for i, nm in enumerate(graph.names):
        if nm in spread and problem.device_ms[i] > 0:
            factor = costs[i] / problem.device_ms[i]
            spread[nm] = (spread[nm][0] * factor, spread[nm][1] * factor)
    device_info["calibration"] = info
    device_info["spread"] = "per-layer interquartile range, scaled like the layer's median, in layers[].meta.iqr_ms"
    layers = [_layer(graph, i, costs[i], server_ms[i], flops[i], spread) for i in range(len(graph.names))]
    return problem.replace(layers=layers, metadata={**problem.metadata, "device_costs": device_info})


def _measured_metadata(problem, prepared, graph, latency, spread, file, *, prefixes, segments, segment_candidates,
                       runs, warmup, threads, realtime, progress) -> dict:
    """``latency`` (sum of layers, quality warnings, prefixes) and ``segments`` of a measured import."""
    from .profiling import realtime_priority

    latency["sum_of_layers_ms"] = _round(float(problem.device_ms.sum()))
    additive = problem.metadata.get("device_costs", {}).get("calibration", {}).get("sum_of_layers_additive_ms")
    if additive is not None:
        latency["sum_of_layers_additive_ms"] = additive
    _quality_warnings(latency, spread, problem.device_ms)
    if prefixes:
        with realtime_priority(realtime):
            latency["prefixes"] = _prefixes(problem, prepared, graph, prefixes, threads, progress)
    extra = {"latency": latency}
    if segments:
        with realtime_priority(realtime), naming_file(file):
            extra["segments"] = _segments(problem, prepared, graph, segments, segment_candidates,
                                          runs, warmup, threads, progress)
    return extra


def _fused(graph: OnnxGraph, prepared) -> OnnxGraph:
    """One layer per group onnxruntime's extended optimizations fuse (see :func:`fuse_groups`)."""
    from .onnx_model import require_onnx
    from .profiling import optimize_model

    extended = require_onnx().load_model_from_string(optimize_model(prepared.SerializeToString(), "extended"))
    return fuse_groups(graph, {n.name for n in extended.graph.node})


def _segments(problem, prepared, graph, segments, segment_candidates, runs, warmup, threads, progress) -> list:
    """``metadata["segments"]``: see :func:`formulations.partition.importers.segments.measure_segments`."""
    from .segments import measure_segments

    limit = None if segments is True or int(segments) <= 0 else int(segments)
    extra = segment_candidates(problem) if segment_candidates else ()
    return measure_segments(problem, prepared, graph, runs=runs, warmup=warmup, threads=threads, progress=progress,
                            limit=limit, extra=extra)


def _metadata(model, file, source_info, graph: OnnxGraph, optimize, notes, input_note, device_info, server) -> dict:
    """The instance's ``metadata``: provenance, units, import notes and both cost models."""
    src = {"format": "onnx", "producer": f"{model.producer_name} {model.producer_version}".strip(),
           "opset": max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=None)}
    if file:
        src["file"] = Path(file).name
        src["sha256"] = hashlib.sha256(Path(file).read_bytes()).hexdigest()
    src.update(source_info or {})
    return {
        "source": src,
        "units": {"device_ms": "ms", "server_ms": "ms", "output_bytes": "bytes", "flops": "FLOP",
                  "memory_bytes": "bytes of weights", "network": "Mbps, ms"},
        "import": {"optimize": optimize, "input_shapes": graph.input_shapes, "layers": len(graph.names),
                   "constant_nodes": graph.constant_nodes, "dead_nodes": graph.dead_nodes,
                   "unknown_ops": dict(graph.unknown_ops), "normalize": notes, **input_note},
        "device_costs": device_info,
        "server_costs": server.provenance(),
    }


class UnmeasuredNodeWarning(UserWarning):
    """onnxruntime could not run some nodes; their device cost is modelled."""


def _layer(graph: OnnxGraph, i: int, device_ms, server_ms, flops, spread) -> Layer:
    """Layer ``i`` with its ONNX provenance in ``meta``.

    ``meta.tensors`` are the ONNX tensors the layer outputs (for an input
    layer: the graph input), ``meta.onnx_nodes`` the ONNX node names it
    stands for (several for a fused group), so a split maps back to the graph.
    """
    nm = graph.names[i]
    meta: dict[str, Any] = {"tensors": list(graph.tensors[i])}
    if graph.work[i]:
        meta["onnx_nodes"] = list(graph.fused.get(nm, [nm]))
    else:
        meta["onnx_input"] = graph.tensors[i][0]
        dtype = np.dtype(graph.input_dtypes.get(graph.tensors[i][0], np.float32))
        if dtype != np.float32:  # compression is relative to this dtype (pipeline configs; float32 is the default)
            meta["dtype"] = str(dtype)
    if nm in spread:
        meta["iqr_ms"] = [_round(spread[nm][0], 3), _round(spread[nm][1], 3)]
    if nm in graph.fused:
        meta["fused"] = graph.fused[nm]
    return Layer(nm, _round(device_ms), _round(server_ms), graph.output_bytes[i], memory_bytes=graph.weight_bytes[i],
                 flops=_round(flops, 6), op=graph.ops[i], meta=meta)


def _input_bytes(graph: OnnxGraph, input_bytes: int | None, input_dtype: str | None) -> dict:
    """Set the input layers' ``output_bytes`` to what the source sends, in place.

    Returns the note for ``metadata["import"]`` (empty when nothing is set).

    Raises
    ------
    InstanceError
        For a non-positive ``input_bytes``, ``input_bytes`` with several
        inputs, or an unknown dtype.
    """
    inputs = [i for i, w in enumerate(graph.work) if not w]
    note: dict[str, Any] = {}
    if input_dtype is not None:
        try:
            size = np.dtype(input_dtype).itemsize
        except TypeError:
            raise InstanceError(f"unknown dtype {input_dtype!r} (e.g. uint8, float16, float32)",
                                field="input_dtype") from None
        for i in inputs:
            graph.output_bytes[i] = int(math.prod(graph.input_shapes[graph.tensors[i][0]])) * size
        note["input_dtype"] = str(np.dtype(input_dtype))
    if input_bytes is not None:
        if int(input_bytes) <= 0:
            raise InstanceError(f"must be a positive number of bytes, got {input_bytes}", field="input_bytes")
        if len(inputs) != 1:
            raise InstanceError(f"the model has {len(inputs)} inputs; --input-bytes needs exactly one",
                                field="input_bytes")
        graph.output_bytes[inputs[0]] = int(input_bytes)
        note["input_bytes"] = int(input_bytes)
    return note


def _measure_or_model(prepared, graph: OnnxGraph, runs, warmup, threads, progress, level, notes, fallback_profile):
    """Measured device costs; nodes onnxruntime cannot run get roofline costs.

    When onnxruntime cannot load or run the model, every layer's device cost
    comes from ``fallback_profile`` and an :class:`UnmeasuredNodeWarning`
    says why (onnxruntime's reason, naming the node). When it runs but some
    layers were not timed (e.g. a node without a kernel event), those get
    the roofline cost scaled by measured / roofline over the timed layers.
    """
    from .profiles import get_profile

    roofline = get_profile(fallback_profile, "fallback_profile")
    modelled = roofline.layer_ms(graph.names, np.asarray(graph.flops), np.asarray(graph.bytes_moved),
                                 np.asarray(graph.work))
    reason = notes.get("ort_error")
    if reason is None:
        try:
            device_ms, spread, latency, info = _measure(prepared, graph, runs, warmup, threads, progress, level)
        except (ImportError, InstanceError):
            raise
        except Exception as exc:  # noqa: BLE001 - onnxruntime's Fail, InvalidArgument... derive from Exception only
            from .onnx_model import _ort_message

            reason = _ort_message(exc)
        else:
            missing = [i for i, (nm, w) in enumerate(zip(graph.names, graph.work)) if w and nm not in spread]
            if missing and len(missing) < len(graph.names):
                timed = [i for i, (nm, w) in enumerate(zip(graph.names, graph.work)) if w and nm in spread]
                scale = (float(np.sum(device_ms[timed])) / max(float(np.sum(modelled[timed])), 1e-12)
                         if timed else 1.0)
                device_ms[missing] = modelled[missing] * scale
                info["modelled_layers"] = {"profile": fallback_profile, "scale": _round(scale),
                                           "layers": [graph.names[i] for i in missing]}
            return device_ms, spread, latency, info
    warnings.warn(f"onnxruntime cannot run this model ({reason}); device costs of all {sum(graph.work)} layers "
                  f"come from the {fallback_profile!r} roofline profile", UnmeasuredNodeWarning, stacklevel=3)
    info = {**roofline.provenance(), "model": "roofline (onnxruntime cannot run the model)", "reason": reason}
    return modelled, {}, {}, info


def _quality_warnings(latency: dict, spread: Mapping, device_ms: np.ndarray, limit: float = 0.3) -> list[str]:
    """Warn when the per-layer measurements are not trustworthy; returns the messages.

    Two checks: the sum of per-layer medians exceeds the whole model (all
    optimizations) by more than ``limit``; the interquartile ranges add up
    to more than ``limit`` of the sum of medians (a busy or throttled CPU).
    Differences under 0.5 ms are ignored (tiny models).
    """
    messages = []
    total = float(np.sum(device_ms))
    whole = latency.get("whole_model_ms_all_opt")
    if whole and total > (1 + limit) * whole and total - whole > 0.5:
        messages.append(f"the sum of per-layer medians ({total:.2f} ms) exceeds the whole model ({whole:.2f} ms) by "
                        f"{100 * (total / whole - 1):.0f}% (> {100 * limit:.0f}%): the runtime fuses layers, so "
                        "additive costs overestimate; consider --optimize fuse (fused profiling) or "
                        "--segments (measured splits), and --realtime on a busy machine")
    width = sum(hi - lo for lo, hi in spread.values())
    if total > 0 and width > limit * total and width > 0.5:
        messages.append(f"wide spread: per-layer interquartile ranges add up to {width:.2f} ms, "
                        f"{100 * width / total:.0f}% of the {total:.2f} ms sum of medians; the CPU was busy or "
                        "throttled: measure with --realtime or more --runs")
    for message in messages:
        warnings.warn(message, MeasurementQualityWarning, stacklevel=3)
    return messages


def _measure(prepared, graph: OnnxGraph, runs, warmup, threads, progress, level="none"):
    from .profiling import cpu_name, make_feeds, profile_nodes, require_ort, time_model

    ort = require_ort()
    feeds = make_feeds(graph.input_shapes, graph.input_dtypes)
    data = prepared.SerializeToString()
    times = profile_nodes(data, feeds, runs=runs, warmup=warmup, threads=threads, progress=progress, level=level,
                          label=f"runs profiling {sum(graph.work)} layers")
    device_ms = np.array([float(np.median(times[nm])) if nm in times else 0.0 for nm in graph.names])
    spread = {nm: (float(np.percentile(times[nm], 25)), float(np.percentile(times[nm], 75)))
              for nm in graph.names if nm in times}
    latency = {}
    for whole in ("none", "all"):
        t = time_model(data, feeds, runs=runs, warmup=warmup, threads=threads, level=whole, progress=progress,
                       label=f"timing whole model ({whole} optimization)")
        latency[f"whole_model_ms_{whole}_opt"] = _round(float(np.median(t)))
        latency[f"whole_model_iqr_ms_{whole}_opt"] = [_round(float(np.percentile(t, 25))),  # type: ignore[assignment]
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
                     "measured_ms_none_opt": _round(m["none"]), "measured_ms_all_opt": _round(m["all"]),
                     "measured_iqr_ms_none_opt": [_round(q) for q in m["none_iqr"]],
                     "measured_iqr_ms_all_opt": [_round(q) for q in m["all_iqr"]]})
    return rows
