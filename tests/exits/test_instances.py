"""Committed exit instances, the CLI on them, and holdout evaluation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import formulations
import solvers
from tests.reference import exits_objective
from solvers import cli
from solvers.algorithms.exits import holdout, split_samples
from tests.helpers import INSTANCES, registered_commands

EXITS = INSTANCES / "exits"
FILES = sorted(EXITS.glob("*.json"))


@pytest.fixture
def exits_cli():
    """The coinfer CLI, which lists the exits extension."""
    assert "exits-holdout" in registered_commands()
    return cli.main


def test_instances_are_committed():
    names = {p.name for p in FILES}
    assert {"digits_1node.json", "digits_2node.json", "digits_2node_test.json", "resnet18_1node.json",
            "resnet18_2node.json", "resnet18_3node.json", "resnet18_3node_fixed.json"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_instances_load_and_the_dp_solves_them(path):
    problem = formulations.load(path)
    assert problem.kind == "exits" and problem.metadata.get("source")
    sol = solvers.exits(problem, method="dp")
    assert sol.status.value in ("optimal", "feasible")
    assert sol.objective == pytest.approx(exits_objective(problem, sol.assignment), rel=1e-9)


def test_dp_is_exact_on_the_fixed_threshold_instance():
    problem = formulations.load(EXITS / "resnet18_3node_fixed.json")
    dp = solvers.exits(problem, method="dp")
    ex = solvers.exits(problem, method="exact")
    assert dp.status.value == ex.status.value == "optimal"
    assert dp.objective == pytest.approx(ex.objective, rel=1e-9)
    assert solvers.exits(problem).method == "dp"  # the default where dp is exact


@pytest.mark.parametrize("name, method", [("worked_example.json", "exact"), ("resnet18_3node_fixed.json", "dp")])
def test_recorded_optimum_matches_a_fresh_solve(name, method):
    problem = formulations.load(EXITS / name)
    sol = solvers.exits(problem, method=method)
    assert sol.status.value == "optimal"
    assert sol.objective == pytest.approx(problem.metadata["optimum"], rel=1e-9)


def test_exact_solves_the_real_digits_instance():
    problem = formulations.load(EXITS / "digits_1node.json")
    sol = solvers.exits(problem, method="exact", time_limit=30)
    assert sol.status.value in ("optimal", "time_limit")
    assert sol.bound <= sol.objective + 1e-12
    for name in ("dp", "greedy", "msdnet", "edgent"):
        h = solvers.exits(problem, method=name)
        if h.assignment is not None:
            assert h.objective >= sol.bound - 1e-12, name


@pytest.mark.slow
@pytest.mark.parametrize("name", ["resnet18_2node.json", "resnet18_3node.json"])
def test_exact_on_resnet_instances(name):
    problem = formulations.load(EXITS / name)
    sol = solvers.exits(problem, method="exact", time_limit=120)
    assert sol.status.value == "optimal"
    assert sol.objective == pytest.approx(problem.metadata["optimum"], rel=1e-9)
    for m in ("dp", "greedy", "msdnet", "edgent"):
        h = solvers.exits(problem, method=m)
        assert h.objective >= sol.objective - 1e-9, m
        assert h.bound is None or h.bound <= sol.objective + 1e-9, m


def test_cli_solves_and_validates_exit_files(capsys):
    files = [str(EXITS / "resnet18_3node_fixed.json"), str(EXITS / "digits_2node.json")]
    assert cli.main(["validate", *files]) == 0
    assert "ExitProblem" in capsys.readouterr().out
    assert cli.main(["solve", "-m", "dp", "--json", *files]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in records] == ["optimal", "feasible"]
    assert all(r["kind"] == "exits" for r in records)


def test_cli_subprocess_prints_a_table():
    out = subprocess.run([sys.executable, "-m", "solvers.cli", "solve", "-m", "greedy",
                          str(EXITS / "resnet18_2node.json")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "resnet18_2node.json" in out.stdout and "feasible" in out.stdout


def test_holdout_with_a_second_file(exits_cli, capsys):
    code = exits_cli(["exits-holdout", str(EXITS / "digits_2node.json"), "--test",
                      str(EXITS / "digits_2node_test.json"), "-m", "greedy", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n_validation"] == 359 and report["n_test"] == 360
    val = formulations.load(EXITS / "digits_2node.json")
    test = formulations.load(EXITS / "digits_2node_test.json")
    plan = report["solution"]["assignment"]
    assert report["test"]["accuracy"] == test.measure(plan).accuracy
    assert report["validation"]["mean_latency_ms"] == pytest.approx(val.measure(plan).mean_latency_ms)


def test_holdout_split_and_bad_options(exits_cli, capsys):
    problem = formulations.load(EXITS / "resnet18_2node.json")
    a, b = split_samples(problem, 0.3, seed=1)
    assert a.n_samples == 300 and b.n_samples == 700
    rep = holdout(problem, "dp", fraction=0.3, seed=1)
    assert rep.test.accuracy == b.measure(rep.solution.assignment).accuracy
    assert exits_cli(["exits-holdout", str(EXITS / "resnet18_2node.json"), "--fraction", "2"]) == 2
    assert exits_cli(["exits-holdout", str(EXITS / "resnet18_2node.json"), "--test",
                      str(EXITS / "digits_2node.json")]) == 2
    assert "Traceback" not in capsys.readouterr().err
