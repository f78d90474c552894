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

__all__ = ["measure_split", "measure_segments", "segment_latency", "segment_interval", "segment_mask", "server_ratio",
           "device_origin", "TERMS"]


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
    """``sum(server_ms) / sum(device_ms)`` over the layers off the device (None if none are).

    When those layers' device costs add up to 0 ms (a calibrated block of a
    tiny model can cost nothing), the ratio over all layers is used; None
    if that is 0 ms too.
    """
    on_server = ~np.asarray(mask, dtype=bool)
    if not on_server.any():
        return None
    for layers in (on_server, np.ones_like(on_server)):
        device = float(problem.device_ms[layers].sum())
        if device > 0:
            return float(problem.server_ms[layers].sum()) / device
    return None


#: Most windows ``split --measure`` times while the machine runs slower than at the calibration.
MAX_WINDOWS = 4


def _timed_parts(parts, feeds, runs, warmup, threads, reference_ms: float | None = None):
    """Timings of ``parts`` (models) in windows of interleaved rounds, with the speed probe.

    The protocol of the import's calibration (:func:`.profiling.time_interleaved`,
    all optimizations, at least :data:`.profiling.MIN_SECONDS` per window, each
    timed run after an untimed run of the same model), so that the measured
    estimate (:data:`.profiling.STATISTIC`) is the calibrated one's kind. Each
    window also times the speed probe (:func:`.profiling.probe_model`). At
    least two windows are timed, and more (at most :data:`MAX_WINDOWS`) while
    the fastest probe run of every window so far is slower than
    ``reference_ms`` (the calibration's) beyond :data:`.profiling.RECHECK_RTOL`:
    the machine is in a slow spell. The window kept is the first whose probe
    estimate and whose parts' total estimate are both within ``RECHECK_RTOL``
    of the fastest window's (the calibration's rule: one window's runs, the
    first unless it was slow).

    Returns
    -------
    timed : list of tuple
        ``(median, q1, q3, estimate)`` ms of each part in the window kept.
    record : dict
        ``windows`` (timed), ``window`` (index kept), ``probe_ms`` (probe
        estimate of the window kept) and ``probe_ms_by_window``.
    """
    from .blocks import median_iqr
    from .profiling import MIN_SECONDS, estimate, probe_model, record_probe_ms, slow_window, time_interleaved

    probe, probe_feeds = probe_model()
    models = [m.SerializeToString() for m in parts] + [probe]
    all_feeds = list(feeds) + [probe_feeds]
    windows: list[list[np.ndarray]] = []
    while len(windows) < MAX_WINDOWS:
        windows.append(time_interleaved(models, all_feeds, runs=runs, warmup=warmup, threads=threads, level="all",
                                        min_seconds=MIN_SECONDS, warm_each=True))
        fastest_probe = min(estimate(w[-1]) for w in windows)
        if len(windows) >= 2 and (reference_ms is None or not slow_window(fastest_probe, reference_ms)):
            break
    probes = [estimate(w[-1]) for w in windows]
    record_probe_ms(min(probes))
    totals = [sum(estimate(t) for t in w[:-1]) for w in windows]
    normal = [k for k in range(len(windows))
              if not slow_window(probes[k], min(probes)) and not slow_window(totals[k], min(totals))]
    kept = normal[0] if normal else int(np.argmin(totals))
    record = {"windows": len(windows), "window": kept, "probe_ms": probes[kept],
              "probe_ms_by_window": probes}
    return [(*median_iqr(t), estimate(t)) for t in windows[kept][:-1]], record


def _part_feeds(model, values: Mapping[str, np.ndarray]) -> dict:
    from .onnx_model import graph_inputs

    return {i.name: values[i.name] for i in graph_inputs(model)}


