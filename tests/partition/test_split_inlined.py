"""Splitting a model whose imported graph renames tensors (onnxruntime inlines HardSwish).

The import profiles onnxruntime's basic-optimized graph; there a function op
such as HardSwish is inlined into nodes whose outputs (``_inlfunc_...``) do
not exist in the file. ``split_onnx`` must still cut the model where the
instance says (found on torchvision's MobileNetV3, ``bench_onnx_suite.py``).
"""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from formulations.errors import InstanceError  # noqa: E402
from formulations.partition import PartitionProblem  # noqa: E402
from formulations.partition.importers.onnx import import_onnx  # noqa: E402
from formulations.partition.importers.onnx_split import (  # noqa: E402
    device_tensors,
    instance_tensors,
    load_for_split,
    split_model,
)
from solvers.split import split_onnx  # noqa: E402


def hardswish_model():
    """x -> conv1 -> HardSwish -> conv2 -> HardSwish -> global average pool -> ``logits``; random weights."""
    conv = {"pads": [1, 1, 1, 1], "kernel_shape": [3, 3]}
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)
             for name, shape in (("w1", [8, 3, 3, 3]), ("w2", [8, 8, 3, 3]))]
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"], name="conv1", **conv),
             helper.make_node("HardSwish", ["c1"], ["h1"], name="hs1"),
             helper.make_node("Conv", ["h1", "w2"], ["c2"], name="conv2", **conv),
             helper.make_node("HardSwish", ["c2"], ["h2"], name="hs2"),
             helper.make_node("GlobalAveragePool", ["h2"], ["logits"], name="gap")]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 8, 1, 1])]
    graph = helper.make_graph(nodes, "hardswish", inputs, outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.fixture
def imported(tmp_path):
    path = tmp_path / "hs.onnx"
    onnx.save(hardswish_model(), path)
    problem = import_onnx(path, device_profile="phone-cpu", server_profile="datacentre-gpu")
    return path, problem


def test_the_instance_names_tensors_the_file_lacks(imported):
    path, problem = imported
    written = {t for node in onnx.load(path).graph.node for t in node.output}
    assert not instance_tensors(problem) <= written  # the case this file is about
    plain = load_for_split(path, problem.metadata["import"]["input_shapes"])  # no names given: the file's graph
    with pytest.raises(InstanceError, match="meta.tensors"):
        split_model(plain, device_tensors(problem, {"device": [layer.name for layer in problem.layers]}))


@pytest.mark.parametrize("cut", range(1, 6))
def test_every_cut_vertex_split_reproduces_the_model(imported, tmp_path, cut):
    path, problem = imported
    cuts = problem.cut_vertices
    if cut >= len(cuts):
        pytest.skip(f"{len(cuts)} cut vertices")
    middle = cuts[cut]
    successors = sorted({v for u, v in problem.edges if u == middle})
    pinned = PartitionProblem(problem.layers, problem.edges, problem.network,
                              pinned={"device": [middle], "server": successors}, metadata=problem.metadata)
    record = split_onnx(path, pinned, tmp_path / "out")
    assert middle in record["device_layers"] and set(successors) <= set(record["server_layers"])
    assert record["reproduction_error"] < 1
    assert sum(s["bytes"] for s in record["sent"]) == record["predicted"]["uplink_bytes"]
