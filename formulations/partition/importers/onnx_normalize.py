"""Make any ONNX file an importable inference graph (part of the ONNX importer).

Files written by old exporters differ from what onnxruntime runs today:

- IR version < 4 lists every initializer (weights, shape tensors) as a graph
  input too. :func:`strip_initializer_inputs` removes those entries: they are
  constants, never inputs to feed or layers.
- Old opsets (``Add(6)``, ``BatchNormalization(6)``...) have no kernels in
  current onnxruntime. :func:`upgrade_opset` converts them with onnx's
  version converter.
- Unnamed nodes get stable, readable names (:func:`name_nodes`: ``conv_12``
  for the 12th node, a Conv), so a split maps back to the graph.
- Constant subgraphs (``ConstantOfShape``, ``Shape -> Gather -> Concat``
  chains on static shapes) are folded into initializers with onnx's
  reference evaluator when onnxruntime cannot do it (:func:`fold_constants`).
- A training graph or one without tensor outputs is not an inference graph
  (:func:`check_inference_graph` says why).

:func:`normalize_model` applies them in that order. Needs the ``onnx`` extra.
"""

from __future__ import annotations

import re
import warnings

from ...errors import InstanceError
from .extras import require_onnx

__all__ = ["normalize_model", "strip_initializer_inputs", "upgrade_opset", "name_nodes", "fold_constants",
           "check_inference_graph", "default_opset", "snake_case", "OpsetUpgradeWarning", "TARGET_OPSET",
           "MIN_OPSET"]

#: Opset that old models are converted to.
TARGET_OPSET = 13
#: Models whose default-domain opset is below this are converted.
MIN_OPSET = 7

_TRAINING_DOMAINS = ("ai.onnx.preview.training", "ai.onnx.training", "com.microsoft.nchwc_training")
_RANDOM_OPS = {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Multinomial",
               "Bernoulli"}
#: Folding stops at tensors larger than this many elements (keeps memory bounded).
_FOLD_LIMIT = 64_000_000


class OpsetUpgradeWarning(UserWarning):
    """An old opset was converted (or could not be)."""



def is_static(value_info) -> bool:
    """Whether a value info has a fully known, positive shape."""
    tt = value_info.type.tensor_type
    if not tt.HasField("shape"):
        return False
    return all(d.HasField("dim_value") and d.dim_value > 0 for d in tt.shape.dim)

def snake_case(op_type: str) -> str:
    """``"BatchNormalization"`` -> ``"batch_normalization"``, ``"MatMul"`` -> ``"mat_mul"``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", op_type).lower() or "node"


def default_opset(model) -> int | None:
    """The model's default-domain (``ai.onnx``) opset version, or None."""
    versions = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    return max(versions) if versions else None


def strip_initializer_inputs(model) -> int:
    """Remove graph inputs that are initializers (IR < 4 style), in place.

    Sets ``ir_version`` to at least 4 so the remaining initializers stay
    constants for every runtime. Returns how many inputs were removed. O(inputs).
    """
    inits = {t.name for t in model.graph.initializer}
    keep = [i for i in model.graph.input if i.name not in inits]
    removed = len(model.graph.input) - len(keep)
    if removed:
        del model.graph.input[:]
        model.graph.input.extend(keep)
    if model.ir_version < 4:
        model.ir_version = 4
    return removed


def upgrade_opset(model, target: int = TARGET_OPSET, minimum: int = MIN_OPSET):
    """Convert a model whose opset is below ``minimum`` to ``target``.

    Returns ``(model, note)``: the converted model (or the input one when no
    conversion was needed or it failed) and a sentence for the import's
    metadata, or None when nothing was done. A failed conversion warns with
    :class:`OpsetUpgradeWarning`; the model is then kept as written (the
    importer falls back to roofline costs where onnxruntime cannot run it).
    """
    onnx = require_onnx()
    from onnx import version_converter

    current = default_opset(model)
    if current is None or current >= minimum:
        return model, None
    try:
        converted = version_converter.convert_version(model, target)
        onnx.checker.check_model(converted)
    except Exception as exc:  # noqa: BLE001 - the converter raises many kinds
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        warnings.warn(f"opset {current} could not be converted to {target} ({first}); keeping opset {current}",
                      OpsetUpgradeWarning, stacklevel=3)
        return model, f"opset {current} kept: conversion to {target} failed ({first})"
    converted.ir_version = max(converted.ir_version, _min_ir(converted))
    del converted.graph.value_info[:]  # the converter leaves untyped entries; shape inference redoes them
    warnings.warn(f"opset {current} converted to {target} with onnx's version converter", OpsetUpgradeWarning,
                  stacklevel=3)
    return converted, f"opset {current} converted to {target}"


def _min_ir(model) -> int:
    from onnx import helper

    try:
        return int(helper.find_min_ir_version_for(list(model.opset_import), ignore_unknown=True))
    except Exception:  # noqa: BLE001 - unknown domains
        return 7


