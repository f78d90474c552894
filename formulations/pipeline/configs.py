"""Task configurations generated from partition instances.

A configuration of a co-inference task is a split of its DNN (layers before
the split on the device, the rest on the server), a compression of the sent
tensor, and optionally an early exit on the device. Its stage times are::

    device = device compute (ms)
    uplink = rtt_ms + transfer of the sent bytes * size_factor  (0 if nothing is sent)
    server = server compute + download of outputs computed there (ms)

taken from :meth:`PartitionProblem.breakdown`. Split points are the
cut-vertex splits (Neurosurgeon/QDMP candidates: one tensor sent), or the
distinct optimal partitions over a bandwidth range
(:func:`solvers.bandwidth_map`); with ``stream_solve`` also the
throughput-optimal split of a stream of frames (``"objective":
"throughput"``, or every point of the latency-throughput front). Compression follows a table ``bits ->
(size_factor, accuracy_loss)`` (JALAD-style quantization of the sent
feature map); the table is data (:data:`COMPRESSION_TABLE`) and its source
travels into the generated instance's metadata.

Compression is relative to each sent tensor's **own dtype**: a level of
``b = 32 * size_factor`` bits per value shrinks a tensor of ``d`` bits per
value (:func:`value_bits`: a layer's ``meta["dtype"]``, else float32) by
``min(1, b / d)``. A uint8 tensor has no 8-bit saving (the ``"8"`` level is
then dropped as a copy of the uncompressed one) and 4 bits halve it; no
level may go below 1 bit per value (``size_factor >= 1/32``), so no
configuration sends less than 1 bit per value.

With an exit at a device layer taken with probability ``q`` (the fraction
of inputs confident enough to stop there), the stage times are expected
values: device time up to the exit, plus ``(1 - q)`` times the rest; uplink
and server times times ``(1 - q)``; accuracy ``q * exit_accuracy + (1 - q)
* accuracy``.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..errors import InstanceError
from .problem import Config, PipelineProblem, Task
from ..validate import as_nonneg, as_positive, as_probability

__all__ = ["COMPRESSION_TABLE", "split_masks", "throughput_masks", "task_configs", "stream_problem", "value_bits"]

#: bits per element -> size factor (vs float32) and accuracy loss (absolute).
COMPRESSION_TABLE: dict[str, Any] = {
    "levels": {
        "32": {"size_factor": 1.0, "accuracy_loss": 0.0},
        "8": {"size_factor": 0.25, "accuracy_loss": 0.005},
        "4": {"size_factor": 0.125, "accuracy_loss": 0.02},
    },
    "source": (
        "size_factor = bits / 32 (float32 baseline, exact). accuracy_loss: illustrative assumptions in "
        "the spirit of JALAD (H. Li et al., 'JALAD: Joint Accuracy- and Latency-Aware Deep Structure "
        "Decoupling for Edge-Cloud Execution', ICPADS 2018), which quantizes the transferred feature map "
        "and reports small accuracy losses at 8 bits and larger ones below; these numbers are not "
        "measured by coinfer and not taken from the paper's tables"
    ),
}


#: Bits per value of a tensor whose dtype nothing records (coinfer's float32 default).
DEFAULT_VALUE_BITS = 32


def value_bits(problem) -> np.ndarray:
    """Bits per value of each layer's output tensor, in layer order. O(n).

    A layer's ``meta["dtype"]`` (the ONNX importer records it for graph
    inputs, e.g. ``"uint8"`` for an image, or ``--input-dtype``) gives
    ``8 * itemsize``; every other tensor counts as float32 (32 bits).

    Raises
    ------
    InstanceError
        For a ``meta.dtype`` numpy does not know, naming the layer.
    """
    out = np.full(problem.n_layers, float(DEFAULT_VALUE_BITS))
    for i, layer in enumerate(problem.layers):
        dtype = (layer.meta or {}).get("dtype")
        if dtype is None:
            continue
        try:
            out[i] = 8.0 * np.dtype(str(dtype)).itemsize
        except TypeError:
            raise InstanceError(f"unknown dtype {dtype!r}", field=f"layers[{i}].meta.dtype") from None
    return out


def _compressed_bytes(problem, mask: np.ndarray, bits: np.ndarray, level_bits: float) -> tuple[int, int]:
    """``(raw, compressed)`` bytes sent by the device set ``mask`` at ``level_bits`` per value:
    each sent tensor shrinks by ``min(1, level_bits / its bits)``, rounded up to whole bytes. O(m)."""
    topo = problem.topology
    senders = np.unique(topo.src[mask[topo.src] & ~mask[topo.dst]])
    raw = problem.output_bytes[senders].astype(float)
    factor = np.minimum(1.0, level_bits / bits[senders])
    whole = np.ceil(raw * factor - 1e-9)  # whole bytes per tensor: never below 1 bit per value
    return int(raw.sum()), int(whole.sum())


def split_masks(problem, *, how: str = "cut_vertices", min_mbps: float = 1.0, max_mbps: float = 100.0,
                solve_map: Callable | None = None, stream_solve: Callable | None = None) -> list[tuple[str, np.ndarray]]:
    """Candidate device sets ``(label, mask)`` of a partition problem.

    ``how="cut_vertices"``: all on the device, and a split right after each
    cut vertex (only that vertex's output is sent). ``how="bandwidth_map"``:
    the distinct optimal partitions of ``solve_map(problem, min_mbps,
    max_mbps)`` (pass ``solve_map=solvers.bandwidth_map``: a formulation never
    picks a solver itself), plus all on the device. O(n + m) resp. a few
    min-cuts per piece. ``stream_solve``: also the splits it returns for the
    problem's throughput form (:func:`throughput_masks`; labelled
    ``stream@<frames/s>fps``).
    """
    n = problem.n_layers
    out: list[tuple[str, np.ndarray]] = [("device", np.ones(n, dtype=bool))]
    if how == "cut_vertices":
        order = problem.topology.order
        for p in problem.topology.cut_positions.tolist():
            if p >= n - 1:
                continue
            mask = np.zeros(n, dtype=bool)
            mask[order[: p + 1]] = True
            out.append((f"cut@{problem.names[order[p]]}", mask))
    elif how == "bandwidth_map":
        if solve_map is None:
            raise ValueError("how='bandwidth_map' needs the solver: pass solve_map=solvers.bandwidth_map")
        bmap = solve_map(problem, min_mbps, max_mbps)
        for piece in bmap.pieces:
            mask = np.zeros(n, dtype=bool)
            mask[[problem.index[nm] for nm in piece.device]] = True
            out.append((f"opt@{piece.min_mbps:.3g}-{piece.max_mbps:.3g}Mbps", mask))
    else:
        raise ValueError(f"unknown `how` {how!r}; use 'cut_vertices' or 'bandwidth_map'")
    if stream_solve is not None:
        out += throughput_masks(problem, stream_solve)
    seen, unique = set(), []
    for label, mask in out:
        key = mask.tobytes()
        if key not in seen and not problem.violations(mask):
            seen.add(key)
            unique.append((label, mask))
    return unique


def throughput_masks(problem, stream_solve: Callable) -> list[tuple[str, np.ndarray]]:
    """The device sets of the throughput-optimal split(s) of ``problem`` as a stream of frames.

    ``stream_solve`` gets ``problem`` with ``"objective": "throughput"`` (its
    k = 2 view) and returns a Solution (``solvers.solve``: the
    throughput-optimal split) or a list of them (``solvers.pareto``: every
    point of the latency-throughput front); solutions without an assignment
    are skipped. Labels are ``stream@<frames/s>fps``. O(n) per solution
    plus the solve.
    """
    from ..partition.tiers import TieredPartitionProblem

    stream = TieredPartitionProblem.from_partition(problem, objective="throughput",
                                                   constraints=dict(getattr(problem, "constraints", None) or {}))
    result = stream_solve(stream)
    out = []
    for sol in result if isinstance(result, (list, tuple)) else [result]:
        if getattr(sol, "assignment", None) is None:
            continue
        tiers = stream.tier_vector(sol.assignment)
        rate = stream.evaluate(sol.assignment).objective
        out.append((f"stream@{rate:.4g}fps", tiers == 0))
    return out


def task_configs(
    problem,
    *,
    accuracy: float,
    how: str = "cut_vertices",
    compression: Mapping[str, Any] | None = None,
    exits: Sequence[Mapping[str, Any]] = (),
    min_mbps: float = 1.0,
    max_mbps: float = 100.0,
    keep: int | None = None,
    solve_map: Callable | None = None,
    stream_solve: Callable | None = None,
) -> list[Config]:
    """The configurations of one task running ``problem``'s DNN.

    Parameters
    ----------
    problem : PartitionProblem
        Its ``network`` sets the uplink/downlink speeds and RTT.
    accuracy : float
        The full model's accuracy, in [0, 1].
    how : {"cut_vertices", "bandwidth_map"}
        Split candidates (see :func:`split_masks`; ``"bandwidth_map"`` needs
        ``solve_map=solvers.bandwidth_map``).
    compression : mapping, optional
        ``{"levels": {bits: {"size_factor", "accuracy_loss"}}, "source": ...}``;
        defaults to :data:`COMPRESSION_TABLE`.
    exits : sequence of mapping
        ``{"layer": name, "exit_rate": q, "accuracy": a}``: an early exit
        after ``layer``; used in splits that keep ``layer`` on the device.
    keep : int, optional
        Keep only the ``keep`` Pareto-best configurations (fewest total ms
        for their accuracy), always including the most accurate.
    stream_solve : callable, optional
        Also the throughput-optimal split(s) of the DNN as a stream of
        frames (pass ``solvers.solve``, or ``solvers.pareto`` for the whole
        latency-throughput front; see :func:`throughput_masks`), so a
        stream of mixed tasks can use them.

    Returns
    -------
    list of Config
        Named ``"<split>/<bits>b[/exit@layer]"``; ``meta`` records the split
        size, bits and exit.
    """
    as_probability(accuracy, "accuracy")
    table = compression or COMPRESSION_TABLE
    levels = table.get("levels") if isinstance(table, Mapping) else None
    if not isinstance(levels, Mapping) or not levels:
        raise InstanceError("a compression table needs non-empty `levels`", field="compression.levels")
    for bits, row in levels.items():
        factor = as_positive(row.get("size_factor"), f"compression.levels.{bits}.size_factor")
        if factor * DEFAULT_VALUE_BITS < 1:
            raise InstanceError(f"{factor:g} x 32 bits is below 1 bit per value; the smallest factor is 1/32",
                                field=f"compression.levels.{bits}.size_factor")
        as_probability(row.get("accuracy_loss"), f"compression.levels.{bits}.accuracy_loss")
    tensor_bits = value_bits(problem)
    least_loss = min(float(row["accuracy_loss"]) for row in levels.values())
    for i, ex in enumerate(exits):
        if ex.get("layer") not in problem.index:
            raise InstanceError(f"unknown layer {ex.get('layer')!r}", field=f"exits[{i}].layer")
        as_probability(ex.get("exit_rate"), f"exits[{i}].exit_rate")
        as_probability(ex.get("accuracy"), f"exits[{i}].accuracy")
    configs: list[Config] = []
    for label, mask in split_masks(problem, how=how, min_mbps=min_mbps, max_mbps=max_mbps, solve_map=solve_map,
                                   stream_solve=stream_solve):
        b = problem.breakdown(mask)
        sends = b["uplink_bytes"] > 0
        options = list(levels.items()) if sends else [("32", {"size_factor": 1.0, "accuracy_loss": 0.0})]
        for bits, row in options:
            raw, sent = _compressed_bytes(problem, mask, tensor_bits, DEFAULT_VALUE_BITS * float(row["size_factor"]))
            if sent == raw and row["accuracy_loss"] > least_loss:
                continue  # no saving on tensors already this small (e.g. 8 bits of a uint8 image)
            shrink = sent / raw if raw else 1.0
            up = b["rtt_ms"] + b["uplink_ms"] * shrink if b["device_layers"] < problem.n_layers else 0.0
            base = (b["device_compute_ms"], up, b["server_compute_ms"] + b["downlink_ms"])
            acc = max(0.0, accuracy - row["accuracy_loss"])
            meta = {"device_layers": b["device_layers"], "bits": int(bits), "sent_bytes": sent}
            configs.append(Config(f"{label}/{bits}b", tuple(float(x) for x in base), round(acc, 6), meta))
            for ex in exits:
                e = problem.index[ex["layer"]]
                if not mask[e]:
                    continue
                q = float(ex["exit_rate"])
                upto = problem.topology.closure_of([e]) & mask
                dev_before = float(problem.device_ms[upto].sum())
                dev = dev_before + (1 - q) * (base[0] - dev_before)
                times = (dev, (1 - q) * base[1], (1 - q) * base[2])
                ex_acc = max(0.0, q * float(ex["accuracy"]) + (1 - q) * acc)
                configs.append(
                    Config(f"{label}/{bits}b/exit@{ex['layer']}", tuple(times), round(ex_acc, 6),
                           {**meta, "exit": ex["layer"], "exit_rate": q})
                )
    if keep is not None and len(configs) > keep:
        configs = _pareto(configs, keep)
    return configs


def _pareto(configs: list[Config], keep: int) -> list[Config]:
    """Drop dominated configurations (no faster on any stage, no more accurate),
    then pick ``keep`` round-robin over accuracy levels (most accurate level
    first), each level's configurations by increasing total ms."""
    front = [
        c for c in configs
        if not any(
            o is not c and all(a <= b for a, b in zip(o.ms, c.ms)) and o.accuracy >= c.accuracy  # type: ignore[operator]
            and (o.ms != c.ms or o.accuracy > c.accuracy)  # type: ignore[operator]
            for o in configs
        )
    ]
    groups: dict[float, list[Config]] = {}
    for c in sorted(front, key=lambda c: (c.total_ms, c.name)):
        groups.setdefault(c.accuracy, []).append(c)  # type: ignore[arg-type]
    levels = [groups[a] for a in sorted(groups, reverse=True)]
    picked: list[Config] = []
    depth = 0
    while len(picked) < keep and any(depth < len(g) for g in levels):
        for g in levels:
            if depth < len(g) and len(picked) < keep:
                picked.append(g[depth])
        depth += 1
    return picked