def device_origin(problem) -> str | None:
    """Why ``problem``'s device costs cannot be compared with timings on this machine (None: they can).

    They can when the import measured them on this CPU (``metadata.device_costs``
    with ``model`` "measured" and this machine's ``cpu``); a roofline or
    measured-profile file, or another CPU, describes another device.
    """
    from .profiling import cpu_name

    info = problem.metadata.get("device_costs") or {}
    here = cpu_name()
    if info.get("model") == "measured" and "cpu" in info:
        if info["cpu"] == here:
            return None
        return f"the instance's device costs were measured on {info['cpu']!r}, this machine is {here!r}"
    if info.get("profile"):
        return (f"the instance's device costs come from the {info['profile']!r} profile ({info.get('model', '?')}), "
                f"not from this machine ({here!r})")
    return f"the instance does not record device costs measured on this machine ({here!r}) (metadata.device_costs)"


#: How each term of ``measure_split(...)["measured"]`` is obtained.
TERMS = {"device_ms": "measured: the device part run here",
         "server_ms": "modelled: the server part run here x the speed ratio server profile / this CPU",
         "uplink_ms": "modelled: sent bytes / uplink_mbps", "downlink_ms": "modelled: result bytes / downlink",
         "rtt_ms": "modelled: the instance's rtt_ms"}


def measure_split(problem, assignment, split, feeds, *, runs: int = 10, warmup: int = 2,
                  threads: int = 1) -> dict[str, Any]:
    """Measured latency of a split beside its prediction.

    Parameters
    ----------
    problem : PartitionProblem
        The imported instance, with device costs measured on this machine
        (its network gives the transfer times).
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
        ``device_ms``, ``device_iqr_ms`` and ``device_estimate_ms`` (device
        part on this CPU: median, [q1, q3] and the point estimate
        :data:`.profiling.STATISTIC` of at least ``runs`` runs),
        ``server_ms_here``, ``server_iqr_ms_here`` and
        ``server_estimate_ms_here`` (server part on this CPU; both parts are
        timed in interleaved rounds), ``server_ratio`` and ``server_ms``
        (the scaled estimate), ``uplink_bytes`` and ``uplink_ms``,
        ``downlink_ms``, ``rtt_ms``, ``total_ms`` (the estimates added to
        the modelled terms), ``total_median_ms`` and ``total_iqr_ms`` (the
        medians and quartiles of the timed parts added to the modelled
        terms), ``statistic``; ``windows`` (windows timed), ``window``
        (the one kept), ``probe_ms`` (the speed probe's estimate in it),
        ``probe_ms_by_window`` and ``probe_reference_ms`` (the
        calibration's, None for an instance without one) and
        ``machine_probe_ms`` (the fastest probe recorded on this machine,
        :func:`.profiling.machine_probe_ms`): see :func:`_timed_parts`;
        ``terms`` says which term is measured and
        which modelled; ``error_pct`` = (measured - predicted) / predicted
        of the totals (``total_ms``). Cost: two to :data:`MAX_WINDOWS`
        windows of ``2 runs + warmup`` runs of each part and the probe (more
        rounds for fast parts, at least :data:`.profiling.MIN_SECONDS` each).

    Raises
    ------
    InstanceError
        When the instance's device costs do not describe this machine
        (:func:`device_origin`): the comparison would be between two machines.
    """
    from ...errors import InstanceError

    reason = device_origin(problem)
    if reason is not None:
        raise InstanceError(f"cannot compare measured with predicted latency: {reason}, and the device part "
                            "would be timed here. Import the model on this machine with measured device costs "
                            "(no --device-profile) to compare, or split without --measure",
                            field="metadata.device_costs")
    from .profiling import STATISTIC, machine_probe_ms

    mask = problem.device_mask(assignment)
    predicted = problem.breakdown(mask)
    parts, part_feeds = [split.device], [_part_feeds(split.device, feeds)]
    ratio = None
    if split.server is not None:
        from .profiling import _session

        session = _session(split.device.SerializeToString(), level="all")
        values = dict(zip([o.name for o in session.get_outputs()], session.run(None, part_feeds[0])))
        parts.append(split.server)
        part_feeds.append(_part_feeds(split.server, values))
        ratio = server_ratio(problem, mask)
    reference = ((problem.metadata.get("device_costs") or {}).get("calibration") or {}).get("probe_ms")
    timed, window_record = _timed_parts(parts, part_feeds, runs, warmup, threads, reference)
    device, here = timed[0], (timed[1] if len(timed) > 1 else (0.0, 0.0, 0.0, 0.0))
    scale = ratio if ratio is not None else 1.0
    modelled = predicted["uplink_ms"] + predicted["downlink_ms"] + predicted["rtt_ms"]
    measured = {"device_ms": device[0], "device_iqr_ms": [device[1], device[2]], "device_estimate_ms": device[3],
                "server_ms_here": here[0], "server_iqr_ms_here": [here[1], here[2]],
                "server_estimate_ms_here": here[3], "server_ratio": ratio, "server_ms": here[3] * scale,
                "uplink_bytes": predicted["uplink_bytes"], "uplink_ms": predicted["uplink_ms"],
                "downlink_ms": predicted["downlink_ms"], "rtt_ms": predicted["rtt_ms"], "runs": runs,
                **window_record, "probe_reference_ms": reference, "machine_probe_ms": machine_probe_ms(),
                "statistic": f"{STATISTIC}: total_ms adds the timed parts' fastest runs (device_estimate_ms, "
                             "server_estimate_ms_here) to the modelled terms, as the calibration's estimate; "
                             "total_median_ms adds their medians"}
    measured["total_ms"] = math.fsum([device[3], here[3] * scale, modelled])
    measured["total_median_ms"] = math.fsum([device[0], here[0] * scale, modelled])
    measured["total_iqr_ms"] = [math.fsum([device[q], here[q] * scale, modelled]) for q in (1, 2)]
    error = 100.0 * (measured["total_ms"] - predicted["total_ms"]) / predicted["total_ms"]
    return {"predicted": predicted, "measured": measured, "error_pct": error, "terms": dict(TERMS),
            "timed_on": _here(),
            "server_scaling": "server part timed on this CPU x sum(server_ms)/sum(device_ms) over the server's "
                              "layers (the server profile against this CPU's per-layer costs)"}


