"""Cut an ONNX model into a device part and a server part.

A partition of an imported instance names the layers on each side; every
layer keeps the ONNX tensors it outputs in ``layer.meta["tensors"]``
(:func:`device_tensors`). :func:`split_model` then cuts the (normalized)
ONNX graph:

- ``device``: the model's inputs (same names) -> the *sent* tensors (device
  tensors a server-side node reads) plus the model outputs computed on the
  device;
- ``server``: the sent tensors (same names) -> the remaining model outputs.

Running one then the other reproduces the whole model
(:func:`run_split`, checked by :func:`max_split_error`). Needs the ``onnx``
extra; running needs onnxruntime.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ...errors import InstanceError
from .onnx_model import graph_inputs, require_onnx

__all__ = ["ModelSplit", "device_tensors", "split_model", "load_for_split", "instance_tensors", "value_infos",
           "run_split", "max_split_error", "node_inputs"]


@dataclass
class ModelSplit:
    """The two parts of a split model and the tensors between them.

    Attributes
    ----------
    device, server : onnx.ModelProto or None
        ``server`` is None when every model output is computed on the device.
    sent : list of str
        Tensors sent over the uplink (device outputs = server inputs).
    device_outputs, server_outputs : list of str
        Model outputs computed on each side.
    sent_bytes : dict
        Bytes of each sent tensor (static shape x dtype size; 0 if unknown).
    """

    device: Any
    server: Any
    sent: list[str]
    device_outputs: list[str]
    server_outputs: list[str]
    sent_bytes: dict[str, int] = field(default_factory=dict)


def node_inputs(node) -> list[str]:
    """A node's inputs including the outer-scope tensors its subgraphs read."""
    from .onnx_graph import _subgraph_inputs

    return [t for t in list(node.input) + _subgraph_inputs(node) if t]


def device_tensors(problem, assignment) -> set[str]:
    """ONNX tensors computed on the device side of ``assignment``.

    Raises
    ------
    InstanceError
        When a device layer has no ``meta.tensors`` (an instance not made by
        this version of ``coinfer import``).
    """
    mask = problem.device_mask(assignment)
    out: set[str] = set()
    for layer, on_device in zip(problem.layers, mask):
        if not on_device:
            continue
        tensors = (layer.meta or {}).get("tensors")
        if tensors is None:
            raise InstanceError(f"layer {layer.name!r} has no ONNX tensor names (meta.tensors); re-import the model "
                                "with this version of `coinfer import`", field="layers")
        out.update(tensors)
    return out


def _walk_back(model, targets: Iterable[str], stop: set[str]) -> tuple[list, set[str]]:
    """Nodes needed for ``targets`` when ``stop`` tensors are given; and the stops reached.

    O(nodes + edges).
    """
    producer = {t: node for node in model.graph.node for t in node.output if t}
    constant = {t.name for t in model.graph.initializer}
    needed_nodes: dict[int, Any] = {}
    reached: set[str] = set()
    stack = list(targets)
    seen: set[str] = set()
    while stack:
        tensor = stack.pop()
        if tensor in seen:
            continue
        seen.add(tensor)
        if tensor in stop:
            reached.add(tensor)
            continue
        if tensor in constant:
            continue
        node = producer.get(tensor)
        if node is None:
            raise InstanceError(f"tensor {tensor!r} is neither produced in the model nor an input", field="graph")
        if id(node) not in needed_nodes:
            needed_nodes[id(node)] = node
            stack.extend(node_inputs(node))
    order = [node for node in model.graph.node if id(node) in needed_nodes]
    return order, reached


def _value_info(name: str, table: Mapping[str, Any]):
    from onnx import ValueInfoProto

    if name in table:
        vi = ValueInfoProto()
        vi.CopyFrom(table[name])
        return vi
    return ValueInfoProto(name=name)


def _sub_model(model, nodes: Sequence, inputs: Sequence[str], outputs: Sequence[str], table, name: str):
    """A model of ``nodes`` from ``inputs`` to ``outputs`` with the initializers they read."""
    onnx = require_onnx()
    from onnx import helper

    used = {t for node in nodes for t in node_inputs(node)} | set(outputs)
    inits = [t for t in model.graph.initializer if t.name in used]
    value_info = [table[t] for t in sorted({t for node in nodes for t in node.output if t}) if t in table
                  and t not in outputs and t not in inputs]
    graph = helper.make_graph(list(nodes), name, [_value_info(t, table) for t in inputs],
                              [_value_info(t, table) for t in outputs], inits, value_info=value_info)
    sub = helper.make_model(graph, opset_imports=list(model.opset_import), ir_version=model.ir_version,
                            producer_name="coinfer split")
    sub.functions.extend(model.functions)
    onnx.checker.check_model(sub)
    return sub


