"""Splits of graphs that trip ONNX tooling: untyped Loop outputs, float16 models (issue 18, cases 12 and 22)."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx import TensorProto as T, helper as h, numpy_helper  # noqa: E402

from formulations.partition.importers.onnx import import_onnx  # noqa: E402
from formulations.partition.importers.onnx_model import INSERTED_CAST_PREFIX  # noqa: E402
from solvers.split import split_onnx  # noqa: E402


def loop_model():
    """x -> relu -> Loop (3 x concat, so shape inference leaves its output without a shape) -> relu -> sum."""
    body = h.make_graph(
        [h.make_node("Concat", ["acc_in", "xin"], ["acc_out"], axis=0),
         h.make_node("Identity", ["cond_in"], ["cond_out"])],
        "body",
        [h.make_tensor_value_info("i", T.INT64, []), h.make_tensor_value_info("cond_in", T.BOOL, []),
         h.make_tensor_value_info("acc_in", T.FLOAT, ["n", 4])],
        [h.make_tensor_value_info("cond_out", T.BOOL, []), h.make_tensor_value_info("acc_out", T.FLOAT, ["n", 4])])
    nodes = [h.make_node("Relu", ["x"], ["xin"], name="relu_in"),
             h.make_node("Constant", [], ["trips"], value=h.make_tensor("tv", T.INT64, [], [3])),
             h.make_node("Constant", [], ["go"], value=h.make_tensor("gv", T.BOOL, [], [True])),
             h.make_node("Loop", ["trips", "go", "xin"], ["grown"], body=body, name="loop"),
             h.make_node("Relu", ["grown"], ["r"], name="relu_out"),
             h.make_node("ReduceSum", ["r"], ["y"], keepdims=1, name="total")]
    graph = h.make_graph(nodes, "loop", [h.make_tensor_value_info("x", T.FLOAT, [1, 4])],
                         [h.make_tensor_value_info("y", T.FLOAT, [1, 1])])
    return h.make_model(graph, opset_imports=[h.make_opsetid("", 13)])


def fp16_model():
    rng = np.random.default_rng(0)

    def weight(name, shape):
        return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float16), name)

    conv = {"pads": [1, 1, 1, 1], "kernel_shape": [3, 3]}
    nodes = [h.make_node("Conv", ["x", "w1"], ["c1"], name="conv1", **conv),
             h.make_node("Relu", ["c1"], ["r1"], name="relu1"),
             h.make_node("Conv", ["r1", "w2"], ["c2"], name="conv2", **conv),
             h.make_node("Sigmoid", ["c2"], ["s2"], name="sig"),
             h.make_node("GlobalAveragePool", ["s2"], ["y"], name="gap")]
    graph = h.make_graph(nodes, "fp16", [h.make_tensor_value_info("x", T.FLOAT16, [1, 3, 16, 16])],
                         [h.make_tensor_value_info("y", T.FLOAT16, [1, 8, 1, 1])],
                         [weight("w1", [8, 3, 3, 3]), weight("w2", [8, 8, 3, 3])])
    return h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])


def _splits(problem):
    """Every prefix split of a chain instance (device = the first k layers)."""
    names = list(problem.names)
    for k in range(1, len(names)):
        yield {"device": names[:k], "server": names[k:]}


def test_a_split_after_a_loop_whose_output_has_no_inferred_shape_writes_working_parts(tmp_path):
    """Before: onnx's checker raised ValidationError ('shape' of 'type' is required) for the sent Loop output."""
    path = tmp_path / "loop.onnx"
    onnx.save(loop_model(), path)
    inferred = onnx.shape_inference.infer_shapes(onnx.load(path))
    grown = [vi for vi in inferred.graph.value_info if vi.name == "grown"]
    assert not grown or not grown[0].type.tensor_type.HasField("shape")  # the case: no inferred shape
    problem = import_onnx(path, device_profile="phone-cpu", server_profile="datacentre-gpu", optimize="none")
    records = [split_onnx(path, problem, tmp_path / f"out{k}", assignment=a) for k, a in enumerate(_splits(problem))]
    sent = {s["tensor"]: s["bytes"] for r in records for s in r["sent"]}
    assert sent["grown"] == 4 * 4 * 4  # the probe's bytes: 1 + 3 rows of 4 float32
    assert all(r["reproduction_error"] < 1 for r in records)
    k = next(k for k, r in enumerate(records) if [s["tensor"] for s in r["sent"]] == ["grown"])
    server = onnx.load(tmp_path / f"out{k}" / "server.onnx")
    assert [i.name for i in server.graph.input] == ["grown"]
    assert len(server.graph.input[0].type.tensor_type.shape.dim) == 2


@pytest.mark.parametrize("optimize", ["basic", "fuse"])
def test_a_float16_model_imports_and_splits_with_its_own_tensor_names_and_bytes(tmp_path, optimize):
    """Before: onnxruntime's inserted casts became layers and split.json sent `InsertedPrecisionFreeCast_*`
    float32 tensors (twice the model's bytes) that are not in the user's model."""
    model = fp16_model()
    path = tmp_path / "fp16.onnx"
    onnx.save(model, path)
    problem = import_onnx(path, device_profile="phone-cpu", server_profile="datacentre-gpu", optimize=optimize)
    user_tensors = {t for node in model.graph.node for t in node.output} | {"x"}
    layer_tensors = {t for layer in problem.layers for t in layer.meta["tensors"]}
    assert layer_tensors <= user_tensors and not any(INSERTED_CAST_PREFIX in n for n in problem.names)
    conv1 = problem.layers[problem.names.index("conv1")]
    assert conv1.output_bytes == 8 * 16 * 16 * 2  # float16
    for k, assignment in enumerate(_splits(problem)):
        record = split_onnx(path, problem, tmp_path / f"out{k}", assignment=assignment)
        assert record["reproduction_error"] < 1
        for sent in record["sent"]:
            assert sent["tensor"] in user_tensors
            assert sent["bytes"] == problem.layers[problem.names.index(assignment["device"][-1])].output_bytes
        device = onnx.load(tmp_path / f"out{k}" / "device.onnx")
        assert all(o.type.tensor_type.elem_type == T.FLOAT16 for o in device.graph.output)
