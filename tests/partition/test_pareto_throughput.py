"""The latency-throughput Pareto front (``solvers.pareto(problem, objectives=("latency", "throughput"))``).

Checked against brute-force enumeration of every plan on small random DAGs: k = 2..4 tiers with pins
and latency caps (dyadic data: exact equality), and two-tier files with fractional values (relative
tolerance); every point is re-evaluated by the problem's own evaluator.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings

import formulations
import solvers
from formulations.errors import OptionError
from formulations.partition.strategies import partition_problems
from formulations.partition.tier_strategies import tiered_instances
from solvers.algorithms.partition.tier_brute_force import brute_force_front
from tests.helpers import INSTANCES, examples

SETTINGS = settings(max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])
STREAM = ("latency", "throughput")


def front_points(front):
    return [(s.details["latency_ms"], s.details["period_ms"]) for s in front]


def check_points_reevaluate(problem, front):
    """Each point is feasible, and its latency and period are what the evaluator says; strictly
    increasing latency and throughput (no point dominates another)."""
    for sol in front:
        value = problem.evaluate(sol.assignment)
        assert value.latency_ms == sol.details["latency_ms"]
        period = problem.measures(problem.tier_vector(sol.assignment))[2]["period_ms"]
        assert period == sol.details["period_ms"]
        assert sol.details["throughput_fps"] == (pytest.approx(1000.0 / period) if period else math.inf)
        assert sol.status.value == "optimal"
    for a, b in zip(front, front[1:]):
        assert a.details["latency_ms"] < b.details["latency_ms"]
        assert a.details["period_ms"] > b.details["period_ms"]


@SETTINGS
@given(tiered_instances(n_tiers=(2, 3, 4), objectives=("throughput", "latency"), constraints=True)
       | tiered_instances(n_tiers=(2, 3, 4), objectives=("throughput",), budget=True))
def test_k_tier_front_equals_brute_force(problem):
    front = solvers.pareto(problem, objectives=STREAM)
    assert front.complete and front.exact
    truth = brute_force_front(problem, second="period")
    assert front_points(front) == [(lat, period) for lat, period, _ in truth]  # dyadic data: exact
    check_points_reevaluate(problem, front)


@SETTINGS
@given(partition_problems(max_layers=7, fractional=True))
def test_two_tier_front_with_fractional_values_equals_brute_force(problem):
    front = solvers.pareto(problem, objectives=STREAM)
    truth = brute_force_front(problem, second="period")
    got = front_points(front)
    assert len(got) == len(truth), (got, truth)
    for (lat, period), (t_lat, t_period, _) in zip(got, truth):
        assert lat == pytest.approx(t_lat, rel=1e-9) and period == pytest.approx(t_period, rel=1e-9)
    check_points_reevaluate(problem, front)


def test_default_front_follows_the_objective_and_ends_at_the_optimum():
    """A throughput instance's default front is latency-throughput; its extremes are the
    latency-optimal plan (least latency) and the throughput-optimal plan (most frames/s)."""
    data = json.loads((INSTANCES / "partition" / "tiny_chain.json").read_text())
    data["network"]["uplink_mbps"] = 20.0
    latency = formulations.PartitionProblem.from_dict(data)
    data["objective"] = "throughput"
    stream = formulations.PartitionProblem.from_dict(data)
    front = solvers.pareto(stream)
    assert "throughput_fps" in front[0].details
    assert front[0].details["latency_ms"] == pytest.approx(solvers.solve(latency).objective)
    assert front[-1].details["throughput_fps"] == pytest.approx(solvers.solve(stream).objective)
    assert front[-1].objective == pytest.approx(front[-1].details["throughput_fps"])


def test_max_points_cuts_the_front_short():
    from formulations.partition.generators import synthetic_dnn

    problem = synthetic_dnn(40, seed=3).with_network(uplink_mbps=20.0)
    full = solvers.pareto(problem, objectives=STREAM)
    assert full.complete and len(full) >= 2
    short = solvers.pareto(problem, objectives=STREAM, max_points=1)
    assert not short.complete and "max_points" in short.message
    assert front_points(short) == front_points(full)[:1]


@pytest.mark.parametrize("objectives", ["throughput", ("latency", "period"), ("throughput", "latency")])
def test_unknown_objectives_name_the_option(objectives):
    problem = formulations.load(INSTANCES / "partition" / "tiny_chain.json")
    with pytest.raises(OptionError, match="objectives"):
        solvers.pareto(problem, objectives=objectives)


def test_the_energy_front_still_needs_an_energy_model():
    problem = formulations.load(INSTANCES / "partition" / "tiny_chain.json")
    with pytest.raises(OptionError, match="energy"):
        solvers.pareto(problem, objectives=("latency", "energy"))
    assert not math.isnan(solvers.pareto(problem, objectives=STREAM)[0].details["latency_ms"])


def stream_file(tmp_path, mbps=20.0):
    data = json.loads((INSTANCES / "partition" / "googlenet.json").read_text())
    data["network"]["uplink_mbps"] = mbps
    data["objective"] = "throughput"
    path = tmp_path / "stream.json"
    path.write_text(json.dumps(data))
    return path


def test_cli_pareto_prints_the_throughput_front(tmp_path, capsys):
    from solvers.cli import main

    path = stream_file(tmp_path)
    front = solvers.pareto(formulations.load(path))
    assert main(["pareto", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Throughput(frames/s)" in out and f"points: {len(front)}" in out
    for sol in front:
        assert f"{sol.details['throughput_fps']:.3f}" in out
    assert main(["pareto", str(path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["details"]["latency_ms"] for r in rows] == [s.details["latency_ms"] for s in front]
    assert main(["pareto", str(path), "--objectives", "latency,period"]) == 2
    assert "--objectives" in capsys.readouterr().err
    assert main(["pareto", str(INSTANCES / "partition" / "tiny_chain.json"), "--objectives", "latency,throughput"]) == 0


def test_plot_pareto_draws_the_throughput_front(tmp_path):
    pytest.importorskip("matplotlib")
    from solvers.cli import main
    from solvers.plots import plot_pareto

    path = stream_file(tmp_path)
    problem = formulations.load(path)
    fig = plot_pareto(problem)
    front = solvers.pareto(problem)
    line = next(a for a in fig.axes[0].lines if a.get_gid() == "points")
    assert list(line.get_ydata()) == [s.details["throughput_fps"] for s in front]
    assert fig.axes[0].get_ylabel() == "throughput (frames/s)"
    out = tmp_path / "front.png"
    assert main(["plot", "pareto", str(path), "-o", str(out)]) == 0 and out.stat().st_size > 0


@pytest.mark.parametrize("edit, field", [
    (lambda d: d.__setitem__("objective", {"weighted": {"throughput": 1.0, "energy": 0.5}}),
     "objective.weighted.throughput"),
    (lambda d: d.__setitem__("constraints", {"latency_max_ms": -1.0}), "constraints.latency_max_ms"),
])
@pytest.mark.parametrize("command", [["solve"], ["pareto"], ["bandwidth-map"]])
def test_bad_throughput_input_is_a_clear_cli_error(tmp_path, capsys, edit, field, command):
    """Exit code 2 and one line naming the file and the field, from every command that takes a stream."""
    from solvers.cli import main

    data = json.loads((INSTANCES / "partition" / "tiny_chain.json").read_text())
    data["objective"] = "throughput"
    edit(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    assert main(command + [str(path)]) == 2
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "bad.json" in text and field in text and "Traceback" not in text


@settings(max_examples=examples(15), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiered_instances(objectives=("throughput",), constraints=True))
def test_the_energy_front_of_a_throughput_instance_is_still_latency_energy(problem):
    """Explicit weights build the weighted model, not the period's (a throughput instance's weights are
    the latency's): its latency-energy front equals brute force."""
    got = [(s.details["latency_ms"], s.details["energy_mj"]) for s in solvers.pareto(problem, objectives=("latency", "energy"))]
    assert got == [(lat, en) for lat, en, _ in brute_force_front(problem)]
