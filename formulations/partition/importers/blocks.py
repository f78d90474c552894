"""QDMP's measurement method: time the blocks between adjacent cut vertices.

A series of layers does not run in the sum of its layers' separately
measured times (the runtime fuses operators, changes layouts, plans
memory). QDMP's remedy, built in as the default device profile of a
measured import (``profile="blocks"``):

1. :func:`block_masks`: the layers between adjacent cut vertices ``c_{k-1}``
   and ``c_k`` (``closure(c_k) - closure(c_{k-1})``; a last block after the
   last cut vertex when it is not the only output);
2. :func:`time_blocks`: each block runs as its own ONNX model (its inputs
   are the tensors it reads from earlier blocks, its outputs those later
   blocks or the graph's outputs read) with all of onnxruntime's graph
   optimizations, ``runs`` times after ``warmup``; the per-run cost of a
   session call (timed on an empty Identity model) is subtracted from every
   block and charged once, to the input layers, since a deployed part pays
   it once;
3. :func:`calibrate`: the per-layer medians inside each block are scaled so
   that they add up to the block's measured median. A split at a cut vertex
   therefore sees the sum of the measured blocks before it, and a split
   inside a block keeps the per-layer profile's proportions.

The choice and its measured error against whole parts run as one model are
in ``docs/import.md`` ("Accurate by default"). Needs the ``onnx`` extra.
"""

from __future__ import annotations

import warnings
from typing import Any, Mapping, Sequence

import numpy as np

from .profiling import RECHECK_RTOL, slow_window  # noqa: F401  (the re-check rule, also used here; kept importable from blocks)

__all__ = ["block_masks", "pareto_cuts", "time_prefixes", "monotone_fit", "calibrate", "median_iqr"]


def median_iqr(samples) -> tuple[float, float, float]:
    """``(median, q1, q3)`` of timing samples in ms."""
    a = np.asarray(samples, dtype=float)
    return float(np.median(a)), float(np.percentile(a, 25)), float(np.percentile(a, 75))


def pareto_cuts(problem, closures: Sequence[np.ndarray], cost: np.ndarray) -> set[int]:
    """Indices of the cut vertices no other cut vertex beats in both prefix cost and sent bytes.

    The split at cut vertex ``c`` costs the device its closure (``cost``, the
    per-layer medians) and sends ``c``'s crossing tensors: a solver choosing
    among cut-vertex splits at any bandwidth picks one of these (up to the
    server's share), e.g. the tail cut before a classifier that sends a few
    KB. O(#cut vertices x (layers + edges)).
    """
    sent = np.array([float(problem.breakdown(m)["uplink_bytes"]) for m in closures])
    keep: set[int] = set()
    best = np.inf
    for j in np.lexsort((sent, cost)):  # by cost, then bytes: keep every new low in bytes
        if sent[j] < best:
            keep.add(int(j))
            best = sent[j]
    return keep


def block_masks(problem, limit: int | None = None) -> list[tuple[str | None, np.ndarray]]:
    """``(cut vertex, layer mask)`` per block, in topological order.

    Block ``k`` holds the layers in the closure of cut vertex ``c_k`` but not
    in that of ``c_{k-1}``; when the last cut vertex's closure is not every
    layer (several outputs, or outputs after the last cut vertex), a last
    block with cut ``None`` holds the rest. The blocks partition the layers.

    With ``limit``, at most about ``limit`` cut vertices bound blocks: the
    first and the last, the cut vertices on the cost-bytes Pareto front
    (:func:`pareto_cuts`: the splits a solver can choose, so that they are
    timed rather than interpolated inside a block; evenly spaced along the
    front when more than ``limit - 2``), and with the rest of the budget, ``s = limit - (those)``, the first cut
    vertex at or past every ``k / (s + 1)`` fraction of the total device cost
    (``problem.device_ms``), so blocks have comparable cost.
    O(#cut vertices x (layers + edges)).
    """
    cuts = problem.cut_vertices
    closures = [problem.topology.closure_of([problem.index[c]]) for c in cuts]
    if limit is not None and 2 <= limit < len(cuts):
        cost = np.array([float(problem.device_ms[m].sum()) for m in closures])
        total = float(problem.device_ms.sum()) or 1.0
        front = sorted(pareto_cuts(problem, closures, cost) - {0, len(cuts) - 1})
        if len(front) > limit - 2:  # more than the budget: evenly spaced along the front
            front = [front[j] for j in np.unique(np.linspace(0, len(front) - 1, limit - 2).round().astype(int))]
        keep = {0, len(cuts) - 1, *front}
        spaced = max(limit - len(keep), 0)
        for k in range(1, spaced + 1):
            keep.add(min(int(np.searchsorted(cost, k * total / (spaced + 1))), len(cuts) - 1))
        cuts = [cuts[j] for j in sorted(keep)]
        closures = [closures[j] for j in sorted(keep)]
    done = np.zeros(problem.n_layers, dtype=bool)
    out = []
    for cut, closure in zip(cuts, closures):
        out.append((cut, closure & ~done))
        done = done | closure
    if not done.all():
        out.append((None, ~done))
    return out


