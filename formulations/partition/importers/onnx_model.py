"""Reading ONNX models and fixing their shapes (part of the ONNX importer).

:func:`read_model` loads and checks a file, naming it in every error;
:func:`prepare_model` fixes the input shapes (a dynamic input without a given
shape is an error asking for ``--input-shape``), optionally applies
onnxruntime's basic graph optimizations, names every node uniquely and runs
ONNX shape inference. Needs the ``onnx`` extra.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from ...errors import InstanceError
from .extras import require_onnx
from .onnx_normalize import is_static

__all__ = ["read_model", "parse_input_shape", "prepare_model", "prepare_model_with_notes", "ort_load_error", "graph_inputs", "is_static", "require_onnx"]


# ----------------------------------------------------------------- reading
def _load_external_data(model, path: Path) -> None:
    """Read weights kept beside the model (``external_data``) into it, from the model's own folder,
    so import works from any working directory and split parts are self-contained files."""
    from onnx.external_data_helper import load_external_data_for_model, uses_external_data

    if not any(uses_external_data(t) for t in model.graph.initializer):
        return
    try:
        load_external_data_for_model(model, str(path.parent))
    except (OSError, ValueError) as exc:
        raise InstanceError(f"cannot read the model's external weights next to it: {exc}", file=str(path)) from None


def read_model(source) -> Any:
    """Load an ONNX model from a path, bytes or ``ModelProto`` and check it.

    Raises
    ------
    InstanceError
        Naming the file, for a missing, truncated, corrupt or invalid model.
    """
    onnx = require_onnx()
    if isinstance(source, onnx.ModelProto):
        model, file = source, None
    else:
        file = None if isinstance(source, (bytes, bytearray)) else str(source)
        try:
            data = bytes(source) if file is None else Path(file).read_bytes()
        except FileNotFoundError:
            raise InstanceError("no such file", file=file) from None
        except OSError as exc:
            raise InstanceError(f"cannot read: {exc}", file=file) from None
        if not data:
            raise InstanceError("empty file, not an ONNX model", file=file)
        try:
            model = onnx.load_model_from_string(data)
        except Exception as exc:  # protobuf's DecodeError and friends
            raise InstanceError(f"not a valid ONNX model (truncated or corrupt?): {exc}", file=file) from None
        if file is not None:
            _load_external_data(model, Path(file))
    if not model.graph.node:
        raise InstanceError("the ONNX graph has no nodes (truncated or not an ONNX model?)", field="graph.node",
                            file=file)
    try:
        onnx.checker.check_model(model)
    except Exception as exc:  # onnx.checker.ValidationError
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InstanceError(f"invalid ONNX model: {first}", field="graph", file=file) from None
    return model


def parse_input_shape(text: str | Mapping | Sequence | None) -> dict[str, list[int]] | list[int] | None:
    """Parse ``--input-shape``: ``"1,3,224,224"`` or ``"x:1,3,224,224;mask:1,128"``.

    Returns a list (the shape of the single dynamic input) or a dict by input
    name. Mappings and sequences pass through (validated later).
    """
    if text is None or not isinstance(text, str):
        return text  # type: ignore[return-value]

    def dims(part: str, fld: str) -> list[int]:
        try:
            out = [int(d) for d in part.replace("x", ",").split(",") if d.strip()]
        except ValueError:
            raise InstanceError(f"expected comma-separated integers, got {part!r}", field=fld) from None
        if not out or any(d <= 0 for d in out):
            raise InstanceError(f"dimensions must be positive integers, got {part!r}", field=fld)
        return out

    if ":" not in text:
        return dims(text, "input_shape")
    shapes = {}
    for item in text.split(";"):
        if item.strip():
            name, _, part = item.rpartition(":")
            shapes[name.strip()] = dims(part, f"input_shape.{name.strip()}")
    return shapes


def graph_inputs(model) -> list:
    """The graph inputs that are not initializers."""
    inits = {t.name for t in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in inits]


def _fix_inputs(model, input_shape) -> None:
    """Set every graph input's dims in place; error when one stays dynamic."""
    inputs = graph_inputs(model)
    if isinstance(input_shape, (list, tuple)):
        dynamic = [i.name for i in inputs if not is_static(i)]
        if len(inputs) == 1:
            input_shape = {inputs[0].name: list(input_shape)}
        elif len(dynamic) == 1:
            input_shape = {dynamic[0]: list(input_shape)}
        else:
            raise InstanceError(f"the model has inputs {[i.name for i in inputs]}; name them, e.g. "
                                f"--input-shape '{inputs[0].name}:1,3,224,224;...'", field="input_shape")
    input_shape = dict(input_shape or {})
    known = {i.name for i in inputs}
    for nm in input_shape:
        if nm not in known:
            raise InstanceError(f"no graph input named {nm!r}; inputs: {sorted(known)}", field="input_shape")
    for inp in inputs:
        dims = inp.type.tensor_type.shape.dim
        if inp.name in input_shape:
            shape = [int(d) for d in input_shape[inp.name]]
            if len(dims) and len(dims) != len(shape):
                raise InstanceError(f"input {inp.name!r} has rank {len(dims)}, got shape {shape}",
                                    field=f"input_shape.{inp.name}")
            del dims[:]
            for d in shape:
                dims.add().dim_value = d
        elif not is_static(inp):
            shown = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in dims]
            raise InstanceError(
                f"input {inp.name!r} has a dynamic shape {shown}; give a static shape with "
                f"--input-shape (e.g. --input-shape {inp.name}:"
                f"{','.join(str(s) if isinstance(s, int) and s > 0 else '1' for s in shown) or '1'})",
                field="input_shape")