def _here() -> str:
    from .profiling import cpu_name

    return cpu_name()


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
        ``device_ms`` and ``server_ms_here`` (medians), ``device_iqr_ms`` and
        ``server_iqr_ms_here`` ([q1, q3]), ``server_ratio``.
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
                     "device_ms": round(measured["device_ms"], 4),
                     "device_iqr_ms": [round(q, 4) for q in measured["device_iqr_ms"]],
                     "server_ms_here": round(measured["server_ms_here"], 4),
                     "server_iqr_ms_here": [round(q, 4) for q in measured["server_iqr_ms_here"]],
                     "server_ratio": None if measured["server_ratio"] is None else round(measured["server_ratio"], 6)})
        if progress:
            progress(k + 1, len(candidates), f"timing {len(candidates)} candidate splits (device and server parts)")
    return rows


def _np_dtype(value_info):
    from onnx import helper

    return helper.tensor_dtype_to_np_dtype(value_info.type.tensor_type.elem_type)


def segment_latency(row: Mapping[str, Any], network, statistic: str = "median") -> float:
    """Measured end-to-end ms of a :func:`measure_segments` row on ``network``.

    ``device_ms + uplink + rtt (if anything runs on the server) + server_ms_here
    * server_ratio + downlink``; with ``statistic`` "q1" or "q3" the timed
    parts' quartiles instead of their medians (rows without quartiles, from
    older instances, use the medians).
    """
    pick = {"median": None, "q1": 0, "q3": 1}[statistic]

    def part(key, iqr_key):
        iqr = row.get(iqr_key)
        return row[key] if pick is None or not iqr else iqr[pick]

    offloaded = row["server_ratio"] is not None
    total = part("device_ms", "device_iqr_ms") + transfer_ms(row["uplink_bytes"], network.uplink_mbps)
    if offloaded:
        total += part("server_ms_here", "server_iqr_ms_here") * row["server_ratio"] + network.rtt_ms
        total += transfer_ms(row["downlink_bytes"], network.effective_downlink_mbps)
    return float(total)


def segment_interval(row: Mapping[str, Any], network) -> tuple[float, float]:
    """``(q1, q3)`` of a row's measured end-to-end ms: the timed parts' quartiles plus the modelled terms."""
    return segment_latency(row, network, "q1"), segment_latency(row, network, "q3")