def _tensor_bytes(name: str, table) -> int:
    from onnx import helper

    vi = table.get(name)
    if vi is None or not vi.type.tensor_type.elem_type:
        return 0
    dims = vi.type.tensor_type.shape.dim
    if not all(d.HasField("dim_value") for d in dims):
        return 0
    itemsize = np.dtype(helper.tensor_dtype_to_np_dtype(vi.type.tensor_type.elem_type)).itemsize
    return int(math.prod(d.dim_value for d in dims)) * itemsize


def load_for_split(source, input_shapes: Mapping[str, Sequence[int]] | None = None, *,
                   tensors: Iterable[str] | None = None, optimize: str = "basic"):
    """The model as :func:`split_model` cuts it: read, normalized, static input shapes.

    ``input_shapes`` are the instance's ``metadata["import"]["input_shapes"]``.
    ``tensors`` (optional) are the tensor names the instance's layers carry
    (``meta.tensors``): when the normalized graph lacks some of them (the
    import profiled onnxruntime's ``optimize`` graph, which renames tensors,
    e.g. when it inlines a function op such as HardSwish), the graph is
    prepared exactly as the import prepared it
    (:func:`~formulations.partition.importers.onnx_model.prepare_model`), so
    the names match. Raises :class:`InstanceError` naming the file for
    unreadable models. O(nodes) plus, in the fallback, one graph optimization.
    """
    import os

    from ...validate import naming_file
    from .onnx_model import _fix_inputs, prepare_model, read_model
    from .onnx_normalize import normalize_model

    file = str(source) if isinstance(source, (str, os.PathLike)) else None
    model = read_model(source)
    with naming_file(file):
        model, _ = normalize_model(model)
        _fix_inputs(model, dict(input_shapes or {}))
        if tensors is not None and optimize in ("basic", "fuse"):
            produced = {t for node in model.graph.node for t in node.output}
            if not set(tensors) <= produced:
                model = prepare_model(model, input_shape=dict(input_shapes or {}) or None, optimize=optimize)
    return model


def instance_tensors(problem) -> set[str]:
    """Every ONNX tensor name the instance's layers carry (``meta.tensors``)."""
    return {t for layer in problem.layers for t in (layer.meta or {}).get("tensors", ())}


def split_model(model, device_side: set[str], table: Mapping[str, Any] | None = None) -> ModelSplit:
    """Cut ``model`` so that the tensors in ``device_side`` are computed on the device.

    Parameters
    ----------
    model : onnx.ModelProto
        A normalized model (:func:`~formulations.partition.importers.onnx_normalize.normalize_model`)
        with static input shapes, so every sent tensor has a type.
    device_side : set of str
        Tensors the device computes (:func:`device_tensors`); graph inputs
        are always on the device.

    Returns
    -------
    ModelSplit
        The sent tensors are those of ``device_side`` that a server-side node
        reads (found by walking back from the server's outputs), in graph
        order. O(nodes + edges) plus copying the initializers each part reads.

    Raises
    ------
    InstanceError
        If a device tensor is missing from the graph (the instance was imported
        from another model).
    """
    table = table if table is not None else value_infos(model)
    inputs = [i.name for i in graph_inputs(model)]
    produced = {t for node in model.graph.node for t in node.output} | set(inputs)
    return _split(model, device_side, table, inputs, produced)


def value_infos(model) -> dict[str, Any]:
    """``{tensor: ValueInfoProto}`` after ONNX shape inference (reuse it across splits)."""
    onnx = require_onnx()
    inferred = onnx.shape_inference.infer_shapes(model)
    return {vi.name: vi for vi in list(inferred.graph.input) + list(inferred.graph.value_info)
             + list(inferred.graph.output)}


def _split(model, device_side, table, inputs, produced) -> ModelSplit:
    unknown = sorted(t for t in device_side if t not in produced)
    if unknown:
        raise InstanceError(f"the model has no tensor {unknown[0]!r} the instance names ({len(unknown)} missing); "
                            "split the model the instance was imported from", field="layers.meta.tensors")
    stop = set(device_side) | set(inputs)
    outputs = [o.name for o in model.graph.output]
    device_outputs = [t for t in outputs if t in stop]
    server_outputs = [t for t in outputs if t not in stop]
    server_nodes, reached = _walk_back(model, server_outputs, stop)
    order = {t: k for k, t in enumerate(inputs)}
    for k, node in enumerate(model.graph.node):
        for t in node.output:
            order.setdefault(t, len(inputs) + k)
    sent = sorted(reached, key=lambda t: order.get(t, 0))
    device_targets = list(dict.fromkeys(sent + device_outputs))
    device_nodes, _ = _walk_back(model, device_targets, set(inputs))
    table, probed_bytes = _complete_boundary_types(model, sent + outputs, table)
    device = _sub_model(model, device_nodes, inputs, device_targets, table, "device")
    server = (_sub_model(model, server_nodes, sent, server_outputs, table, "server") if server_outputs else None)
    return ModelSplit(device, server, sent, device_outputs, server_outputs,
                      {t: probed_bytes.get(t, _tensor_bytes(t, table)) for t in sent})


