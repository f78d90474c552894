"""Compression relative to the sent tensor's own dtype (issue 22): a uint8 tensor has no 8-bit saving,
no configuration goes below 1 bit per value, and the ONNX importer records the input's dtype."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formulations.errors import InstanceError
from formulations.partition.problem import Layer, Network, PartitionProblem
from formulations.pipeline.configs import COMPRESSION_TABLE, task_configs, value_bits
from tests.helpers import examples

DTYPES = ("uint8", "int8", "float16", "float32", None)


@st.composite
def dtyped_problems(draw, input_dtype="uint8"):
    """A random layer DAG whose input is ``input_dtype`` and whose other tensors have random dtypes."""
    n = draw(st.integers(2, 7))
    names = [f"L{i}" for i in range(n)]
    edges = [(names[draw(st.integers(0, v - 1))], names[v]) for v in range(1, n)]
    edges += [(names[u], names[v]) for v in range(2, n) for u in draw(st.lists(st.integers(1, v - 1), max_size=2, unique=True))]
    layers = []
    for i in range(n):
        dtype = input_dtype if i == 0 else draw(st.sampled_from(DTYPES))
        size = np.dtype(dtype or "float32").itemsize
        layers.append(Layer(names[i], 0.0 if i == 0 else float(draw(st.integers(0, 20))), float(draw(st.integers(0, 5))),
                            size * draw(st.integers(1, 5000)), meta=None if dtype is None else {"dtype": dtype}))
    return PartitionProblem(layers, sorted(set(edges)), Network(float(draw(st.sampled_from((1.0, 10.0, 100.0)))), None, 1.0))


def tables():
    bits = st.lists(st.sampled_from((1, 2, 3, 4, 8, 16, 32)), min_size=1, max_size=4, unique=True)
    return bits.map(lambda bs: {"levels": {str(b): {"size_factor": b / 32, "accuracy_loss": 0.0 if b == 32 else 0.01 * (32 - b) / 32}
                                           for b in bs}})


def sent_values(problem, config) -> float:
    """Values (elements) the configuration's split sends: each sent tensor's bytes / its itemsize."""
    mask = np.zeros(problem.n_layers, dtype=bool)
    order = problem.topology.order
    device = config.meta["device_layers"]
    if device == problem.n_layers:
        return 0.0
    names = config.name.split("/")[0]
    assert names.startswith(("cut@", "device"))
    mask[order[: [problem.names[i] for i in order].index(names[4:]) + 1]] = True
    topo = problem.topology
    senders = np.unique(topo.src[mask[topo.src] & ~mask[topo.dst]])
    return float(sum(problem.output_bytes[s] * 8 / value_bits(problem)[s] for s in senders))


@settings(max_examples=examples(60))
@given(dtyped_problems(), tables())
def test_a_uint8_input_models_configurations_never_go_below_one_bit_per_value(problem, table):
    configs = task_configs(problem, accuracy=0.9, compression=table)
    assert configs
    for c in configs:
        values = sent_values(problem, c)
        assert c.meta["sent_bytes"] * 8 >= values, (c.name, c.meta, values)
        if c.name.startswith("cut@L0/"):  # only the uint8 input is sent: no saving at >= 8 bits
            raw = int(problem.output_bytes[0])
            assert c.meta["sent_bytes"] == (raw if c.meta["bits"] >= 8 else -(-raw * c.meta["bits"] // 8))


def test_uint8_input_has_no_8_bit_saving_but_4_bits_halve_it():
    layers = [Layer("in", 0.0, 0.0, 150528, meta={"dtype": "uint8"}), Layer("conv", 30.0, 3.0, 800000),
              Layer("fc", 5.0, 0.5, 4000)]
    p = PartitionProblem(layers, [("in", "conv"), ("conv", "fc")], Network(10.0, None, 2.0))
    configs = {c.name: c for c in task_configs(p, accuracy=0.9)}
    assert "cut@in/8b" not in configs  # a copy of cut@in/32b with an accuracy loss: dropped
    assert configs["cut@in/32b"].meta["sent_bytes"] == 150528
    assert configs["cut@in/4b"].meta["sent_bytes"] == 150528 // 2
    assert configs["cut@conv/8b"].meta["sent_bytes"] == 800000 // 4  # float32 by default
    assert value_bits(p).tolist() == [8.0, 32.0, 32.0]


def test_levels_below_one_bit_per_value_and_unknown_dtypes_name_the_field():
    p = PartitionProblem([Layer("in", 0.0, 0.0, 100), Layer("a", 1.0, 1.0, 100)], [("in", "a")], Network(10.0))
    bad = {"levels": {"0.5": {"size_factor": 0.5 / 32, "accuracy_loss": 0.1}}}
    with pytest.raises(InstanceError) as err:
        task_configs(p, accuracy=0.9, compression=bad)
    assert err.value.field == "compression.levels.0.5.size_factor"
    odd = PartitionProblem([Layer("in", 0.0, 0.0, 100, meta={"dtype": "nonsense"}), Layer("a", 1.0, 1.0, 100)],
                           [("in", "a")], Network(10.0))
    with pytest.raises(InstanceError) as err:
        task_configs(odd, accuracy=0.9)
    assert err.value.field == "layers[0].meta.dtype"
    assert COMPRESSION_TABLE["levels"]["8"]["size_factor"] == 0.25


def test_the_onnx_importer_records_a_uint8_input_and_configs_follow_it():
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    from formulations.partition.importers.onnx import import_onnx

    graph = helper.make_graph(
        [helper.make_node("Cast", ["x"], ["xf"], name="cast", to=TensorProto.FLOAT),
         helper.make_node("Relu", ["xf"], ["y"], name="relu")],
        "u8", [helper.make_tensor_value_info("x", TensorProto.UINT8, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 16, 16])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    p = import_onnx(model, device_profile="phone-cpu")
    assert p.layers[p.index["x"]].meta["dtype"] == "uint8" and int(p.output_bytes[p.index["x"]]) == 768
    names = {c.name for c in task_configs(p, accuracy=0.9)}
    assert "cut@x/32b" in names and "cut@x/8b" not in names and "cut@x/4b" in names
    as_uint8 = import_onnx(model, device_profile="phone-cpu", input_dtype="float16")
    assert as_uint8.layers[as_uint8.index["x"]].meta["dtype"] == "float16"
