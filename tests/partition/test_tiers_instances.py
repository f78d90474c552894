"""The shipped k-tier instances: stored optima and Pareto fronts proven again; the CLI."""

import json
import math
import subprocess
import sys

import pytest

import formulations
import solvers
from solvers.cli import main
from tests.helpers import INSTANCES

TIERS_DIR = INSTANCES / "partition" / "tiers"
FILES = sorted(TIERS_DIR.glob("*.json")) + [INSTANCES / "partition" / "tiers_energy.json"]
GENERATED = [p for p in FILES if "tiers_optimum" in json.loads(p.read_text()).get("metadata", {})]


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def at_uplink(problem, mbps, objective):
    """The instance at a link-0 uplink, radio powers re-evaluated (as make_tiers.py does)."""
    from importlib import util

    spec = util.spec_from_file_location("make_tiers", INSTANCES / "partition" / "make_tiers.py")
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.at_uplink(problem, mbps, objective)


def test_generated_files_are_there():
    names = {p.stem for p in GENERATED}
    assert {"resnet18_3tier", "vgg16_3tier", "googlenet_3tier", "synthetic_700_3tier", "tiers_energy"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_loads_round_trips_and_solves(path):
    problem = formulations.load(path)
    assert problem.kind == "partition" and problem.infeasibility_reason() is None
    assert problem.to_dict() == json.loads(path.read_text())
    sol = solvers.solve(problem)
    assert sol.status.value == "optimal" and sol.method == "mincut"


@pytest.mark.parametrize("path", GENERATED, ids=lambda p: p.name)
def test_stored_optima_are_proven_again(path):
    problem = formulations.load(path)
    meta = problem.metadata
    assert meta["power"]["source"].startswith("J. Huang") and problem.tiers == ("phone", "edge", "cloud")
    for mbps, entry in meta["tiers_optimum"].items():
        for objective, stored in entry.items():
            inst = at_uplink(problem, float(mbps), objective)
            methods = ("mincut", "ilp") if inst.n_layers < 100 else ("mincut",)
            for method in methods:
                sol = solvers.solve(inst, method=method)
                assert sol.status.value == "optimal"
                value = inst.evaluate(sol.assignment)
                target = stored["latency_ms"] if objective == "latency" else stored["energy_mj"]
                assert close(sol.objective, target), (mbps, objective, method)
            assert close(value.latency_ms if objective == "latency" else value.energy_mj, target)


@pytest.mark.parametrize("path", [p for p in GENERATED if "pareto" in json.loads(p.read_text())["metadata"]],
                         ids=lambda p: p.name)
def test_stored_fronts_are_proven_again(path):
    problem = formulations.load(path)
    front = solvers.pareto(problem.replace(metadata={}))
    stored = problem.metadata["pareto"]
    assert len(front) == len(stored)
    for sol, (latency, energy, counts, supported) in zip(front, stored):
        assert close(sol.details["latency_ms"], latency) and close(sol.details["energy_mj"], energy)
        assert sol.details["supported"] == supported
    assert all(a[0] < b[0] and a[1] > b[1] for a, b in zip(stored, stored[1:]))


def test_worked_example_front():
    problem = formulations.load(TIERS_DIR / "worked_example.json")
    front = solvers.pareto(problem)
    got = [(s.details["latency_ms"], s.details["energy_mj"], s.details["supported"]) for s in front]
    assert [(round(a, 6), round(b, 6), s) for a, b, s in got] == [
        (92.0, 276.0, True), (103.8, 228.55, False), (105.755, 167.03875, True)
    ]


def run(*args):
    return subprocess.run([sys.executable, "-m", "solvers.cli", *map(str, args)], capture_output=True, text=True)


def test_cli_solve_and_pareto(capsys):
    path = INSTANCES / "partition" / "tiers_energy.json"
    assert main(["solve", str(path)]) == 0
    out = capsys.readouterr().out
    assert "on phone/edge/cloud" in out and "mJ" in out
    assert main(["pareto", str(TIERS_DIR / "worked_example.json")]) == 0
    out = capsys.readouterr().out
    assert "Supported" in out and "points: 3" in out
    assert main(["pareto", "--json", str(TIERS_DIR / "worked_example.json")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["details"]["supported"] for d in data] == [True, False, True]


def test_cli_pareto_refuses_two_tier_files():
    res = run("pareto", INSTANCES / "partition" / "tiny_chain.json")
    assert res.returncode == 2 and "energy" in res.stderr and "Traceback" not in res.stderr
    res = run("bandwidth-map", TIERS_DIR / "worked_example.json")
    assert res.returncode == 2 and "Traceback" not in res.stderr


def test_methods_lists_the_tier_methods(capsys):
    """One `partition` table serves both forms (there is no `tiers` kind); the k-tier methods are in it
    and solve a k-tier instance, the two-tier-only ones refuse it with an OptionError (exit 2)."""
    assert main(["methods", "partition"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "partition:" and "k tiers" in out
    listed = {line.split()[0] for line in out.splitlines()[1:]}
    assert {"mincut", "ilp", "brute_force", "qdmp", "chain"} <= listed
    path = str(INSTANCES / "partition" / "tiers" / "worked_example.json")
    assert main(["solve", path, "-m", "qdmp"]) == 2