def name_nodes(model) -> dict[str, str]:
    """Give every unnamed or duplicate-named node a unique readable name, in place.

    An unnamed node ``k`` (position in the graph) of type ``Conv`` becomes
    ``conv_k``; a duplicate gets ``_1``, ``_2``... The names depend only on
    the graph, so they are the same on every import. Returns
    ``{new name: original name ("" if none)}`` for the renamed nodes. O(nodes).
    """
    used: set[str] = set()
    renamed: dict[str, str] = {}
    for k, node in enumerate(model.graph.node):
        base = node.name or f"{snake_case(node.op_type)}_{k}"
        name, j = base, 1
        while name in used:
            name, j = f"{base}_{j}", j + 1
        used.add(name)
        if name != node.name:
            renamed[name] = node.name
            node.name = name
    return renamed


def check_inference_graph(model) -> None:
    """Raise unless ``model`` is an inference graph with tensor outputs.

    Raises
    ------
    InstanceError
        For training operators (``Gradient``, ``Adam``... of the training
        domains) or outputs that are not tensors (sequences, maps) or none.
    """
    training = sorted({f"{n.op_type}" for n in model.graph.node if n.domain in _TRAINING_DOMAINS})
    if training:
        raise InstanceError(f"not an inference graph: it has training operators {training}", field="graph")
    if not model.graph.output:
        raise InstanceError("not an inference graph: it has no outputs", field="graph.output")
    odd = [o.name for o in model.graph.output if o.type.WhichOneof("value") not in (None, "tensor_type")]
    if odd:
        raise InstanceError(f"not an inference graph with tensor outputs: outputs {odd} are not tensors "
                            "(sequences or maps)", field="graph.output")


def fold_constants(model) -> int:
    """Replace nodes computed from constants only by initializers, in place.

    Uses ``onnx.reference.ReferenceEvaluator`` node by node in graph order
    (so chains such as ``Shape -> Gather -> Concat`` on static shapes and
    ``ConstantOfShape`` fold). ``Constant`` nodes (already constants to the
    importer), random operators, nodes with subgraphs and results above 64M
    elements are left as they are. Returns the number of
    nodes folded. O(nodes + work of the folded nodes).
    """
    from onnx import numpy_helper
    from onnx.reference import ReferenceEvaluator

    values = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    static = _static_shapes(model)
    keep, folded = [], 0
    for node in model.graph.node:
        inputs = [t for t in node.input if t]
        if node.op_type == "Shape" and inputs and inputs[0] in static and len(node.attribute) == 0:
            import numpy as np

            values[node.output[0]] = np.asarray(static[inputs[0]], dtype=np.int64)
            model.graph.initializer.append(numpy_helper.from_array(values[node.output[0]], node.output[0]))
            folded += 1
            continue
        foldable = (node.domain in ("", "ai.onnx") and node.op_type not in _RANDOM_OPS and node.op_type != "Constant"
                    and all(t in values for t in inputs)
                    and not any(a.HasField("g") or len(a.graphs) for a in node.attribute))
        if not foldable:
            keep.append(node)
            continue
        try:
            outputs = ReferenceEvaluator(node).run(None, {t: values[t] for t in inputs})
        except Exception:  # noqa: BLE001 - leave what the reference runtime cannot evaluate
            keep.append(node)
            continue
        if any(getattr(o, "size", 0) > _FOLD_LIMIT for o in outputs):
            keep.append(node)
            continue
        for name, value in zip(node.output, outputs):
            if name:
                values[name] = value
                model.graph.initializer.append(numpy_helper.from_array(value, name))
        folded += 1
    del model.graph.node[:]
    model.graph.node.extend(keep)
    return folded


def _static_shapes(model) -> dict[str, list[int]]:
    return {vi.name: [d.dim_value for d in vi.type.tensor_type.shape.dim]
            for vi in list(model.graph.input) + list(model.graph.value_info) if is_static(vi)}


def normalize_model(model, *, target_opset: int = TARGET_OPSET):
    """A copy of ``model`` that current runtimes run as an inference graph.

    Strips initializer inputs, checks it is an inference graph, upgrades old
    opsets and names nodes (see the module docstring). Never changes what the
    model computes.

    Returns
    -------
    (onnx.ModelProto, dict)
        The model and notes for the import's metadata: ``initializer_inputs``
        removed, ``opset`` conversion (or None), ``renamed_nodes`` count.

    Raises
    ------
    InstanceError
        If the model is not an inference graph.
    """
    onnx = require_onnx()
    copy = onnx.ModelProto()
    copy.CopyFrom(model)  # no serialized transient: one copy of the weights, not two
    model = copy
    removed = strip_initializer_inputs(model)
    check_inference_graph(model)
    model, opset_note = upgrade_opset(model, target_opset)
    renamed = name_nodes(model)
    return model, {"initializer_inputs_removed": removed, "opset": opset_note, "renamed_nodes": len(renamed)}
