"""Layers, edges, bytes and FLOPs of a prepared ONNX model (part of the ONNX importer).

See :func:`onnx_graph` for what becomes a layer. Needs the ``onnx`` extra.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import InstanceError
from .flops import node_flops
from .onnx_model import graph_inputs, is_static, require_onnx

__all__ = ["OnnxGraph", "onnx_graph", "fuse_groups", "UnknownOperatorWarning", "UnknownShapeWarning"]


class UnknownOperatorWarning(UserWarning):
    """An operator without a FLOP formula was counted as 0 FLOPs."""


class UnknownShapeWarning(UserWarning):
    """Some tensor sizes could be neither inferred nor measured (counted as 0 bytes)."""


@dataclass
class OnnxGraph:
    """Layers and edges of an ONNX model (before costs).

    Attributes are parallel lists by layer. ``work[i]`` is False for graph
    inputs. ``tensors[i]`` are the layer's output tensor names (used to cut
    a prefix sub-model at that layer).
    """

    names: list[str]
    ops: list[str]
    output_bytes: list[int]
    flops: list[float]
    bytes_moved: list[float]
    weight_bytes: list[int]
    tensors: list[list[str]]
    work: list[bool]
    edges: list[tuple[str, str]]
    input_shapes: dict[str, list[int]]
    input_dtypes: dict[str, Any]
    unknown_ops: Counter = field(default_factory=Counter)
    constant_nodes: int = 0
    dead_nodes: int = 0
    graph_outputs: set = field(default_factory=set)
    fused: dict = field(default_factory=dict)


def _subgraph_inputs(node) -> list[str]:
    """Outer-scope tensors that If/Loop/Scan bodies read (implicit inputs)."""
    names: list[str] = []
    for attr in node.attribute:
        graphs = ([attr.g] if attr.HasField("g") else []) + list(attr.graphs)
        for g in graphs:
            local = {i.name for i in g.input} | {t.name for t in g.initializer}
            for sub in g.node:
                local.update(sub.output)
            for sub in g.node:
                names += [t for t in list(sub.input) + _subgraph_inputs(sub) if t and t not in local]
    return names


def _tensor_table(model) -> tuple[dict[str, list[int]], dict[str, Any]]:
    from onnx import helper

    shapes: dict[str, list[int]] = {}
    dtypes: dict[str, Any] = {}
    for vi in list(model.graph.input) + list(model.graph.value_info) + list(model.graph.output):
        tt = vi.type.tensor_type
        if tt.elem_type:
            dtypes[vi.name] = helper.tensor_dtype_to_np_dtype(tt.elem_type)
        if is_static(vi) or (tt.HasField("shape") and len(tt.shape.dim) == 0):
            shapes[vi.name] = [d.dim_value for d in tt.shape.dim]
    for init in model.graph.initializer:
        shapes[init.name] = list(init.dims)
        dtypes[init.name] = helper.tensor_dtype_to_np_dtype(init.data_type)
    return shapes, dtypes


def _fill_by_running(model, names: list[str], shapes, dtypes) -> None:
    """Shapes shape inference left unknown, read off one onnxruntime run."""
    onnx = require_onnx()
    from .profiling import _session, make_feeds

    probe = onnx.ModelProto.FromString(model.SerializeToString())
    have = {o.name for o in probe.graph.output}
    for nm in names:
        if nm not in have:
            probe.graph.output.append(onnx.ValueInfoProto(name=nm))
    inputs = graph_inputs(model)
    feeds = make_feeds({i.name: shapes[i.name] for i in inputs}, {i.name: dtypes[i.name] for i in inputs})
    try:
        sess = _session(probe.SerializeToString(), level="none")
        outs = sess.run(names, {i.name: feeds[i.name] for i in sess.get_inputs()})
    except ImportError:
        raise
    except Exception as exc:  # noqa: BLE001 - onnxruntime's own exception types
        from .onnx_model import _ort_message

        warnings.warn(f"{len(names)} tensor shape(s) unknown after shape inference and onnxruntime cannot run the "
                      f"model to read them ({_ort_message(exc)}); they count as 0 bytes", UnknownShapeWarning,
                      stacklevel=3)
        for nm in names:
            shapes[nm] = [0]
        return
    for nm, arr in zip(names, outs):
        if isinstance(arr, list):  # a sequence: the bytes of all its tensors
            shapes[nm] = [int(sum(np.asarray(a).size for a in arr))]
            dtypes[nm] = np.asarray(arr[0]).dtype if arr else np.dtype(np.float32)
        else:
            shapes[nm] = list(arr.shape)
            dtypes[nm] = arr.dtype


def onnx_graph(model) -> OnnxGraph:
    """Layers, edges, bytes and FLOPs of a prepared model (static shapes).

    Warns with :class:`UnknownOperatorWarning` once per operator type it has
    no FLOP formula for. O(nodes + tensors).

    Raises
    ------
    InstanceError
        If a tensor between layers has no static shape and onnxruntime is not
        available to measure it, or has a dtype without a fixed size.
    """
    graph = model.graph
    shapes, dtypes = _tensor_table(model)
    inputs = graph_inputs(model)
    constant = {t.name for t in graph.initializer}
    nodes = []
    constant_nodes = 0
    for node in graph.node:
        ins = [t for t in list(node.input) + _subgraph_inputs(node) if t]
        if node.op_type == "Constant" or (ins and all(t in constant for t in ins)):
            constant.update(t for t in node.output if t)
            constant_nodes += 1
        else:
            nodes.append(node)
    # keep only nodes some graph output depends on
    needed = {o.name for o in graph.output}
    live = []
    for node in reversed(nodes):
        if any(t in needed for t in node.output):
            live.append(node)
            needed.update(t for t in list(node.input) + _subgraph_inputs(node) if t)
    live.reverse()
    dead_nodes = len(nodes) - len(live)
    consumed: set[str] = {o.name for o in graph.output}
    for node in live:
        consumed.update(t for t in list(node.input) + _subgraph_inputs(node) if t and t not in constant)
    missing = [t for node in live for t in node.output if t in consumed and t not in shapes]
    if missing:
        try:
            _fill_by_running(model, missing, shapes, dtypes)
        except ImportError:
            raise InstanceError(f"tensor {missing[0]!r} has no static shape after shape inference; "
                                "install onnxruntime to measure it", field="graph") from None

    def nbytes(t: str) -> int:
        dt = np.dtype(dtypes.get(t, np.float32))
        if dt.kind in "OUS":
            raise InstanceError(f"tensor {t!r} has dtype {dt} without a fixed size", field="graph")
        return int(math.prod(shapes.get(t, []))) * dt.itemsize

    out = OnnxGraph([], [], [], [], [], [], [], [], [], {}, {}, constant_nodes=constant_nodes, dead_nodes=dead_nodes)
    graph_output_names = {o.name for o in graph.output}
    producer: dict[str, str] = {}
    names_used = {node.name for node in live}
    for inp in inputs:
        if inp.name not in needed:
            continue
        name = inp.name if inp.name not in names_used else f"input:{inp.name}"
        names_used.add(name)
        producer[inp.name] = name
        out.input_shapes[inp.name] = shapes[inp.name]
        out.input_dtypes[inp.name] = dtypes[inp.name]
        b = nbytes(inp.name)
        _append(out, name, "Input", b, 0.0, 0.0, 0, [inp.name], work=False)
    for node in live:
        ins = [t for t in list(node.input) + _subgraph_inputs(node) if t]
        in_shapes = [shapes.get(t) if t else None for t in node.input]
        out_shapes = [shapes.get(t) for t in node.output]
        attrs = {a.name: _attr_value(a) for a in node.attribute}
        try:
            flops, known = node_flops(node.op_type, in_shapes, out_shapes, attrs)
        except (TypeError, IndexError):  # shapes missing for an optional tensor
            flops, known = 0.0, False
        if not known:
            out.unknown_ops[node.op_type] += 1
        out_b = sum(nbytes(t) for t in node.output if t and t in consumed)
        weights = sum(nbytes(t) for t in set(ins) if t in constant and t in shapes)
        moved = sum(nbytes(t) for t in set(ins) if t in shapes) + sum(nbytes(t) for t in node.output if t in shapes)
        _append(out, node.name, node.op_type, out_b, flops, moved, weights, [t for t in node.output if t], work=True)
        if any(t in graph_output_names for t in node.output):
            out.graph_outputs.add(node.name)
        for t in ins:
            if t in producer and producer[t] != node.name:
                out.edges.append((producer[t], node.name))
        for t in node.output:
            if t:
                producer[t] = node.name
    for op, count in sorted(out.unknown_ops.items()):
        warnings.warn(f"no FLOP formula for ONNX operator {op!r} ({count} node(s)); counted as 0 FLOPs",
                      UnknownOperatorWarning, stacklevel=2)
    return out


def _append(g: OnnxGraph, name, op, out_b, flops, moved, weights, tensors, *, work):
    g.names.append(name)
    g.ops.append(op)
    g.output_bytes.append(int(out_b))
    g.flops.append(float(flops))
    g.bytes_moved.append(float(moved))
    g.weight_bytes.append(int(weights))
    g.tensors.append(tensors)
    g.work.append(work)


def _attr_value(attr):
    from onnx import helper

    try:
        return helper.get_attribute_value(attr)
    except Exception:  # noqa: BLE001 - unusual attribute kinds are not needed for FLOPs
        return None


def fuse_groups(graph: OnnxGraph, executed: set[str]) -> OnnxGraph:
    """Merge the nodes the runtime fuses away into the node that absorbs them.

    ``executed`` are the node names left after onnxruntime's *extended*
    optimizations (which keep the first node's name for a fused group, e.g.
    a ``FusedConv`` named after its Conv). A layer missing from ``executed``
    joins its producer ``P`` when ``P`` is its only producer inside a group
    that was executed, ``P``'s output goes to it alone, and ``P``'s output is
    not a graph output; the group then sends only its last member's output.
    Other missing layers stay as they are. Groups are chains, so no cycle
    can appear. O(n + m).

    Returns
    -------
    OnnxGraph
        With merged layers (op ``"Conv+Relu"``...), summed FLOPs, bytes moved
        and weights, and ``fused`` mapping each group's name to its members.
    """
    index = {nm: i for i, nm in enumerate(graph.names)}
    consumers: dict[str, set[str]] = {nm: set() for nm in graph.names}
    producers: dict[str, set[str]] = {nm: set() for nm in graph.names}
    for u, v in graph.edges:
        consumers[u].add(v)
        producers[v].add(u)
    root: dict[str, str] = {}

    def find(nm: str) -> str:
        return root.get(nm, nm)

    for i, nm in enumerate(graph.names):  # topological order
        if not graph.work[i] or nm in executed:
            continue
        cands = [p for p in producers[nm] if graph.work[index[p]] and consumers[p] == {nm}
                 and p not in graph.graph_outputs and find(p) in executed]
        if len(cands) == 1:
            root[nm] = find(cands[0])
    members: dict[str, list[str]] = {}
    for nm in graph.names:
        members.setdefault(find(nm), []).append(nm)
    out = OnnxGraph([], [], [], [], [], [], [], [], [], graph.input_shapes, graph.input_dtypes,
                    unknown_ops=graph.unknown_ops, constant_nodes=graph.constant_nodes, dead_nodes=graph.dead_nodes)
    for head, group in members.items():
        idx = [index[m] for m in group]
        last = idx[-1]
        _append(out, head, "+".join(graph.ops[k] for k in idx), graph.output_bytes[last],
                sum(graph.flops[k] for k in idx), sum(graph.bytes_moved[k] for k in idx),
                sum(graph.weight_bytes[k] for k in idx), graph.tensors[last], work=graph.work[idx[0]])
        if len(group) > 1:
            out.fused[head] = group
        if any(m in graph.graph_outputs for m in group):
            out.graph_outputs.add(head)
    out.edges = list(dict.fromkeys((find(u), find(v)) for u, v in graph.edges if find(u) != find(v)))
    return out