def _prefix_model(model, table, device_side: set[str], inputs: Sequence[str], readers: Mapping[str, set],
                  graph_outputs, name: str):
    """The device part of the split computing ``device_side``: the graph inputs -> the tensors it hands on."""
    from .onnx_split import _sub_model, _walk_back

    outputs = [t for t in table if t in device_side and t not in inputs
               and (t in graph_outputs or readers.get(t, set()) - device_side)]
    if not outputs:  # only the inputs on the device: the part passes them on
        outputs = [t for t in inputs if t in graph_outputs or readers.get(t)]
    nodes, _ = _walk_back(model, outputs, set(inputs))
    return _sub_model(model, nodes, list(inputs), outputs, table, name)


def time_prefixes(problem, model, blocks: Sequence[tuple[str | None, np.ndarray]], feeds: Mapping[str, np.ndarray],
                  *, runs: int = 20, warmup: int = 3, threads: int = 1, progress=None) -> list[dict[str, Any]]:
    """Timings (ms) of the device part ending at every block (all optimizations), interleaved.

    Parameters
    ----------
    problem : PartitionProblem
        Layers carry ``meta.tensors`` (an ONNX import).
    model : onnx.ModelProto
        The prepared model the instance was imported from (static shapes).
    blocks : sequence
        From :func:`block_masks`.
    feeds : mapping
        Graph inputs by name.

    Returns
    -------
    list of dict
        Per block: ``cut``, ``layers`` (count in the block), ``prefix_layers``,
        and the prefix's ``median_ms``, ``q1_ms``, ``q3_ms``, ``estimate_ms``
        (:data:`~.profiling.STATISTIC`), ``runs``, ``windows`` (2 when the
        first window was slow, see :data:`RECHECK_RTOL`) and ``probe_ms``
        (the speed probe's estimate, :func:`~.profiling.probe_model`, timed
        with the whole model in the re-check window; the re-check is repeated,
        ``checks`` times in all, at most ``1 + MAX_RECHECKS``, while the probe
        runs slower than the fastest probe recorded on this machine,
        ``machine_probe_ms``, beyond ``RECHECK_RTOL``: the machine is in a
        slow spell; a warning when it never recovers): the model from the
        graph inputs to the end of the block, run as its own model, as a
        deployed device part runs. The prefixes are timed in interleaved
        rounds (:func:`~.profiling.time_interleaved`, spanning at least
        :data:`~.profiling.MIN_SECONDS`), so load on a shared machine
        slows them alike and the differences between them (the blocks'
        costs) stay meaningful. Cost: ``runs + warmup`` runs of every prefix
        (more rounds for fast models), about ``(runs + warmup) x #blocks / 2``
        whole-model runs.
    """
    from .onnx_split import node_inputs, value_infos
    from .profiling import (MAX_RECHECKS, MIN_SECONDS, MeasurementQualityWarning, estimate, machine_probe_ms,
                            probe_model, record_probe_ms, time_interleaved)

    table = value_infos(model)
    readers: dict[str, set] = {}
    for node in model.graph.node:
        for t in node_inputs(node):
            readers.setdefault(t, set()).update(o for o in node.output if o)
    graph_outputs = {o.name for o in model.graph.output}
    inputs = list(feeds)
    done = np.zeros(problem.n_layers, dtype=bool)
    subs, counts = [], []
    for k, (cut, mask) in enumerate(blocks):
        done = done | mask
        device_side = {t for i in np.flatnonzero(done) for t in (problem.layers[i].meta or {}).get("tensors", [])}
        subs.append(_prefix_model(model, table, device_side | set(inputs), inputs, readers, graph_outputs,
                                  f"prefix{k}").SerializeToString())
        counts.append((cut, int(mask.sum()), int(done.sum())))
    def timed(models, label, warm_each=False, extra_feeds=()):
        return time_interleaved(models, [feeds] * (len(models) - len(extra_feeds)) + list(extra_feeds), runs=runs,
                                warmup=warmup, threads=threads, level="all", min_seconds=MIN_SECONDS,
                                progress=progress, label=label, warm_each=warm_each)

    samples = timed(subs, f"rounds timing {len(blocks)} device parts ending at cut vertices")
    windows = 1
    probe, probe_feeds = probe_model()
    machine = machine_probe_ms()
    checks = 0
    while True:
        check, probe_runs = timed(subs[-1:] + [probe], "re-timing the whole model in a second window (and the "
                                  "speed probe)", warm_each=True, extra_feeds=[probe_feeds])
        checks += 1
        probe_ms = estimate(probe_runs)
        machine_slow = machine is not None and slow_window(probe_ms, machine)
        if not machine_slow or checks > MAX_RECHECKS:
            break
    if machine is not None and machine_slow:
        warnings.warn(f"the machine ran {100 * (probe_ms / machine - 1):.0f}% slower than its fastest "
                      f"recorded speed probe during the calibration ({checks} re-check windows): the calibrated "
                      "costs may be too high; import again on a quieter machine", MeasurementQualityWarning,
                      stacklevel=2)
    record_probe_ms(probe_ms)
    if slow_window(estimate(samples[-1]), estimate(check)):
        more = timed(subs, f"rounds timing {len(blocks)} device parts again (the first window was slow)")
        samples = [np.concatenate([a, b]) for a, b in zip(samples, more)]
        windows = 2
    rows = []
    for (cut, layers, prefix_layers), times in zip(counts, samples):
        med, q1, q3 = median_iqr(times)
        rows.append({"cut": cut, "layers": layers, "prefix_layers": prefix_layers, "median_ms": med,
                     "q1_ms": q1, "q3_ms": q3, "estimate_ms": estimate(times), "runs": len(times),
                     "windows": windows, "probe_ms": probe_ms, "checks": checks,
                     "machine_probe_ms": machine})
    return rows


