"""Every shipped partition instance loads, and its stored optima are proven again.

``metadata.optimum`` is either one entry ``{"uplink_mbps", "latency_ms",
"device", ...}`` or a dict of such entries keyed by uplink (Mbps). Each entry
is checked against a fresh solve by two different exact methods, and its
stored device set is re-evaluated by the formulation.
"""

import json
import math
from pathlib import Path

import pytest

import solvers
from formulations import load
from solvers.algorithms.partition.brute_force import MAX_LAYERS
from tests.helpers import ROOT

FILES = sorted(p for p in (ROOT / "instances" / "partition").glob("*.json") if "tiers" not in json.loads(p.read_text()))  # k-tier files: test_tiers_instances.py
REAL = ("resnet18", "googlenet", "vgg16")
UPLINKS = {"1.1", "5.85", "18.88", "100"}


def optimum_entries(problem):
    """The stored optima as entries with ``uplink_mbps`` and ``latency_ms``."""
    opt = problem.metadata.get("optimum")
    if opt is None:
        return []
    if "latency_ms" in opt:
        return [{"uplink_mbps": problem.network.uplink_mbps, **opt}]
    entries = []
    for key, value in opt.items():
        entry = value if isinstance(value, dict) else {"latency_ms": value}
        entries.append({"uplink_mbps": float(key), **entry})
    return entries


def two_exact_methods(problem):
    if problem.device_budget:
        return ("ilp", "brute_force") if problem.n_layers <= MAX_LAYERS else ("ilp",)
    return ("qdmp", "mincut", "ilp")


def test_instances_present():
    names = {f.stem for f in FILES}
    assert set(REAL) <= names and "synthetic_700" in names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_loads_and_round_trips(path):
    problem = load(path)
    assert problem.n_layers > 0
    assert problem.infeasibility_reason() is None
    assert problem.to_dict() == json.loads(path.read_text()) | {"name": problem.to_dict()["name"]}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_stored_optima_match_fresh_exact_solves(path):
    problem = load(path)
    entries = optimum_entries(problem) or [{"uplink_mbps": problem.network.uplink_mbps}]
    methods = two_exact_methods(problem)
    assert len(methods) >= 2 or problem.n_layers > MAX_LAYERS
    for entry in entries:
        inst = problem.with_network(uplink_mbps=entry["uplink_mbps"])
        values = []
        for method in methods:
            sol = solvers.solve(inst, method=method)
            assert sol.status.value == "optimal", (method, sol.message)
            values.append(sol.objective)
        assert max(values) - min(values) <= 1e-6 * max(1.0, min(values)), (methods, values)
        if "latency_ms" in entry:
            assert math.isclose(values[0], entry["latency_ms"], rel_tol=1e-7, abs_tol=1e-5), entry["uplink_mbps"]
        if "device" in entry:  # the stored partition is feasible and achieves the optimum
            assert math.isclose(inst.latency(entry["device"]), values[0], rel_tol=1e-7, abs_tol=1e-5)


@pytest.mark.parametrize("name", REAL + ("synthetic_700",))
def test_generated_files_carry_provenance_and_four_uplinks(name):
    problem = load(ROOT / "instances" / "partition" / f"{name}.json")
    meta = problem.metadata
    assert set(meta["optimum"]) == UPLINKS
    for key, entry in meta["optimum"].items():
        assert float(key) == entry["uplink_mbps"]
    assert {"source", "units", "costs", "device_profile", "server_profile"} <= set(meta)
    assert meta["device_profile"]["sources"] and meta["server_profile"]["sources"]
    # a faster uplink never makes the optimum worse
    values = [meta["optimum"][k]["latency_ms"] for k in sorted(meta["optimum"], key=float)]
    assert all(b <= a + 1e-9 for a, b in zip(values, values[1:]))


@pytest.mark.parametrize(
    "name, layers, published_gmacs, tolerance",
    [("resnet18", 32, 1.82, 0.01), ("googlenet", 82, 1.5, 0.06), ("vgg16", 22, 15.47, 0.01)],
)
def test_real_architectures_match_published_macs(name, layers, published_gmacs, tolerance):
    problem = load(ROOT / "instances" / "partition" / f"{name}.json")
    assert problem.n_layers == layers
    macs = sum(layer.flops for layer in problem.layers if layer.op in ("conv", "fc")) / 2
    assert abs(macs / 1e9 - published_gmacs) <= tolerance * published_gmacs
    assert problem.metadata["macs"]["conv_fc_total"] == macs
    assert problem.output_bytes[problem.index["input"]] == 3 * 224 * 224 * 4


def test_synthetic_700_is_reproducible_from_the_generator():
    from formulations.partition.generators import synthetic_dnn

    shipped = load(ROOT / "instances" / "partition" / "synthetic_700.json").to_dict()
    fresh = synthetic_dnn(700, seed=0, uplink_mbps=5.85).to_dict()
    assert shipped["layers"] == fresh["layers"] and shipped["edges"] == fresh["edges"]
    assert shipped["network"] == fresh["network"]