def _has_full_type(name: str, table: Mapping[str, Any]) -> bool:
    vi = table.get(name)
    return (vi is not None and vi.type.HasField("tensor_type") and bool(vi.type.tensor_type.elem_type)
            and vi.type.tensor_type.HasField("shape"))


def _complete_boundary_types(model, boundary: Sequence[str],
                             table: Mapping[str, Any]) -> tuple[Mapping[str, Any], dict[str, int]]:
    """``table`` with a type for every tensor the parts exchange or output, and the probed bytes.

    ONNX requires a graph input or output to have an element type and a
    shape; shape inference leaves some tensors without one (a ``Loop`` or
    ``If`` output whose shape changes between iterations). Those tensors are
    typed from one probe run of the whole model on random inputs: the element
    type observed and the observed rank with symbolic dimensions
    (``<tensor>_d<i>``), so the parts accept what the whole model would pass.
    The bytes recorded for such a tensor are the probe's (second value,
    ``{tensor: bytes}``). O(one model run),
    and only when some boundary tensor lacks a type.

    Raises
    ------
    InstanceError
        When the probe cannot run (no onnxruntime, or the tensor is not a
        tensor value, e.g. a sequence), naming the tensor.
    """
    missing = [t for t in dict.fromkeys(boundary) if not _has_full_type(t, table)]
    if not missing:
        return table, {}
    from onnx import ValueInfoProto, helper

    from .profiling import make_feeds

    try:
        from .profiling import _session

        probe = model.__class__()
        probe.CopyFrom(model)
        known = {o.name for o in probe.graph.output}
        probe.graph.output.extend(ValueInfoProto(name=t) for t in missing if t not in known)
        inputs = graph_inputs(model)
        shapes = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in inputs}
        dtypes = {i.name: helper.tensor_dtype_to_np_dtype(i.type.tensor_type.elem_type) for i in inputs}
        session = _session(probe.SerializeToString(), level="basic")
        names = [o.name for o in session.get_outputs()]
        values = dict(zip(names, session.run(None, make_feeds(shapes, dtypes, seed=1))))
    except Exception as exc:  # onnxruntime missing or the model does not run
        raise InstanceError(f"tensor {missing[0]!r} has no type or shape after ONNX shape inference, so the "
                            f"split cannot declare it; typing it needs one onnxruntime run of the model, which "
                            f"failed: {exc}", field="layers.meta.tensors") from None
    completed = dict(table)
    for t in missing:
        value = values.get(t)
        if not isinstance(value, np.ndarray):
            raise InstanceError(f"tensor {t!r} is not a tensor value (type {type(value).__name__}); "
                                "a split cannot send it: move the cut", field="layers.meta.tensors")
        elem = helper.np_dtype_to_tensor_dtype(value.dtype)
        completed[t] = helper.make_tensor_value_info(t, elem, [f"{t}_d{i}" for i in range(value.ndim)])
    return completed, {t: int(values[t].nbytes) for t in missing}


def run_split(split: ModelSplit, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run the device part then the server part; every model output by name."""
    from .profiling import _session

    device = _session(split.device.SerializeToString(), level="all")
    names = [o.name for o in device.get_outputs()]
    values = dict(zip(names, device.run(None, {i.name: feeds[i.name] for i in device.get_inputs()})))
    out = {t: values[t] for t in split.device_outputs}
    if split.server is not None:
        server = _session(split.server.SerializeToString(), level="all")
        results = server.run(None, {t: values[t] for t in split.sent})
        out.update(zip([o.name for o in server.get_outputs()], results))
    return out


def max_split_error(model, split: ModelSplit, feeds: Mapping[str, np.ndarray]) -> float:
    """Largest ``|composed - whole| / (1e-3 * (1 + |whole|))`` over all outputs.

    Below 1 means the composition reproduces the whole model at rtol = atol
    = 1e-3 (numpy's ``allclose`` criterion, elementwise).
    """
    from .profiling import _session

    whole = _session(model.SerializeToString(), level="all")
    expected = dict(zip([o.name for o in whole.get_outputs()],
                        whole.run(None, {i.name: feeds[i.name] for i in whole.get_inputs()})))
    composed = run_split(split, feeds)
    worst = 0.0
    for name, value in expected.items():
        got = np.asarray(composed[name], dtype=np.float64)
        want = np.asarray(value, dtype=np.float64)
        if got.shape != want.shape:
            return math.inf
        if want.size:
            worst = max(worst, float(np.max(np.abs(got - want) / (1e-3 * (1 + np.abs(want))))))
    return worst
