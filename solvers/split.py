"""Split an ONNX model where the solver says, and choose splits by measured latency.

- :func:`solution_assignment` reads a split from ``coinfer solve --json``;
- :func:`split_onnx` solves (or takes) a partition of an imported instance
  and writes ``device.onnx``, ``server.onnx`` and ``split.json``, optionally
  measuring the split (:func:`formulations.partition.importers.segments.measure_split`);
- :func:`choose_by_segments` picks, at a bandwidth, the split with the lowest
  *measured* latency among the cut-vertex splits an import with
  ``segments=True`` timed when it beats the model's optimum beyond the
  noise (interquartile ranges separated), and reports ties.

The ONNX work is in :mod:`formulations.partition.importers.onnx_split`; this module
only adds the solve.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from formulations.errors import InstanceError

__all__ = ["solution_assignment", "split_onnx", "split_record", "choose_by_segments", "phone_table",
           "additive_candidates"]


def additive_candidates(problem, min_mbps: float = 0.1, max_mbps: float = 1000.0) -> list:
    """The model's optimum of every bandwidth range in ``[min_mbps, max_mbps]`` (boolean masks).

    These are the splits the instance's cost model (calibrated or additive)
    would ever choose (each block's optimal cut at some bandwidth), so
    measuring them beside the cut-vertex splits lets
    :func:`choose_by_segments` compare its choice with the model's, measured
    the same way. One bandwidth map: ``2 * #pieces - 1`` solves.
    """
    import solvers

    bmap = solvers.bandwidth_map(problem, min_mbps, max_mbps)
    return [problem.device_mask(list(piece.device)) for piece in bmap.pieces]


def solution_assignment(path, problem=None) -> dict[str, list[str]]:
    """The assignment in a ``coinfer solve --json`` file (first partition record).

    Raises
    ------
    InstanceError
        Naming the file when it holds no partition assignment.
    """
    from formulations.io import read_json

    data = read_json(path)
    records = data if isinstance(data, list) else [data]
    for record in records:
        if isinstance(record, Mapping) and isinstance(record.get("assignment"), Mapping):
            assignment = {k: list(v) for k, v in record["assignment"].items()}
            if problem is not None:
                problems = problem.violations(assignment)
                if problems:
                    raise InstanceError(f"the solution does not fit the instance: {problems[0]}", file=str(path))
            return assignment
    raise InstanceError("no partition assignment in this file (expected `coinfer solve --json` output)",
                        file=str(path))


def split_record(problem, assignment, split) -> dict[str, Any]:
    """The ``split.json`` content: sent tensors, layers per side, predicted latency term by term."""
    mask = problem.device_mask(assignment)
    predicted = problem.breakdown(mask)
    return {
        "kind": "onnx_split", "version": 1, "instance": problem.name,
        "network": problem.network.to_dict(),
        "sent": [{"tensor": t, "bytes": split.sent_bytes.get(t, 0)} for t in split.sent],
        "device_outputs": split.device_outputs, "server_outputs": split.server_outputs,
        "device_layers": problem.assignment(mask)["device"], "server_layers": problem.assignment(mask)["server"],
        "predicted": predicted,
        "files": {"device": "device.onnx", "server": "server.onnx" if split.server is not None else None},
    }


def split_onnx(model_path, problem, out_dir, *, assignment=None, uplink_mbps: float | None = None,
               measure: bool = False, runs: int = 20, warmup: int = 3, threads: int = 1,
               check: bool = True) -> dict[str, Any]:
    """Write ``device.onnx``, ``server.onnx`` and ``split.json`` for a split of ``model_path``.

    Parameters
    ----------
    model_path : path
        The ONNX file the instance was imported from.
    problem : PartitionProblem
        The imported instance (layers carry ``meta.tensors``).
    assignment : mapping, optional
        The split; by default the optimum of :func:`solvers.partition` at
        ``uplink_mbps`` (default: the instance's network), pins respected.
    measure : bool
        Also run both parts with onnxruntime here and record the measured
        latency beside the prediction (``split.json["measured"]``): ``runs``
        interleaved rounds of both parts after ``warmup``, as the import's
        calibration times its prefixes (defaults equal to the import's).
    check : bool
        Run the composition once on random inputs and record the largest
        deviation from the whole model (``reproduction_error``, < 1 means
        within rtol = atol = 1e-3).

    Returns
    -------
    dict
        The ``split.json`` content.
    """
    import solvers
    from formulations.partition.importers.onnx_split import (device_tensors, instance_tensors, load_for_split,
                                                             max_split_error, split_model)
    from formulations.partition.importers.profiling import make_feeds

    if uplink_mbps is not None:
        problem = problem.with_network(uplink_mbps=uplink_mbps)
    if assignment is None:
        solution = solvers.partition(problem)
        if solution.assignment is None:
            raise InstanceError(f"no feasible split: {solution.message or solution.status.value}")
        assignment = solution.assignment
    shapes = problem.metadata.get("import", {}).get("input_shapes", {})
    model = load_for_split(model_path, shapes, tensors=instance_tensors(problem),
                           optimize=problem.metadata.get("import", {}).get("optimize", "basic"))
    split = split_model(model, device_tensors(problem, assignment))
    batch = _dynamic_batch(model_path)
    if batch is not None:  # the user's model takes any batch: so do its parts
        for part in (split.device, split.server):
            if part is not None:
                _with_batch_dim(part, batch)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _save(split.device, out / "device.onnx")
    if split.server is not None:
        _save(split.server, out / "server.onnx")
    record = split_record(problem, assignment, split)
    record["model"] = Path(model_path).name
    record["batch"] = batch if batch is not None else "static (as the model's inputs)"
    if check or measure:
        from formulations.partition.importers.onnx_model import graph_inputs
        from onnx import helper

        dtypes = {i.name: helper.tensor_dtype_to_np_dtype(i.type.tensor_type.elem_type) for i in graph_inputs(model)}
        feeds = make_feeds({nm: [d.dim_value for d in i.type.tensor_type.shape.dim]
                            for nm, i in ((i.name, i) for i in graph_inputs(model))}, dtypes, seed=1)
        if check:
            record["reproduction_error"] = max_split_error(model, split, feeds)
        if measure:
            from formulations.partition.importers.segments import measure_split

            record["measured"] = measure_split(problem, assignment, split, feeds, runs=runs, warmup=warmup,
                                               threads=threads)
    (out / "split.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return record


def _dynamic_batch(model_path) -> str | None:
    """The name of the original model's symbolic first input dimension (e.g. ``"N"``), or None."""
    from formulations.partition.importers.onnx_model import graph_inputs, read_model

    names = set()
    for vi in graph_inputs(read_model(model_path)):
        dims = vi.type.tensor_type.shape.dim
        if not dims or dims[0].HasField("dim_value") and dims[0].dim_value > 0:
            return None
        names.add(dims[0].dim_param or "batch")
    return sorted(names)[0] if len(names) == 1 else None


def _with_batch_dim(part, name: str) -> None:
    """Make the first dimension of every input and output of ``part`` symbolic (``name``) and drop
    the intermediate shapes inferred at batch 1, so onnxruntime re-infers them for any batch."""
    for vi in list(part.graph.input) + list(part.graph.output):
        dims = vi.type.tensor_type.shape.dim
        if dims:
            dims[0].Clear()
            dims[0].dim_param = name
    del part.graph.value_info[:]


def _save(model, path: Path) -> None:
    import onnx

    if model.ByteSize() > 1_900_000_000:  # protobuf's 2 GB limit: weights beside the model
        onnx.save_model(model, str(path), save_as_external_data=True, location=path.name + ".data")
    else:
        onnx.save_model(model, str(path))


def choose_by_segments(problem, uplink_mbps: float | None = None) -> dict[str, Any]:
    """The measured choice among the splits an import with ``segments=True`` timed, noise considered.

    The model's choice is the optimum of the instance's own costs
    (:func:`solvers.partition`). The measured choice replaces it only when a
    measured split is faster *beyond the noise*: the test is IQR
    separation, the candidate's third quartile of end-to-end latency below
    the model choice's first quartile
    (:func:`formulations.partition.importers.segments.segment_interval`: the
    timed parts' quartiles plus the modelled transfers). Otherwise the model's
    choice is kept and every measured split whose interquartile interval
    overlaps it is reported as a tie. When the model's choice was not among
    the measured splits (e.g. pins added after the import), the fastest
    measured split is taken.

    Returns
    -------
    dict
        ``segments`` (the chosen row of ``metadata["segments"]``),
        ``measured_ms`` and ``measured_iqr_ms`` (its end-to-end median and
        [q1, q3]), ``decision`` ("model": the model's choice kept; "measured":
        a split faster beyond the noise; "fastest measured": the model's
        choice was not measured), ``test``, ``ties`` (cut, device layers,
        median and quartiles of each split within the noise of the chosen
        one), ``model`` (the model's choice: predicted ms, device layers and,
        when measured, its cut and measured median and quartiles) and
        ``uplink_mbps``. O(#rows) plus one solve.

    Raises
    ------
    InstanceError
        When the instance has no measured segments.
    """
    import solvers
    from formulations.partition.importers.segments import segment_interval, segment_latency, segment_mask

    if uplink_mbps is not None:
        problem = problem.with_network(uplink_mbps=uplink_mbps)
    rows = problem.metadata.get("segments")
    if not rows:
        raise InstanceError("the instance has no measured segments; import it with --segments",
                            field="metadata.segments")
    net = problem.network
    allowed = [r for r in rows if problem.is_feasible(segment_mask(problem, r))]
    if not allowed:
        raise InstanceError("no measured cut-vertex split satisfies the pins", field="metadata.segments")
    fastest = min(allowed, key=lambda r: segment_latency(r, net))
    solution = solvers.partition(problem)
    mask = problem.device_mask(solution.assignment)
    model: dict[str, Any] = {"predicted_ms": solution.objective, "device_layers": int(mask.sum())}
    model_row = next((r for r in allowed if (segment_mask(problem, r) == mask).all()), None)
    if model_row is None:
        chosen, decision = fastest, "fastest measured"
    else:
        model.update(cut=model_row["cut"], measured_ms=segment_latency(model_row, net),
                     measured_iqr_ms=list(segment_interval(model_row, net)))
        separated = segment_interval(fastest, net)[1] < segment_interval(model_row, net)[0]
        chosen, decision = (fastest, "measured") if separated else (model_row, "model")
    low, high = segment_interval(chosen, net)
    ties = [{"cut": r["cut"], "device_layers": r["device_layers"], "measured_ms": segment_latency(r, net),
             "measured_iqr_ms": list(segment_interval(r, net))}
            for r in allowed if r is not chosen and segment_interval(r, net)[0] <= high
            and segment_interval(r, net)[1] >= low]
    return {"segments": chosen, "measured_ms": segment_latency(chosen, net), "measured_iqr_ms": [low, high],
            "decision": decision, "ties": ties, "model": model, "uplink_mbps": net.uplink_mbps,
            "test": "a measured split replaces the model's choice only when its end-to-end q3 is below the model "
                    "choice's q1 (interquartile ranges separated); splits whose [q1, q3] overlaps the chosen one's "
                    "are ties"}


def phone_table(problem, bmap) -> dict[str, Any]:
    """A bandwidth map a phone app can embed: per range, the ONNX tensors to send and the latency line.

    Each range gives ``min_mbps``, ``max_mbps``, ``send`` (tensor names the
    device sends; empty: run everything on the device), ``device_layers``
    (count), ``uplink_bytes``, and ``latency_ms = fixed_ms + per_mbps_ms /
    uplink_mbps`` with compute and RTT in ``fixed_ms`` and the downlink of
    the results in ``per_mbps_ms`` (when the downlink follows the uplink) or
    in ``fixed_ms`` (a fixed downlink). O(pieces x layers).
    """
    from formulations.partition.importers.onnx_split import device_tensors

    ranges = []
    for piece in bmap.pieces:
        mask = problem.device_mask(list(piece.device))
        breakdown = problem.breakdown(mask)
        crossing = mask[problem.topology.src] & ~mask[problem.topology.dst]
        senders = sorted(set(problem.topology.src[crossing].tolist()))
        try:
            tensors = device_tensors(problem, mask)
            send = [t for i in senders for t in (problem.layers[i].meta or {}).get("tensors", []) if t in tensors]
        except InstanceError:
            send = [problem.names[i] for i in senders]
        ranges.append({"min_mbps": round(piece.min_mbps, 6), "max_mbps": round(piece.max_mbps, 6), "send": send,
                       "device_layers": int(mask.sum()), "uplink_bytes": int(breakdown["uplink_bytes"]),
                       "fixed_ms": round(piece.fixed_ms, 4), "per_mbps_ms": round(piece.per_mbps_ms, 4)})
    return {"kind": "bandwidth_table", "version": 1, "model": problem.name,
            "network": problem.network.to_dict(),
            "latency": "latency_ms = fixed_ms + per_mbps_ms / uplink_mbps (compute and RTT in fixed_ms; the downlink "
                       "in per_mbps_ms when it follows the uplink, else in fixed_ms)",
            "ranges": ranges}