def stream_problem(
    models: Sequence[tuple[str, Any, float]],
    n_tasks: int,
    *,
    seed: int = 0,
    interarrival_ms: float = 0.0,
    objective: str = "makespan",
    accuracy_min: float | None = None,
    deadline_ms: float | None = None,
    keep: int | None = 5,
    name: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    **config_options,
) -> PipelineProblem:
    """A stream of ``n_tasks`` tasks drawn from ``models`` (mixed DNNs).

    Parameters
    ----------
    models : sequence of (label, PartitionProblem, accuracy)
    n_tasks : int
    seed : int
        Draws which model each task runs (numpy ``default_rng``).
    interarrival_ms : float
        Task ``i`` is released at ``i * interarrival_ms``.
    keep : int, optional
        Configurations kept per task (see :func:`task_configs`).
    **config_options
        Passed to :func:`task_configs` (``how``, ``compression``, ``exits``...).
    """
    as_nonneg(interarrival_ms, "interarrival_ms")
    rng = np.random.default_rng(seed)
    per_model = [task_configs(p, accuracy=acc, keep=keep, **config_options) for _, p, acc in models]
    picks = rng.integers(0, len(models), size=n_tasks)
    tasks = [
        Task(f"t{i + 1}:{models[k][0]}", tuple(per_model[k]), release_ms=float(i * interarrival_ms))
        for i, k in enumerate(picks.tolist())
    ]
    table = config_options.get("compression") or COMPRESSION_TABLE
    meta = {
        "generator": "formulations.pipeline.configs.stream_problem",
        "seed": seed,
        "models": [{"label": lbl, "partition": p.name, "accuracy": acc, "uplink_mbps": p.network.uplink_mbps} for lbl, p, acc in models],
        "compression": table,
        "units": {"ms": "ms per stage (device compute, uplink incl. rtt, server compute + download)", "accuracy": "fraction"},
        **dict(metadata or {}),
    }
    return PipelineProblem(
        ["device", "uplink", "server"], tasks, objective=objective, accuracy_min=accuracy_min,
        deadline_ms=deadline_ms, metadata=meta, name=name,
    )