def monotone_fit(values: Sequence[float]) -> np.ndarray:
    """The least-squares non-decreasing fit of ``values`` (pool adjacent violators), O(n).

    A longer prefix can time faster than a shorter one (the runtime fuses
    across the boundary, or noise); the fit makes every block's cost >= 0.
    """
    level: list[float] = []
    count: list[int] = []
    for v in values:
        level.append(float(v))
        count.append(1)
        while len(level) > 1 and level[-2] > level[-1]:
            n = count[-2] + count[-1]
            level[-2] = (level[-2] * count[-2] + level[-1] * count[-1]) / n
            count[-2] = n
            level.pop()
            count.pop()
    return np.repeat(level, count)


def calibrate(device_ms: np.ndarray, work: Sequence[bool] | np.ndarray, blocks: Sequence[tuple[str | None, np.ndarray]],
              prefix_ms: Sequence[float]) -> tuple[np.ndarray, list[float], list[float | None]]:
    """Per-layer costs scaled so that every prefix adds up to its measured time.

    ``prefix_ms`` are the point estimates of :func:`time_prefixes`; they are made
    non-decreasing (:func:`monotone_fit`), and block ``k``'s cost is
    ``fit_k - fit_{k-1}``: its working layers' per-layer medians are
    multiplied by ``cost / sum`` (spread evenly when their sum is 0; a block
    of input layers only shares it evenly). So the device part of the split
    at a cut vertex costs exactly the fitted prefix, and a split inside a
    block keeps the per-layer profile's proportions there.

    Returns the new costs, each block's cost (ms) and each block's scale
    (None when its per-layer sum is 0). O(layers x blocks).
    """
    out = np.asarray(device_ms, dtype=float).copy()
    is_work = np.asarray(work, dtype=bool)
    fit = monotone_fit(prefix_ms)
    costs = np.diff(np.concatenate([[0.0], fit])).clip(min=0.0)
    scales: list[float | None] = []
    for (_, mask), cost in zip(blocks, costs):
        layers = mask & is_work if (mask & is_work).any() else mask
        out[mask & ~layers] = 0.0
        total = float(out[layers].sum())
        scale = float(cost) / total if total > 0 else None
        out[layers] = out[layers] * scale if scale is not None else float(cost) / max(int(layers.sum()), 1)
        scales.append(scale)
    return out, [float(c) for c in costs], scales


