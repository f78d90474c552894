"""Placement: the exact DP equals brute force; baselines are feasible and never beat it; the format."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings

import formulations
import solvers
from formulations.errors import InfeasibleAssignmentError, InstanceError
from formulations.placement import Device, PlacementLayer, PlacementProblem, decoder, from_partition
from formulations.placement.strategies import placement_problems
from tests.helpers import FIXTURES, INSTANCES, examples

SETTINGS = settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def independent_value(problem, plan) -> tuple[float, bool]:
    """Objective and memory feasibility of a plan from the formulas, with plain loops."""
    index = {d.name: i for i, d in enumerate(problem.devices)}
    by_name = {layer.name: layer for layer in problem.layers}

    def layer_ms(layer, dev):
        if dev.name in layer.ms:
            return layer.ms[dev.name]
        return max(layer.gflop / dev.gflops * 1000.0, layer.weight_mb / dev.mem_gbps)

    def link(a, b):
        key = tuple(sorted((index[a], index[b])))
        return problem.links.get(key, problem.default_link)

    def hop(a, b, nbytes):
        if a == b:
            return 0.0, 0.0
        mbps, latency = link(a, b)
        return nbytes * 8 / (mbps * 1000) + latency, nbytes * 8 / (mbps * 1000)

    stages = plan["stages"]
    computes, hops, fits = [], [], True
    where = problem.source
    nbytes = problem.input_bytes
    for stage in stages:
        dev = problem.devices[index[stage["device"]]]
        hops.append(hop(where, dev.name, nbytes))
        computes.append(sum(layer_ms(by_name[nm], dev) for nm in stage["layers"]))
        used = sum(by_name[nm].weight_mb + by_name[nm].kv_bytes_per_token * problem.context_tokens / 1e6
                   for nm in stage["layers"])
        fits &= used <= dev.memory_mb * (1 + 1e-9)
        where, nbytes = dev.name, by_name[stage["layers"][-1]].output_bytes
    hops.append(hop(where, problem.source, nbytes))
    if problem.objective == "latency":
        return sum(computes) + sum(h[0] for h in hops), fits
    period = max(computes + [h[1] for h in hops])
    return (math.inf if period == 0 else 1000.0 / period), fits


@SETTINGS
@given(placement_problems())
def test_dp_equals_brute_force_in_status_and_value(problem):
    oracle = solvers.solve(problem, method="brute_force")
    sol = solvers.solve(problem, method="dp")
    assert sol.status == oracle.status
    if oracle.status.value == "infeasible":
        return
    assert sol.status.value == "optimal"
    assert sol.objective == pytest.approx(oracle.objective, rel=1e-9, abs=1e-12)
    value, fits = independent_value(problem, sol.assignment)
    assert fits and value == pytest.approx(sol.objective, rel=1e-9, abs=1e-12)


@SETTINGS
@given(placement_problems())
def test_baselines_are_feasible_plans_never_better_than_the_optimum(problem):
    best = solvers.solve(problem, method="dp")
    for method in ("ring", "greedy"):
        sol = solvers.solve(problem, method=method)
        if sol.assignment is None:
            assert sol.status.value == "unknown"
            continue
        assert best.status.value == "optimal" and sol.status.value == "feasible"
        if problem.sense == "min":
            assert sol.objective >= best.objective * (1 - 1e-9) - 1e-12
        else:
            assert sol.objective <= best.objective * (1 + 1e-9) + 1e-12


def test_worked_example_by_hand():
    """The phone (source) runs a 1-GFLOP layer in 1000 ms, the laptop in 10 ms; sending the 8000-byte input
    at 64 Mbps takes 1 ms plus 1 ms latency, the 4-byte answer back 0.0005 + 1 ms: all on the laptop,
    2 + 20 + 1.0005 = 23.0005 ms, against 2000 ms on the phone."""
    layers = [PlacementLayer("a", 1.0, 1.0, 4000), PlacementLayer("b", 1.0, 1.0, 4)]
    devices = [Device("phone", 1.0, 1.0, 10.0), Device("laptop", 100.0, 100.0, 10.0)]
    problem = PlacementProblem(layers, devices, input_bytes=8000, default_link=(64.0, 1.0), source="phone")
    sol = solvers.placement(problem)
    assert sol.method == "dp" and sol.status.value == "optimal"
    assert [s["device"] for s in sol.assignment["stages"]] == ["laptop"]
    assert sol.objective == pytest.approx(23.0005)
    fast = solvers.placement(problem.replace(objective="throughput"))
    assert fast.objective == pytest.approx(1000.0 / 20.0)  # the laptop's stage (2 x 10 ms) is the bottleneck


def test_plans_are_checked():
    problem = formulations.load(INSTANCES / "placement" / "llama8b_home.json")
    names = problem.layer_names
    with pytest.raises(InfeasibleAssignmentError, match="used twice"):
        problem.evaluate({"stages": [{"device": "desktop", "layers": list(names[:3])},
                                     {"device": "desktop", "layers": list(names[3:])}]})
    with pytest.raises(InfeasibleAssignmentError, match="in order"):
        problem.evaluate({"stages": [{"device": "desktop", "layers": list(names[1:])}]})
    with pytest.raises(InfeasibleAssignmentError, match="memory_mb"):
        problem.evaluate({"stages": [{"device": "phone0", "layers": list(names)}]})


@pytest.mark.parametrize("name", ["llama8b_home", "llama70b_8dev", "resnet18_jetsons"])
def test_shipped_instances_solve_to_optimality_and_beat_the_ring(name):
    problem = formulations.load(INSTANCES / "placement" / f"{name}.json")
    for objective in ("latency", "throughput"):
        variant = problem.replace(objective=objective)
        best = solvers.solve(variant)
        assert best.status.value == "optimal"
        ring = solvers.solve(variant, method="ring")
        if ring.assignment is not None:
            assert (ring.objective >= best.objective - 1e-9) if variant.sense == "min" else (
                ring.objective <= best.objective + 1e-9)


def test_decoder_from_a_config_dict():
    config = {"num_hidden_layers": 32, "hidden_size": 4096, "intermediate_size": 14336, "num_attention_heads": 32,
              "num_key_value_heads": 8, "vocab_size": 128256, "torch_dtype": "bfloat16"}
    layers = decoder(config)
    assert len(layers) == 34 and sum(l.weight_mb for l in layers) == pytest.approx(16060.5, rel=1e-3)
    with pytest.raises(InstanceError, match="hidden_size"):
        decoder({"num_hidden_layers": 2})


def test_from_partition_keeps_the_chain_of_blocks():
    partition = formulations.load(INSTANCES / "partition" / "resnet18.json")
    layers = from_partition(partition)
    assert [l.name for l in layers] == partition.cut_vertices
    assert sum(l.ms["device"] for l in layers) == pytest.approx(float(partition.device_ms.sum()))


@pytest.mark.parametrize("edit, field", [
    (lambda d: d["network"]["links"].append({"between": ["phone0", "nowhere"], "mbps": 10}), "network.links"),
    (lambda d: d["layers"][0].__setitem__("ms", {"nowhere": 1.0}), "layers[0].ms"),
    (lambda d: d["devices"][0].__setitem__("memory_mb", -1), "devices[0].memory_mb"),
    (lambda d: d["network"]["default"].__setitem__("mbps", 0), "network.default.mbps"),
    (lambda d: d.__setitem__("objective", "energy"), "objective"),
    (lambda d: d["devices"].append(dict(d["devices"][0])), "devices"),
])
def test_bad_files_name_the_field(edit, field, tmp_path):
    data = json.loads((INSTANCES / "placement" / "llama8b_home.json").read_text())
    edit(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InstanceError) as info:
        formulations.load(path)
    assert field in str(info.value) and str(path) in str(info.value)


def test_a_layer_heavier_than_every_device_is_infeasible_not_a_traceback(capsys):
    from solvers.cli import main

    data = json.loads((INSTANCES / "placement" / "llama8b_home.json").read_text())
    data["layers"][1]["weight_mb"] = 1e9
    problem = PlacementProblem.from_dict(data)
    assert solvers.solve(problem).status.value == "infeasible"
    assert main(["solve", str(INSTANCES / "placement" / "llama8b_home.json")]) == 0
    assert "optimal" in capsys.readouterr().out


def test_plot_draws_each_stage_on_its_device_lane(tmp_path):
    pytest.importorskip("matplotlib")
    from solvers.cli import main
    from solvers.plots import find_artist, plot_placement

    problem = formulations.load(INSTANCES / "placement" / "llama70b_8dev.json").replace(objective="throughput")
    sol = solvers.solve(problem)
    fig = plot_placement(problem, sol)
    ev = problem.evaluate(sol.assignment)
    lanes = {name: i for i, name in enumerate(problem.device_names)}
    start = 0
    for k, stage in enumerate(sol.assignment["stages"]):
        bar = find_artist(fig, f"stage-{k}")
        assert bar.get_x() == start and bar.get_width() == len(stage["layers"])
        assert bar.get_y() + bar.get_height() / 2 == pytest.approx(lanes[stage["device"]])
        start += len(stage["layers"])
        label = find_artist(fig, f"memory-{stage['device']}").get_text()
        assert f"{ev.memory_mb[stage['device']]:,.0f} /" in label
    assert start == problem.n_layers
    for k in range(len(sol.assignment["stages"]) - 1):
        assert find_artist(fig, f"transfer-{k}").get_label() == f"{ev.transfer_ms[k + 1]:.3g} ms"
    out = tmp_path / "placement.svg"
    assert main(["plot", "placement", str(INSTANCES / "placement" / "llama8b_home.json"), "-o", str(out)]) == 0
    assert out.read_bytes()[:5] == b"<?xml"


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(placement_problems(max_layers=6, max_devices=3, constraints=True))
def test_cpsat_equals_brute_force_with_and_without_a_latency_cap(problem):
    oracle = solvers.solve(problem, method="brute_force")
    sol = solvers.solve(problem, method="cpsat", time_limit=20)
    if oracle.status.value == "infeasible":
        assert sol.status.value == "infeasible"
        return
    assert sol.status.value == "optimal", sol.message
    assert sol.objective == pytest.approx(oracle.objective, rel=1e-6, abs=1e-9)
    assert solvers.solve(problem).method == ("cpsat" if problem.constraints else "dp")


def test_problems_are_immutable_and_pickle():
    import pickle

    problem = formulations.load(INSTANCES / "placement" / "llama8b_home.json")
    with pytest.raises(AttributeError, match="immutable"):
        problem.objective = "throughput"
    with pytest.raises(TypeError):
        problem.links[(0, 1)] = (1.0, 0.0)
    with pytest.raises(ValueError):
        problem.layer_ms[0, 0] = 0.0
    copy = pickle.loads(pickle.dumps(problem))
    assert copy.to_dict() == problem.to_dict()
