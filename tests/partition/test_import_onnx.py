"""ONNX import: graphs built with onnx.helper (no torch needed).

Checks layers, edges, bytes, FLOPs and costs against values computed by hand,
and every kind of bad input (corrupt, truncated, dynamic shapes, unknown
profile, unknown operator).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import solvers  # noqa: E402
from formulations.errors import InstanceError  # noqa: E402
from formulations.partition.importers.onnx import UnknownOperatorWarning, import_onnx, onnx_graph, prepare_model  # noqa: E402
from formulations.partition.importers.profiles import get_profile  # noqa: E402
from formulations.partition import PartitionProblem  # noqa: E402
from tests.helpers import FIXTURES

BROKEN = FIXTURES / "broken" / "onnx"
F32 = 4  # bytes per float32


def _model(nodes, inputs, outputs, inits=(), opset=17):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _weight(name, shape, seed=0):
    data = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return numpy_helper.from_array(data, name)


def residual_model(batch=1):
    """x -> conv -> {relu, sigmoid} -> add (residual) -> concat(add, conv) ; add -> gap.

    Two graph outputs (``cat`` and ``gap``); a Constant feeding ``scale`` and
    a dead node (``unused``) that no output depends on.
    """
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 4, 8, 8])
    outs = [helper.make_tensor_value_info("cat", TensorProto.FLOAT, [batch, 16, 8, 8]),
            helper.make_tensor_value_info("gap", TensorProto.FLOAT, [batch, 8, 1, 1])]
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Sigmoid", ["c"], ["s"], name="sig"),
        helper.make_node("Constant", [], ["k"], name="const",
                         value=numpy_helper.from_array(np.array(2.0, dtype=np.float32))),
        helper.make_node("Mul", ["s", "k"], ["sk"], name="scale"),
        helper.make_node("Add", ["r", "sk"], ["a"], name="add"),
        helper.make_node("Concat", ["a", "c"], ["cat"], name="concat", axis=1),
        helper.make_node("GlobalAveragePool", ["a"], ["gap"], name="gap"),
        helper.make_node("Neg", ["r"], ["dead"], name="unused"),
    ]
    return _model(nodes, [x], outs, [_weight("w", [8, 4, 3, 3])])


def test_layers_edges_bytes_of_branches_residual_concat_multiple_outputs():
    g = onnx_graph(prepare_model(residual_model(), optimize="none"))
    assert g.names == ["x", "conv", "relu", "sig", "scale", "add", "concat", "gap"]
    assert set(g.edges) == {("x", "conv"), ("conv", "relu"), ("conv", "sig"), ("sig", "scale"), ("relu", "add"),
                            ("scale", "add"), ("add", "concat"), ("conv", "concat"), ("add", "gap")}
    assert len(g.edges) == len(set(g.edges))
    out = dict(zip(g.names, g.output_bytes))
    act = 8 * 8 * 8 * F32  # an 8-channel 8x8 float map
    assert out == {"x": 4 * 64 * F32, "conv": act, "relu": act, "sig": act, "scale": act, "add": act,
                   "concat": 2 * act, "gap": 8 * F32}
    assert g.constant_nodes == 1 and g.dead_nodes == 1
    weights = dict(zip(g.names, g.weight_bytes))
    assert weights["conv"] == 8 * 4 * 9 * F32 and weights["relu"] == 0
    flops = dict(zip(g.names, g.flops))
    assert flops["conv"] == 2 * (8 * 64) * 4 * 9
    assert flops["relu"] == 8 * 64 and flops["gap"] == 8 * 64 and flops["concat"] == 0
    assert g.work == [False] + [True] * 7


def test_multi_output_node_sends_only_used_outputs():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 6])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 3])
    split = helper.make_tensor("parts", TensorProto.INT64, [3], [2, 3, 1])
    nodes = [helper.make_node("Split", ["x", "parts"], ["a", "b", "c"], name="split", axis=1),
             helper.make_node("Relu", ["a"], ["y"], name="ra"),
             helper.make_node("Relu", ["b"], ["z"], name="rb")]
    g = onnx_graph(prepare_model(_model(nodes, [x], [y, z], [split]), optimize="none"))
    out = dict(zip(g.names, g.output_bytes))
    assert out["split"] == (2 + 3) * F32  # output c is unused: never sent
    assert set(g.edges) == {("x", "split"), ("split", "ra"), ("split", "rb")}


def test_integer_dtypes_size_tensors():
    x = helper.make_tensor_value_info("x", TensorProto.INT64, [2, 5])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT16, [2, 5])
    nodes = [helper.make_node("Cast", ["x"], ["y"], name="cast", to=TensorProto.FLOAT16)]
    g = onnx_graph(prepare_model(_model(nodes, [x], [y]), optimize="none"))
    assert dict(zip(g.names, g.output_bytes)) == {"x": 10 * 8, "cast": 10 * 2}


def test_data_dependent_shapes_are_read_off_a_run():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [5])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, "n"])
    nodes = [helper.make_node("NonZero", ["x"], ["nz"], name="nonzero"),
             helper.make_node("Cast", ["nz"], ["y"], name="cast", to=TensorProto.FLOAT)]
    g = onnx_graph(prepare_model(_model(nodes, [x], [y]), optimize="none"))
    # the timing input is standard normal, so all 5 entries are nonzero: a 1 x 5 int64 index tensor
    assert dict(zip(g.names, g.output_bytes)) == {"x": 5 * F32, "nonzero": 5 * 8, "cast": 5 * F32}


def test_roofline_costs_match_the_formula():
    p = import_onnx(residual_model(), device_profile="phone-cpu", server_profile="edge-gpu", optimize="none")
    phone, edge = get_profile("phone-cpu"), get_profile("edge-gpu")
    conv = p.layers[p.index["conv"]]
    moved = (4 * 64 + 8 * 4 * 9 + 8 * 64) * F32  # input + weights + output bytes
    for prof, value in ((phone, conv.device_ms), (edge, conv.server_ms)):
        expect = prof.overhead_us / 1000 + max(conv.flops / (prof.peak_gflops * prof.efficiency * 1e6),
                                               moved / (prof.memory_gbps * prof.efficiency * 1e6))
        assert value == pytest.approx(expect, rel=1e-3)
    assert p.layers[p.index["x"]].device_ms == 0 and p.layers[p.index["x"]].server_ms == 0
    assert p.metadata["device_costs"]["profile"] == "phone-cpu"
    assert p.metadata["server_costs"]["sources"]


def test_measured_import_round_trips_and_solves(tmp_path):
    path = tmp_path / "res.onnx"
    onnx.save(residual_model(), path)
    p = import_onnx(path, runs=3, warmup=1, prefixes=2, device_costs="additive")
    assert p.inputs == ["x"] and sorted(p.outputs) == ["concat", "gap"]
    assert (p.device_ms[1:] > 0).all()
    lat = p.metadata["latency"]
    assert lat["whole_model_ms_none_opt"] > 0 and lat["sum_of_layers_ms"] == pytest.approx(p.device_ms.sum(), rel=1e-3)
    assert 1 <= len(lat["prefixes"]) <= 2
    assert p.metadata["source"]["sha256"] and p.metadata["device_costs"]["runs"] == 3
    q = PartitionProblem.from_dict(json.loads(json.dumps(p.to_dict())))
    assert q.names == p.names and q.edges == p.edges
    for m in ("qdmp", "mincut"):
        sol = solvers.solve(q.with_network(uplink_mbps=100.0), method=m)
        assert sol.status.value == "optimal"


def test_realtime_priority_is_restored_and_recorded():
    import os

    from formulations.partition.importers.profiling import realtime_priority

    before = os.sched_getscheduler(0) if hasattr(os, "sched_getscheduler") else None
    with realtime_priority(True) as raised:
        assert isinstance(raised, bool)
        if raised:
            assert os.sched_getscheduler(0) == os.SCHED_FIFO
    if before is not None:
        assert os.sched_getscheduler(0) == before
    with realtime_priority(False) as raised:
        assert raised is False
    p = import_onnx(residual_model(), runs=2, warmup=1, realtime=True, optimize="none")
    assert isinstance(p.metadata["device_costs"]["realtime_priority"], bool)


def test_basic_optimization_fuses_conv_batchnorm():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 8, 8])
    bn = [numpy_helper.from_array(np.full(8, v, np.float32), n) for n, v in
          (("gamma", 1.0), ("beta", 0.0), ("mean", 0.0), ("var", 1.0))]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "gamma", "beta", "mean", "var"], ["b"], name="bn"),
             helper.make_node("Relu", ["b"], ["y"], name="relu")]
    model = _model(nodes, [x], [y], [_weight("w", [8, 4, 3, 3])] + bn)
    plain = onnx_graph(prepare_model(model, optimize="none"))
    fused = onnx_graph(prepare_model(model, optimize="basic"))
    assert plain.ops == ["Input", "Conv", "BatchNormalization", "Relu"]
    assert fused.ops == ["Input", "Conv", "Relu"]


def test_unknown_operator_counts_zero_flops_with_a_warning():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])
    axis = helper.make_tensor("axis", TensorProto.INT64, [], [1])
    nodes = [helper.make_node("CumSum", ["x", "axis"], ["y"], name="cumsum")]
    with pytest.warns(UnknownOperatorWarning, match="CumSum"):
        p = import_onnx(_model(nodes, [x], [y], [axis]), device_profile="phone-cpu", optimize="none")
    assert p.layers[p.index["cumsum"]].flops == 0
    assert p.metadata["import"]["unknown_ops"] == {"CumSum": 1}


def test_dynamic_shape_needs_input_shape():
    model = residual_model(batch="N")
    with pytest.raises(InstanceError, match="--input-shape") as err:
        import_onnx(model, device_profile="phone-cpu")
    assert err.value.field == "input_shape"
    for shape in ("1,4,8,8", {"x": [1, 4, 8, 8]}, [1, 4, 8, 8]):
        p = import_onnx(model, input_shape=shape, device_profile="phone-cpu")
        assert p.output_bytes[p.index["x"]] == 4 * 64 * F32
    with pytest.raises(InstanceError, match="rank"):
        import_onnx(model, input_shape="1,4,8", device_profile="phone-cpu")
    with pytest.raises(InstanceError, match="no graph input"):
        import_onnx(model, input_shape="y:1,4,8,8", device_profile="phone-cpu")
    with pytest.raises(InstanceError, match="positive integers"):
        import_onnx(model, input_shape="1,-4,8,8", device_profile="phone-cpu")


def test_unknown_profile_names_the_field(tmp_path):
    with pytest.raises(InstanceError, match="unknown profile 'nope'") as err:
        import_onnx(residual_model(), server_profile="nope")
    assert err.value.field == "server_profile"
    with pytest.raises(InstanceError) as err:
        import_onnx(residual_model(), device_profile="nope")
    assert err.value.field == "device_profile"


def test_measured_profile_file_as_server(tmp_path):
    names = ["conv", "relu", "sig", "scale", "add", "concat", "gap"]
    prof = tmp_path / "server.json"
    prof.write_text(json.dumps({"kind": "measured_profile", "version": 1,
                                "layers_ms": {n: 0.5 + k for k, n in enumerate(names)}}))
    p = import_onnx(residual_model(), device_profile="phone-cpu", server_profile=str(prof), optimize="none")
    assert [p.layers[p.index[n]].server_ms for n in names] == [0.5 + k for k in range(len(names))]
    prof.write_text(json.dumps({"kind": "measured_profile", "version": 1, "layers_ms": {"conv": 1.0}}))
    with pytest.raises(InstanceError, match="no time for layer"):
        import_onnx(residual_model(), device_profile="phone-cpu", server_profile=str(prof), optimize="none")


#: Each file of tests/fixtures/broken/onnx/ and what its error must say.
BROKEN_CASES = [
    ("truncated.onnx", "truncated or corrupt"),
    ("corrupt.onnx", "truncated or corrupt"),
    ("empty.onnx", "empty file"),
    ("dynamic_batch.onnx", "--input-shape"),
    ("no_nodes.onnx", "no nodes"),
]


def test_every_broken_fixture_has_a_case():
    assert sorted(p.name for p in BROKEN.glob("*.onnx")) == sorted(n for n, _ in BROKEN_CASES)


@pytest.mark.parametrize("name, message", BROKEN_CASES)
def test_broken_files_raise_instance_errors_naming_the_file(name, message):
    path = BROKEN / name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(InstanceError, match=message) as err:
            import_onnx(path, device_profile="phone-cpu")
    assert err.value.file == str(path)


def test_missing_file():
    with pytest.raises(InstanceError, match="no such file"):
        import_onnx("/nonexistent/model.onnx")


@st.composite
def random_dags(draw):
    """A DAG of Relu/Add nodes over same-shape tensors, built by construction.

    Node ``i`` reads one or two of the earlier tensors (the input ``x`` or
    an earlier node's output); every tensor no node reads is a graph output.
    """
    n = draw(st.integers(1, 10))
    parents = []
    for i in range(n):
        pool = ["x"] + [f"t{j}" for j in range(i)]
        k = draw(st.integers(1, min(2, len(pool))))
        parents.append(draw(st.lists(st.sampled_from(pool), min_size=k, max_size=k, unique=True)))
    return parents


@given(random_dags(), st.sampled_from([[1, 3], [2, 2, 5]]))
def test_random_dags_import_to_the_same_edges_and_bytes(parents, shape):
    info = lambda name: helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)  # noqa: E731
    nodes = [helper.make_node("Relu" if len(ps) == 1 else "Add", ps, [f"t{i}"], name=f"n{i}")
             for i, ps in enumerate(parents)]
    read = {p for ps in parents for p in ps}
    outputs = [f"t{i}" for i in range(len(parents)) if f"t{i}" not in read]
    g = onnx_graph(prepare_model(_model(nodes, [info("x")], [info(t) for t in outputs]), optimize="none"))
    layer = lambda t: "x" if t == "x" else "n" + t[1:]  # noqa: E731
    assert g.names == ["x"] + [f"n{i}" for i in range(len(parents))]
    assert set(g.edges) == {(layer(p), f"n{i}") for i, ps in enumerate(parents) for p in ps}
    assert g.output_bytes == [int(np.prod(shape)) * F32] * (len(parents) + 1)
    problem = import_onnx(_model(nodes, [info("x")], [info(t) for t in outputs]), device_profile="phone-cpu",
                          optimize="none")
    assert sorted(problem.outputs) == sorted(layer(t) for t in outputs)


def test_fuse_groups_merges_a_node_into_its_sole_producer():
    from formulations.partition.importers.onnx_graph import fuse_groups

    g = onnx_graph(prepare_model(residual_model(), optimize="none"))
    everything = set(g.names)
    # relu's producer (conv) also feeds sig and concat: nothing to merge into
    assert fuse_groups(g, everything - {"relu"}).names == g.names
    # scale's producer (sig) feeds only scale: one "Sigmoid+Mul" layer sending scale's output
    f = fuse_groups(g, everything - {"scale"})
    assert f.names == ["x", "conv", "relu", "sig", "add", "concat", "gap"]
    assert f.ops[3] == "Sigmoid+Mul" and f.fused == {"sig": ["sig", "scale"]}
    assert ("sig", "add") in f.edges and all("scale" not in e for e in f.edges)
    assert f.flops[3] == g.flops[3] + g.flops[4] and f.output_bytes[3] == g.output_bytes[4]
    # a producer whose output leaves the graph is never merged away
    assert fuse_groups(g, everything - {"gap"}).names == g.names


def test_fuse_mode_times_conv_relu_as_one_layer():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 8, 8])
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["y"], name="relu")]
    p = import_onnx(_model(nodes, [x], [y], [_weight("w", [8, 4, 3, 3])]), optimize="fuse", runs=2, warmup=1)
    assert p.names == ["x", "conv"] and p.layers[1].op == "Conv+Relu"
    assert p.layers[1].meta["fused"] == ["conv", "relu"] and p.device_ms[1] > 0
    assert p.metadata["device_costs"]["per_layer_optimization"].startswith("extended")