def calibrated_costs(problem, prepared, feeds: Mapping[str, np.ndarray], *, runs: int = 20, warmup: int = 3,
                     threads: int = 1, progress=None, limit: int | None = 32) -> tuple[np.ndarray, dict[str, Any]]:
    """The device costs of a measured import, calibrated to its measured device parts.

    Times the device part ending at every cut vertex (at most ``limit`` of
    them, spaced by cost: :func:`block_masks`; None: all) with
    :func:`time_prefixes` and scales the per-layer medians
    (``problem.device_ms``) block by block (:func:`calibrate`). Returns the new costs and the record for
    ``metadata["device_costs"]["calibration"]``: per block its cut vertex,
    layer count, the prefix's median and interquartile range (ms), the
    block's cost and scale.
    """
    from .profiling import STATISTIC

    blocks = block_masks(problem, limit)
    timed = time_prefixes(problem, prepared, blocks, feeds, runs=runs, warmup=warmup, threads=threads,
                          progress=progress)
    work = np.array([bool(layer.op != "Input") for layer in problem.layers])
    costs, block_ms, scales = calibrate(problem.device_ms, work, blocks, [r["estimate_ms"] for r in timed])
    rows = [{"cut": r["cut"], "layers": r["layers"], "prefix_ms": _r(r["median_ms"]),
             "prefix_iqr_ms": [_r(r["q1_ms"]), _r(r["q3_ms"])], "prefix_estimate_ms": _r(r["estimate_ms"]),
             "runs": r["runs"], "windows": r["windows"], "block_ms": _r(cost),
             "scale": None if scale is None else _r(scale)}
            for r, cost, scale in zip(timed, block_ms, scales)]
    info = {"method": "prefixes",
            "description": "per-layer medians scaled block by block so that the layers up to every cut vertex add "
                           "up to that device part's measured point estimate (prefix_estimate_ms, the statistic "
                           "below), run as its own model with all onnxruntime optimizations, the device parts timed "
                           "in interleaved rounds (estimates made non-decreasing first); --device-costs additive "
                           "keeps the per-layer medians",
            "statistic": f"{STATISTIC}: the fastest of the interleaved runs (prefix_ms is their median, "
                         "prefix_iqr_ms their quartiles)",
            "cut_vertices": len(problem.cut_vertices), "timed_cut_vertices": len([r for r in rows if r["cut"]]),
            "sum_of_layers_additive_ms": _r(float(np.sum(problem.device_ms))),
            "probe_ms": _r(timed[0]["probe_ms"]) if timed else None,
            "machine_probe_ms": timed[0]["machine_probe_ms"] if timed else None,
            "checks": timed[0]["checks"] if timed else None,
            "probe": "fastest run of the speed probe (formulations.partition.importers.profiling.probe_model) in the "
                     "re-check window; split --measure re-times while the probe runs slower than this",
            "blocks": rows}
    return costs, info


def _r(x: float) -> float:
    return float(f"{x:.4g}") if x else float(x)
