"""``coinfer split``: device.onnx + server.onnx reproduce the model; measured splits; the phone table.

A random-weight multi-branch graph with two outputs (one computed on the
device) is built here; two of the model-zoo files shipped in the onnx wheel
(SqueezeNet, Inception v1) are imported, measured and split at a split
forced interior by pins (the other seven: ``benchmarks/bench_onnx_zoo.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from formulations.errors import InstanceError  # noqa: E402
from formulations.partition.importers.onnx import import_onnx  # noqa: E402
from formulations.partition.importers.onnx_split import (  # noqa: E402
    device_tensors,
    load_for_split,
    max_split_error,
    split_model,
)
from formulations.partition.importers.profiling import make_feeds  # noqa: E402
from formulations.partition.importers.segments import segment_interval, segment_latency  # noqa: E402
from formulations.partition import Network, PartitionProblem  # noqa: E402
from solvers import cli  # noqa: E402
from solvers.split import choose_by_segments, split_onnx  # noqa: E402

ZOO = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
DEVICE = ["x", "conv1", "relu1", "early", "conv2"]


def _vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _weight(name, shape, seed):
    return numpy_helper.from_array(np.random.default_rng(seed).standard_normal(shape).astype(np.float32), name)


def branchy_model():
    """x -> conv1 -> relu1 -> {conv2 -> sig, conv3 -> tanh} -> add -> gap -> ``logits``; relu1 -> ``early`` (max pool).

    Random weights, two outputs.
    """
    conv = {"pads": [1, 1, 1, 1], "kernel_shape": [3, 3]}
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"], name="conv1", **conv),
             helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
             helper.make_node("GlobalMaxPool", ["r1"], ["early"], name="early"),
             helper.make_node("Conv", ["r1", "w2"], ["c2"], name="conv2", **conv),
             helper.make_node("Sigmoid", ["c2"], ["s2"], name="sig"),
             helper.make_node("Conv", ["r1", "w3"], ["c3"], name="conv3", **conv),
             helper.make_node("Tanh", ["c3"], ["t3"], name="tanh"),
             helper.make_node("Add", ["s2", "t3"], ["a"], name="add"),
             helper.make_node("GlobalAveragePool", ["a"], ["logits"], name="gap")]
    inits = [_weight("w1", [8, 3, 3, 3], 1), _weight("w2", [8, 8, 3, 3], 2), _weight("w3", [8, 8, 3, 3], 3)]
    graph = helper.make_graph(nodes, "branchy", [_vi("x", [1, 3, 16, 16])],
                              [_vi("logits", [1, 8, 1, 1]), _vi("early", [1, 8, 1, 1])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.fixture
def files(tmp_path):
    model_path, instance_path = tmp_path / "branchy.onnx", tmp_path / "branchy.json"
    onnx.save(branchy_model(), model_path)
    problem = import_onnx(model_path, device_profile="phone-cpu", server_profile="datacentre-gpu", optimize="none")
    instance_path.write_text(json.dumps(problem.to_dict()))
    return model_path, instance_path, problem


def _pinned(problem, device, server):
    return PartitionProblem(problem.layers, problem.edges, problem.network, pinned={"device": device, "server": server},
                            metadata=problem.metadata, name=problem.name)


def test_composition_reproduces_both_outputs_and_the_check_can_fail(files):
    model_path, _, problem = files
    model = load_for_split(model_path, problem.metadata["import"]["input_shapes"])
    split = split_model(model, device_tensors(problem, DEVICE))
    assert split.sent == ["r1", "c2"] and split.device_outputs == ["early"] and split.server_outputs == ["logits"]
    assert [i.name for i in split.device.graph.input] == ["x"]
    assert [o.name for o in split.device.graph.output] == ["r1", "c2", "early"]
    assert [i.name for i in split.server.graph.input] == ["r1", "c2"]
    assert [o.name for o in split.server.graph.output] == ["logits"]
    assert split.sent_bytes == {"r1": 8 * 256 * 4, "c2": 8 * 256 * 4}
    assert sorted(n.name for n in split.server.graph.node) == ["add", "conv3", "gap", "sig", "tanh"]
    feeds = make_feeds({"x": [1, 3, 16, 16]}, {"x": np.float32}, seed=3)
    assert max_split_error(model, split, feeds) < 1
    w3 = next(t for t in split.server.graph.initializer if t.name == "w3")
    w3.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(w3) * 1.5, "w3"))
    assert max_split_error(model, split, feeds) > 1  # a wrong server part is caught


def test_split_onnx_writes_parts_and_a_prediction_term_by_term(files, tmp_path):
    model_path, _, problem = files
    pinned = _pinned(problem, ["conv2", "early"], ["conv3"])
    record = split_onnx(model_path, pinned, tmp_path / "out", uplink_mbps=5.0)
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"device.onnx", "server.onnx", "split.json"}
    assert json.loads((tmp_path / "out" / "split.json").read_text()) == json.loads(json.dumps(record))
    assert set(record["device_layers"]) >= {"x", "conv1", "relu1", "conv2", "early"}
    assert "conv3" in record["server_layers"] and record["reproduction_error"] < 1
    sent_bytes = sum(s["bytes"] for s in record["sent"])
    assert sent_bytes == record["predicted"]["uplink_bytes"]  # the files send what the instance counts
    mask = pinned.device_mask(record["device_layers"])
    assert record["predicted"]["total_ms"] == pytest.approx(pinned.with_network(uplink_mbps=5.0).latency(mask))


def test_cli_split_by_uplink_by_solution_and_measured(files, tmp_path, capsys):
    model_path, instance_path, problem = files
    pinned_path = tmp_path / "pinned.json"
    pinned_path.write_text(json.dumps(_pinned(problem, ["conv2"], ["tanh"]).to_dict()))
    argv = ["split", str(model_path), str(pinned_path), "--out-dir", str(tmp_path / "a"), "--uplink-mbps", "2",
            "--measure", "--runs", "3", "--warmup", "0"]
    assert cli.main(argv) == 2  # phone-cpu roofline costs: no cross-machine "error"
    err = capsys.readouterr().err
    assert "'phone-cpu' profile" in err and "another device" in err and err.count("\n") == 1
    assert not (tmp_path / "a").exists()
    here = import_onnx(model_path, runs=2, warmup=0, optimize="none")  # measured on this machine
    measured_path = tmp_path / "measured.json"
    measured_path.write_text(json.dumps(_pinned(here, ["conv2"], ["tanh"]).to_dict()))
    code = cli.main([argv[0], argv[1], str(measured_path), *argv[3:]])
    err = capsys.readouterr().err
    assert code == 0, err
    record = json.loads((tmp_path / "a" / "split.json").read_text())
    measured = record["measured"]["measured"]
    assert measured["device_ms"] > 0 and measured["server_ms_here"] > 0 and measured["server_ratio"] > 0
    assert measured["server_ms"] == pytest.approx(measured["server_estimate_ms_here"] * measured["server_ratio"])
    for key in ("device", "total_median"):
        q1, q3 = measured[f"{key.split('_')[0]}_iqr_ms"]
        assert q1 <= measured[f"{key}_ms"] <= q3
    assert measured["total_ms"] <= measured["total_iqr_ms"][0] + 1e-9  # the estimate: fastest run of each part
    assert 0 < measured["device_estimate_ms"] <= measured["device_iqr_ms"][0]
    assert measured["statistic"].startswith("min")
    assert record["measured"]["terms"]["device_ms"].startswith("measured")
    assert all(record["measured"]["terms"][k].startswith("modelled") for k in ("server_ms", "uplink_ms", "rtt_ms"))
    assert "measured vs predicted" in err and "speed ratio" in err and "modelled" in err
    code = cli.main(["solve", str(measured_path), "--json", "--uplink-mbps", "2"])
    solution_path = tmp_path / "sol.json"
    solution_path.write_text(capsys.readouterr().out)
    code = cli.main(["split", str(model_path), str(measured_path), "--out-dir", str(tmp_path / "b"),
                     "--solution", str(solution_path)])
    assert code == 0
    again = json.loads((tmp_path / "b" / "split.json").read_text())
    assert again["device_layers"] == record["device_layers"] and again["sent"] == record["sent"]


def test_cli_split_bad_input_exits_2_naming_the_file(files, tmp_path, capsys):
    model_path, instance_path, _ = files
    other = tmp_path / "other.onnx"
    other_model = branchy_model()
    for node in other_model.graph.node:
        node.output[:] = [t + "_x" if t not in ("logits", "early") else t for t in node.output]
        node.input[:] = [t + "_x" if t in ("c1", "r1", "c2", "s2", "c3", "t3", "a") else t for t in node.input]
    onnx.save(other_model, other)
    cases = [([str(tmp_path / "missing.onnx"), str(instance_path)], "missing.onnx: no such file"),
             ([str(other), str(instance_path)], "has no tensor"),
             ([str(model_path), str(instance_path), "--solution", str(instance_path)], "no partition assignment")]
    for argv, words in cases:
        code = cli.main(["split", *argv, "--out-dir", str(tmp_path / "c")])
        err = capsys.readouterr().err
        assert code == 2 and words in err and err.count("\n") == 1, err


def test_segments_choose_by_measured_latency(files, tmp_path, capsys):
    model_path, _, _ = files
    problem = import_onnx(model_path, runs=1, warmup=0, segments=True, optimize="none")
    rows = problem.metadata["segments"]
    assert [r["cut"] for r in rows] == problem.cut_vertices + [None]  # two outputs: no last cut vertex
    assert rows[0]["sent"] == ["x"] and rows[0]["device_layers"] == 1  # full offload
    assert rows[-1]["sent"] == [] and rows[-1]["server_ratio"] is None  # all on the device
    for mbps in (0.5, 1000.0):
        choice = choose_by_segments(problem, mbps)
        net = Network(mbps)
        fastest = min(rows, key=lambda r: segment_latency(r, net))
        model = choice["model"]
        if choice["decision"] == "measured":  # faster beyond the noise: IQR-separated
            assert choice["segments"] is fastest and segment_interval(fastest, net)[1] < model["measured_iqr_ms"][0]
        else:  # the model's choice is kept; the fastest is within its noise, reported as a tie
            assert choice["decision"] == "model" and choice["measured_ms"] == model["measured_ms"]
            assert fastest is choice["segments"] or fastest["cut"] in [t["cut"] for t in choice["ties"]]
    assert choose_by_segments(problem, 0.001)["segments"]["cut"] is None  # no link: stay on the device
    with pytest.raises(InstanceError, match="import it with --segments"):
        choose_by_segments(import_onnx(model_path, device_profile="phone-cpu"))
    instance = tmp_path / "seg.json"
    instance.write_text(json.dumps(problem.to_dict()))
    code = cli.main(["split", str(model_path), str(instance), "--out-dir", str(tmp_path / "s"), "--segments",
                     "--uplink-mbps", "1000"])
    assert code == 0, capsys.readouterr().err
    assert "segments_choice" in json.loads((tmp_path / "s" / "split.json").read_text())


def test_segment_latency_formula():
    row = {"device_ms": 2.0, "uplink_bytes": 1000, "downlink_bytes": 500, "server_ms_here": 10.0,
           "server_ratio": 0.1}
    net = Network(8.0, 4.0, 3.0)  # 1000 B at 8 Mbps = 1 ms; 500 B at 4 Mbps = 1 ms
    assert segment_latency(row, net) == pytest.approx(2.0 + 1.0 + 3.0 + 1.0 + 1.0)
    assert segment_latency({**row, "server_ratio": None, "uplink_bytes": 0}, net) == pytest.approx(2.0)


def test_bandwidth_map_export_names_the_tensors_to_send(files, tmp_path, capsys):
    _, instance_path, problem = files
    table_path = tmp_path / "table.json"
    code = cli.main(["bandwidth-map", str(instance_path), "--min", "0.1", "--max", "1000", "--export",
                     str(table_path)])
    assert code == 0, capsys.readouterr().err
    table = json.loads(table_path.read_text())
    ranges = table["ranges"]
    assert ranges[0]["min_mbps"] == 0.1 and ranges[-1]["max_mbps"] == 1000
    tensors = {t for layer in problem.layers for t in layer.meta["tensors"]}
    assert all(set(r["send"]) <= tensors for r in ranges)
    assert ranges[-1]["send"] == ["x"]  # at 1 Gbps everything goes to the server
    for r in ranges:
        mbps = (r["min_mbps"] + r["max_mbps"]) / 2
        p = problem.with_network(uplink_mbps=mbps)
        assert r["fixed_ms"] + r["per_mbps_ms"] / mbps == pytest.approx(
            p.latency(p.device_mask(_device_of(p, r))), rel=1e-3)
    assert len(table_path.read_bytes()) < 4000
    code = cli.main(["bandwidth-map", str(instance_path), "--export", str(table_path), "--rtt-ms", "0.01",
                     "--downlink-mbps", "50"])
    assert code == 0
    with_rtt = json.loads(table_path.read_text())
    assert with_rtt["network"] == {"uplink_mbps": problem.network.uplink_mbps, "downlink_mbps": 50.0, "rtt_ms": 0.01}
    before = {tuple(r["send"]): r for r in ranges}
    same = [(r, before[tuple(r["send"])]) for r in with_rtt["ranges"] if r["send"] and tuple(r["send"]) in before]
    assert same  # RTT and a fixed downlink move into the line's fixed part
    downlink = 8 * 4 * 8 / 50 / 1000  # at least the logits (8 floats) come back at 50 Mbps
    for r, r0 in same:
        assert r["fixed_ms"] >= r0["fixed_ms"] + 0.01 + downlink - 2e-4
    code = cli.main(["bandwidth-map", str(instance_path), "--json"])  # the existing option still works
    assert code == 0 and json.loads(capsys.readouterr().out)["pieces"]


def _device_of(problem, row):
    """The device set that sends exactly ``row["send"]`` (closure of the senders; all layers if none)."""
    if not row["send"]:
        return problem.names
    senders = [layer.name for layer in problem.layers if set(layer.meta["tensors"]) & set(row["send"])]
    return problem.assignment(problem.topology.closure_of([problem.index[s] for s in senders]))["device"]


@pytest.mark.parametrize("name,costs", [("squeezenet", "calibrated"), ("inception_v1", "additive")])
def test_zoo_model_imports_measured_and_splits_at_a_pinned_interior_split(name, costs, tmp_path):
    path = ZOO / f"light_{name}.onnx"
    problem = import_onnx(path, runs=1, warmup=0, device_costs=costs)
    assert problem.metadata["device_costs"]["model"] == "measured"
    assert [layer.op for layer in problem.layers].count("Input") == 1
    cuts = problem.cut_vertices
    middle = cuts[len(cuts) // 2]
    successors = sorted({v for u, v in problem.edges if u == middle})
    pinned = _pinned(problem, [middle], successors)
    record = split_onnx(path, pinned, tmp_path / name)
    assert middle in record["device_layers"] and set(successors) <= set(record["server_layers"])
    assert 0 < len(record["sent"]) and record["reproduction_error"] < 1


def test_additive_candidates_are_measured_so_the_segment_choice_is_never_worse_measured(files):
    from formulations.partition.importers.segments import segment_mask
    from solvers.split import additive_candidates

    model_path, _, _ = files
    problem = import_onnx(model_path, runs=1, warmup=0, segments=2, optimize="none",
                          segment_candidates=lambda p: additive_candidates(p) + [p.device_mask(DEVICE)])
    rows = problem.metadata["segments"]
    cut_rows = [r for r in rows if not r.get("device")]
    assert [r["cut"] for r in cut_rows] == [problem.cut_vertices[0], problem.cut_vertices[-1], None]
    extra = [r for r in rows if r.get("device")]
    assert [r["device"] for r in extra] == [DEVICE] and extra[0]["sent"] == ["r1", "c2"]
    measured = [segment_mask(problem, r) for r in rows]
    for mask in additive_candidates(problem):
        assert any((mask == m).all() for m in measured)
    for mbps in (0.5, 5.85, 100.0, 1000.0):
        choice = choose_by_segments(problem, mbps)
        assert "measured_ms" in choice["model"]  # the model's choice is always among the measured splits
        assert choice["measured_ms"] <= choice["model"]["measured_ms"]


def test_split_of_an_optimized_import_cuts_the_users_graph(tmp_path):
    """With --optimize basic, Conv+BatchNorm is one layer; the split still cuts the file as written."""
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
             helper.make_node("BatchNormalization", ["c", "g", "b", "m", "v"], ["bn"], name="bn"),
             helper.make_node("Relu", ["bn"], ["r"], name="relu"),
             helper.make_node("Identity", ["r"], ["r_id"], name="ident"),
             helper.make_node("GlobalAveragePool", ["r_id"], ["y"], name="gap")]
    inits = [_weight("w", [8, 3, 3, 3], 1), _weight("g", [8], 2), _weight("b", [8], 3), _weight("m", [8], 4),
             numpy_helper.from_array(np.abs(np.random.default_rng(5).standard_normal(8)).astype(np.float32) + 0.5,
                                     "v")]
    graph = helper.make_graph(nodes, "bn", [_vi("x", [1, 3, 8, 8])], [_vi("y", [1, 8, 1, 1])], inits)
    path = tmp_path / "bn.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    problem = import_onnx(path, device_profile="phone-cpu")
    assert "bn" not in problem.names and "ident" not in problem.names  # fused and eliminated at import
    pinned = _pinned(problem, ["conv"], ["gap"])
    record = split_onnx(path, pinned, tmp_path / "out")
    assert record["reproduction_error"] < 1 and record["sent"]
    server = onnx.load(tmp_path / "out" / "server.onnx")
    assert [i.name for i in server.graph.input] == [s["tensor"] for s in record["sent"]]


def test_external_data_models_import_from_anywhere_and_split_into_loadable_parts(tmp_path, monkeypatch):
    """Weights in extdata.bin beside the model: import from another folder, parts that load and run
    (before: import failed outside the model's folder, parts pointed at a missing extdata.bin)."""
    import onnxruntime as ort

    folder = tmp_path / "model"
    folder.mkdir()
    model_path = folder / "branchy.onnx"
    onnx.save_model(branchy_model(), str(model_path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="extdata.bin", size_threshold=0)
    assert (folder / "extdata.bin").exists()
    elsewhere = tmp_path / "work"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    problem = import_onnx(model_path, device_profile="phone-cpu", server_profile="datacentre-gpu", optimize="none")
    problem = _pinned(problem, DEVICE, [])
    out = elsewhere / "parts"
    record = split_onnx(model_path, problem, out, assignment={"device": DEVICE,
                                                               "server": [n for n in problem.names if n not in DEVICE]})
    assert record["reproduction_error"] < 1
    assert not (out / "extdata.bin").exists()
    feeds = {"x": np.random.default_rng(0).standard_normal((1, 3, 16, 16)).astype(np.float32)}
    device = ort.InferenceSession(str(out / "device.onnx"), providers=["CPUExecutionProvider"])
    sent = dict(zip([o.name for o in device.get_outputs()], device.run(None, feeds)))
    server = ort.InferenceSession(str(out / "server.onnx"), providers=["CPUExecutionProvider"])
    server.run(None, {i.name: sent[i.name] for i in server.get_inputs()})


def test_all_on_device_says_nothing_is_offloaded(files, tmp_path, capsys):
    model_path, instance_path, problem = files
    solution = tmp_path / "sol.json"
    solution.write_text(json.dumps([{"assignment": {"device": list(problem.names), "server": []}}]))
    code = cli.main(["split", str(model_path), str(instance_path), "--out-dir", str(tmp_path / "out"),
                     "--solution", str(solution)])
    err = capsys.readouterr().err
    assert code == 0 and "no server.onnx (nothing is offloaded)" in err and "server.onnx: 0 layers" not in err
    assert not (tmp_path / "out" / "server.onnx").exists()


def test_parts_of_a_dynamic_batch_model_take_any_batch(tmp_path):
    """The user's model takes batch N; so do device.onnx and server.onnx (server.onnx rejected batch 4)."""
    import onnxruntime as ort

    model = branchy_model()
    for vi in list(model.graph.input) + list(model.graph.output):
        vi.type.tensor_type.shape.dim[0].Clear()
        vi.type.tensor_type.shape.dim[0].dim_param = "N"
    model_path = tmp_path / "dyn.onnx"
    onnx.save(model, model_path)
    problem = import_onnx(model_path, device_profile="phone-cpu", server_profile="datacentre-gpu", optimize="none",
                          input_shape={"x": [1, 3, 16, 16]})
    problem = _pinned(problem, DEVICE, [])
    record = split_onnx(model_path, problem, tmp_path / "out",
                        assignment={"device": DEVICE, "server": [n for n in problem.names if n not in DEVICE]})
    assert record["batch"] == "N" and record["reproduction_error"] < 1
    x = np.random.default_rng(0).standard_normal((4, 3, 16, 16)).astype(np.float32)
    whole = ort.InferenceSession(model_path.read_bytes(), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    device = ort.InferenceSession(str(tmp_path / "out" / "device.onnx"), providers=["CPUExecutionProvider"])
    sent = dict(zip([o.name for o in device.get_outputs()], device.run(None, {"x": x})))
    server = ort.InferenceSession(str(tmp_path / "out" / "server.onnx"), providers=["CPUExecutionProvider"])
    got = dict(zip([o.name for o in server.get_outputs()], server.run(None, {i.name: sent[i.name] for i in server.get_inputs()})))
    assert got["logits"].shape[0] == 4
    np.testing.assert_allclose(got["logits"], whole[0], rtol=1e-4, atol=1e-4)