def prepare_model(model, *, input_shape=None, optimize: str = "basic"):
    """Static-shaped copy of ``model``, optimized, with unique node names.

    See :func:`prepare_model_with_notes` (this drops the notes).
    """
    return prepare_model_with_notes(model, input_shape=input_shape, optimize=optimize)[0]


def prepare_model_with_notes(model, *, input_shape=None, optimize: str = "basic"):
    """Static-shaped copy of ``model``, optimized, with unique node names, and notes.

    First :func:`~formulations.partition.importers.onnx_normalize.normalize_model`
    (initializer inputs are constants, old opsets upgraded, unnamed nodes
    named ``conv_12``...), then the input shapes are fixed.

    Parameters
    ----------
    input_shape : list or dict, optional
        Shapes for dynamic inputs (see :func:`parse_input_shape`).
    optimize : {"basic", "fuse", "none"}
        ``"basic"``: onnxruntime's basic graph optimizations first (needs
        onnxruntime; folds constants, fuses Conv+BatchNorm), so each layer is
        what the runtime executes. ``"fuse"``: the same here (the importer
        then also merges the groups the runtime fuses, see
        :func:`formulations.partition.importers.onnx_graph.fuse_groups`). ``"none"``:
        the graph as written but for constant subgraphs. Those (and, when
        onnxruntime cannot load the model, all constants) are folded with
        onnx's reference evaluator; ``notes["ort_error"]`` says why
        onnxruntime could not.

    Returns
    -------
    (onnx.ModelProto, dict)
        The prepared model and the notes of
        :func:`~formulations.partition.importers.onnx_normalize.normalize_model` plus
        ``ort_error`` (None when onnxruntime loads the model).

    Raises
    ------
    InstanceError
        For a dynamic input without a given shape (asks for ``--input-shape``)
        or a model that is not an inference graph.
    """
    onnx = require_onnx()
    from .onnx_normalize import fold_constants, name_nodes, normalize_model

    if optimize not in ("basic", "fuse", "none"):
        raise ValueError(f"`optimize` must be 'basic', 'fuse' or 'none', got {optimize!r}")
    model, notes = normalize_model(model)
    _fix_inputs(model, parse_input_shape(input_shape))
    notes["ort_error"] = None
    if optimize in ("basic", "fuse"):
        from .profiling import optimize_model

        try:
            model = onnx.load_model_from_string(optimize_model(model.SerializeToString(), "basic"))
            notes["inserted_casts"] = undo_inserted_casts(model)
        except ImportError:
            raise
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
            notes["ort_error"] = _ort_message(exc)
    else:
        notes["ort_error"] = ort_load_error(model.SerializeToString())
    if notes["ort_error"] is not None or optimize == "none":
        model = _infer(model)
        notes["folded_nodes"] = fold_constants(model)
    name_nodes(model)
    return _infer(model), notes


#: Prefix of the Cast nodes and tensors onnxruntime's CPU provider inserts to run float16 ops in float32.
INSERTED_CAST_PREFIX = "InsertedPrecisionFreeCast_"


def undo_inserted_casts(model) -> int:
    """Remove onnxruntime's inserted precision casts; the user's tensor names and dtypes come back.

    onnxruntime's CPU provider has no float16 kernels for most operators, so
    its optimized graph casts a float16 model to float32 around them
    (``InsertedPrecisionFreeCast_<tensor>``) and drops the cast pairs between
    such operators. Layers named after those tensors are not in the user's
    model, and their float32 bytes are twice what the model sends. This
    drops every inserted Cast node, renames ``InsertedPrecisionFreeCast_t``
    back to ``t`` and clears the float32 value types (shape inference
    restores the model's own), in place. The runtime inserts the same casts
    when it runs the result, so timings are unchanged. O(nodes). Returns the
    number of Cast nodes removed.
    """
    prefix = INSERTED_CAST_PREFIX
    rename: dict[str, str] = {}
    kept, dropped = [], 0
    for node in model.graph.node:
        if node.op_type == "Cast" and any(t.startswith(prefix) for t in list(node.input) + list(node.output)):
            (src,), (dst,) = node.input, node.output
            if dst.startswith(prefix):
                rename[dst] = src
            else:
                rename[src] = dst
            dropped += 1
        else:
            kept.append(node)
    if not dropped and not any(t.startswith(prefix) for n in kept for t in n.output):
        return 0
    for node in kept:
        for field in (node.input, node.output):
            for k, t in enumerate(field):
                field[k] = rename.get(t, t[len(prefix):] if t.startswith(prefix) else t)
    del model.graph.node[:]
    model.graph.node.extend(kept)
    del model.graph.value_info[:]
    return dropped


def ort_load_error(model_bytes: bytes) -> str | None:
    """Why onnxruntime cannot load a model (one line), or None when it can."""
    try:
        from .profiling import _session
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    try:
        _session(model_bytes, level="none")
    except ImportError:
        return None
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
        return _ort_message(exc)
    return None


def _ort_message(exc: Exception) -> str:
    """The useful line of an onnxruntime error (no source paths)."""
    import re

    text = " ".join(str(exc).split())
    text = re.sub(r"\[ONNXRuntimeError\] : \d+ : \w+ : ", "", text)
    text = re.sub(r"/onnxruntime_src/\S+ ", "", text)
    text = text.replace("Exception during initialization: ", "")
    return text[:200]


def _infer(model):
    onnx = require_onnx()
    try:
        return onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception as exc:  # shape inference errors in a malformed model
        raise InstanceError(f"ONNX shape inference failed: {str(exc).splitlines()[0]}", field="graph") from None
