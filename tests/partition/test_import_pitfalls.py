"""ONNX import of files as users have them: each pitfall of issue 11 on a small graph built here.

IR-3 initializer inputs, constant subgraphs, old opsets, nodes onnxruntime
cannot run, training graphs, non-tensor outputs, unnamed nodes, the input's
real size (``--input-bytes`` / ``--input-dtype``), measurement-quality
warnings and progress with an ETA.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from formulations.errors import InstanceError  # noqa: E402
from formulations.partition.importers.onnx import (  # noqa: E402
    MeasurementQualityWarning,
    UnmeasuredNodeWarning,
    _quality_warnings,
    import_onnx,
)
from formulations.partition.importers.onnx_normalize import (  # noqa: E402
    OpsetUpgradeWarning,
    fold_constants,
    normalize_model,
    snake_case,
)
from solvers import cli  # noqa: E402
from solvers.cli.framework import ProgressBar  # noqa: E402

F32 = 4


def _vi(name, shape, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def _weight(name, shape, seed=0):
    return numpy_helper.from_array(np.random.default_rng(seed).standard_normal(shape).astype(np.float32), name)


def ir3_model():
    """An IR-3, opset-9 file as the model zoo's light files are: weights and a shape tensor as graph inputs.

    ``w`` comes from ``ConstantOfShape(w_SHAPE)``, ``b`` is an initializer;
    both also appear in graph.input.
    """
    shape = numpy_helper.from_array(np.array([8, 4, 3, 3], dtype=np.int64), "w_SHAPE")
    bias = _weight("b", [8])
    nodes = [helper.make_node("ConstantOfShape", ["w_SHAPE"], ["w"],
                              value=numpy_helper.from_array(np.array([0.1], dtype=np.float32))),
             helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Add", ["r", "c"], ["y"])]
    inputs = [_vi("x", [1, 4, 8, 8]), _vi("w_SHAPE", [4], TensorProto.INT64), _vi("b", [8])]
    graph = helper.make_graph(nodes, "old", inputs, [_vi("y", [1, 8, 8, 8])], [shape, bias])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)])
    model.ir_version = 3
    return model


def old_opset_model():
    """IR 3, opset 6 (``Add(6)`` with ``broadcast``, ``Relu(6)``): no kernels in current onnxruntime."""
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Add", ["r", "bias"], ["y"], broadcast=1, axis=1)]
    graph = helper.make_graph(nodes, "old6", [_vi("x", [1, 4, 8, 8]), _vi("w", [8, 4, 3, 3]), _vi("bias", [8])],
                              [_vi("y", [1, 8, 8, 8])], [_weight("w", [8, 4, 3, 3]), _weight("bias", [8], 1)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 6)])
    model.ir_version = 3
    return model


def test_ir3_initializer_inputs_are_constants_not_inputs_or_layers():
    p = import_onnx(ir3_model(), runs=1, warmup=0)
    inputs = [layer.name for layer in p.layers if layer.op == "Input"]
    assert inputs == ["x"]  # neither w_SHAPE nor b is an input to feed or a layer
    assert [layer.op for layer in p.layers] == ["Input", "Conv", "Relu", "Add"]  # ConstantOfShape folded
    assert p.metadata["device_costs"]["model"] == "measured"
    assert p.metadata["import"]["normalize"]["initializer_inputs_removed"] == 2
    assert p.layers[p.index["conv_1"]].memory_bytes == (8 * 4 * 9 + 8) * F32  # the folded weight counts


def test_old_opset_is_upgraded_and_measured():
    import onnxruntime as ort

    with pytest.raises(Exception):  # the premise: onnxruntime rejects the file as written
        ort.InferenceSession(old_opset_model().SerializeToString(), providers=["CPUExecutionProvider"])
    with pytest.warns(OpsetUpgradeWarning, match="opset 6 converted to 13"):
        p = import_onnx(old_opset_model(), runs=1, warmup=0)
    assert [layer.op for layer in p.layers] == ["Input", "Conv", "Relu", "Add"]
    assert p.metadata["device_costs"]["model"] == "measured"
    assert "converted to 13" in p.metadata["import"]["normalize"]["opset"]


def test_unnamed_nodes_get_stable_readable_names_and_keep_their_tensors():
    first = import_onnx(ir3_model(), device_profile="phone-cpu", optimize="none")
    second = import_onnx(ir3_model(), device_profile="phone-cpu", optimize="none")
    assert first.names == second.names == ["x", "conv_1", "relu_2", "add_3"]
    meta = {layer.name: layer.meta for layer in first.layers}
    assert meta["conv_1"]["tensors"] == ["c"] and meta["conv_1"]["onnx_nodes"] == ["conv_1"]
    assert meta["x"] == {"tensors": ["x"], "onnx_input": "x"}
    assert snake_case("BatchNormalization") == "batch_normalization" and snake_case("MatMul") == "mat_mul"


def test_constant_subgraphs_fold_and_are_not_layers():
    """Shape -> Gather -> Concat -> Reshape and ConstantOfShape -> Add: only Reshape and Add are layers."""
    idx = numpy_helper.from_array(np.array(0, dtype=np.int64), "zero")
    minus = numpy_helper.from_array(np.array([-1], dtype=np.int64), "minus1")
    nodes = [helper.make_node("Shape", ["x"], ["s"], name="shape"),
             helper.make_node("Gather", ["s", "zero"], ["n"], name="gather", axis=0),
             helper.make_node("Unsqueeze", ["n", "axes"], ["n1"], name="unsq"),
             helper.make_node("Concat", ["n1", "minus1"], ["target"], name="concat", axis=0),
             helper.make_node("Reshape", ["x", "target"], ["flat"], name="reshape"),
             helper.make_node("ConstantOfShape", ["fshape"], ["ones"], name="cos",
                              value=numpy_helper.from_array(np.array([1.0], dtype=np.float32))),
             helper.make_node("Add", ["flat", "ones"], ["y"], name="add")]
    inits = [idx, minus, numpy_helper.from_array(np.array([0], dtype=np.int64), "axes"),
             numpy_helper.from_array(np.array([2, 12], dtype=np.int64), "fshape")]
    graph = helper.make_graph(nodes, "g", [_vi("x", [2, 3, 4])], [_vi("y", [2, 12])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    for optimize in ("none", "basic"):
        p = import_onnx(model, device_profile="phone-cpu", optimize=optimize)
        assert [layer.op for layer in p.layers] == ["Input", "Reshape", "Add"], optimize
    # the reference-evaluator fallback folds the same chain when onnxruntime is not used
    static = onnx.shape_inference.infer_shapes(model)
    assert fold_constants(static) == 5
    assert [n.op_type for n in static.graph.node] == ["Reshape", "Add"]


def unrunnable_model():
    """A Relu then an operator of a custom domain onnxruntime has no kernel for."""
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node("Mystery", ["r"], ["y"], name="mystery", domain="com.example")]
    graph = helper.make_graph(nodes, "g", [_vi("x", [1, 16])], [_vi("y", [1, 16])], value_info=[_vi("r", [1, 16])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                   helper.make_opsetid("com.example", 1)])


def test_nodes_onnxruntime_cannot_run_get_roofline_costs_with_a_warning_naming_them():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        p = import_onnx(unrunnable_model(), runs=1, warmup=0)
    messages = [str(w.message) for w in caught if issubclass(w.category, UnmeasuredNodeWarning)]
    assert len(messages) == 1 and "Mystery" in messages[0] and "'phone-cpu' roofline" in messages[0]
    assert p.metadata["device_costs"]["model"].startswith("roofline")
    assert p.layers[p.index["relu"]].device_ms > 0
    assert p.layers[p.index["mystery"]].output_bytes == 16 * F32


def test_unrunnable_model_through_the_cli_warns_and_exits_0(tmp_path, capsys):
    path = tmp_path / "mystery.onnx"
    onnx.save(unrunnable_model(), path)
    code = cli.main(["import", str(path), "--runs", "1", "--warmup", "0", "--quiet", "-o", str(tmp_path / "m.json")])
    err = capsys.readouterr().err
    assert code == 0 and f"warning: {path}: onnxruntime cannot run this model" in err and "Mystery" in err
    assert "Traceback" not in err and "internal error" not in err


def training_model():
    nodes = [helper.make_node("Add", ["a", "b"], ["c"], name="add"),
             helper.make_node("Gradient", ["a", "b"], ["da", "db"], name="grad", domain="ai.onnx.preview.training",
                              xs=["a", "b"], y="c")]
    graph = helper.make_graph(nodes, "g", [_vi("a", [1]), _vi("b", [1])], [_vi("c", [1]), _vi("da", [1]),
                                                                          _vi("db", [1])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                   helper.make_opsetid("ai.onnx.preview.training", 1)])


def sequence_output_model():
    nodes = [helper.make_node("SequenceConstruct", ["x", "x"], ["seq"], name="mkseq")]
    seq = helper.make_tensor_sequence_value_info("seq", TensorProto.FLOAT, [2])
    graph = helper.make_graph(nodes, "g", [_vi("x", [2])], [seq])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("build, words", [(training_model, "training operators ['Gradient']"),
                                          (sequence_output_model, "outputs ['seq'] are not tensors")])
def test_non_inference_graphs_exit_2_with_one_line_naming_the_file(tmp_path, capsys, build, words):
    path = tmp_path / "notinference.onnx"
    onnx.save(build(), path)
    code = cli.main(["import", str(path), "--runs", "1", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"error: {path}") and "not an inference graph" in err and words in err
    with pytest.raises(InstanceError, match="not an inference graph"):
        normalize_model(build())


def test_input_bytes_and_dtype_set_the_input_layers_output_bytes(tmp_path, capsys):
    base = import_onnx(ir3_model(), device_profile="phone-cpu")
    assert base.layers[0].output_bytes == 4 * 64 * F32
    as_uint8 = import_onnx(ir3_model(), device_profile="phone-cpu", input_dtype="uint8")
    assert as_uint8.layers[0].output_bytes == 4 * 64
    assert as_uint8.metadata["import"]["input_dtype"] == "uint8"
    jpeg = import_onnx(ir3_model(), device_profile="phone-cpu", input_bytes=123)
    assert jpeg.layers[0].output_bytes == 123 and jpeg.metadata["import"]["input_bytes"] == 123
    assert jpeg.layers[1:] == base.layers[1:]  # nothing else changes
    path = tmp_path / "m.onnx"
    onnx.save(ir3_model(), path)
    code = cli.main(["import", str(path), "--device-profile", "phone-cpu", "--input-dtype", "float16", "--quiet",
                     "-o", str(tmp_path / "m.json")])
    assert code == 0
    for bad, words in ((["--input-dtype", "nonsense"], "unknown dtype 'nonsense'"),
                       (["--input-bytes", "0"], "must be a positive number of bytes")):
        code = cli.main(["import", str(path), "--device-profile", "phone-cpu", "--quiet", *bad])
        err = capsys.readouterr().err
        assert code == 2 and words in err and str(path) in err


def test_quality_warnings_fire_on_fused_gap_and_wide_spread_only():
    medians = np.array([2.0, 3.0, 5.0])  # sum 10 ms
    tight = {"a": (1.9, 2.1), "b": (2.9, 3.1), "c": (4.9, 5.1)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _quality_warnings({"whole_model_ms_all_opt": 9.0}, tight, medians) == []
    with pytest.warns(MeasurementQualityWarning) as caught:
        messages = _quality_warnings({"whole_model_ms_all_opt": 6.0}, {"a": (1.0, 4.0), "b": (2.0, 4.0)}, medians)
    assert len(messages) == 2 == len(caught)
    assert "exceeds the whole model" in messages[0] and "--optimize fuse" in messages[0] and "67%" in messages[0]
    assert "wide spread" in messages[1] and "--realtime" in messages[1]


def test_progress_names_what_is_measured_and_shows_an_eta(monkeypatch):
    clock = iter([0.0, 5.0, 10.0])
    monkeypatch.setattr("time.monotonic", lambda: next(clock))
    stream = io.StringIO()
    stream.isatty = lambda: True
    bar = ProgressBar(stream)
    for done in (1, 2, 3):
        bar(done, 11, "runs profiling 120 layers")
    text = stream.getvalue()
    assert "3/11 runs profiling 120 layers ETA 40s" in text  # 5 s per run since the first, 8 runs left
    assert "1/11 runs profiling 120 layers\x1b[K" in text  # no ETA before a rate is known
