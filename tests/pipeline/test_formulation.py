"""Pipeline formulation: format, validation, evaluator, Taillard reader, instance files."""

import json
from pathlib import Path

import numpy as np
import pytest

import formulations
import solvers
from tests.reference import pipeline_objective
from formulations.errors import InfeasibleAssignmentError, InstanceError
from formulations.pipeline import Config, PipelineProblem, Task
from formulations.pipeline.taillard import TA_20x5, parse_taillard, read_taillard, read_taillard_all, taillard_times
from solvers.solution import Status
from tests.helpers import FIXTURES, ROOT

BROKEN = FIXTURES / "broken" / "pipeline"

EXAMPLE = {
    "kind": "pipeline",
    "version": 1,
    "stages": ["device", "uplink", "server"],
    "tasks": [
        {"name": "t1", "configs": [{"name": "local", "ms": [10.0, 0.0, 0.0], "accuracy": 0.9},
                                   {"name": "cut/int8", "ms": [2.0, 4.0, 3.0], "accuracy": 0.88}]},
        {"name": "t2", "release_ms": 5.0, "configs": [{"name": "only", "ms": [3.0, 6.0, 1.0]}]},
    ],
    "objective": "makespan",
    "constraints": {"deadline_ms": 40.0},
    "metadata": {"source": "hand-made"},
}


def test_evaluate_rebuilds_the_schedule_by_hand():
    p = PipelineProblem.from_dict(EXAMPLE)
    s = p.evaluate({"order": ["t1", "t2"], "configs": {"t1": "cut/int8"}})
    # t1: device 0-2, uplink 2-6, server 6-9; t2 released at 5: device 5-8, uplink 8-14, server 14-15
    assert s.start_ms.tolist() == [[0, 2, 6], [5, 8, 14]]
    assert s.end_ms.tolist() == [[2, 6, 9], [8, 14, 15]]
    assert s.objective == s.makespan_ms == 15.0
    assert s.latency_ms == {"t1": 9.0, "t2": 10.0}
    assert s.stage_load_ms.tolist() == [5.0, 10.0, 4.0]
    assert s.rate_per_s == pytest.approx(2 * 1000 / 10.0)
    # the other order: t2 waits for nothing, t1 waits behind it
    s2 = p.evaluate({"order": ["t2", "t1"], "configs": {"t1": "local"}})
    assert s2.end_ms.tolist() == [[8, 14, 15], [18, 18, 18]]


def test_rate_objective_and_sense():
    data = dict(EXAMPLE, objective="rate")
    p = PipelineProblem.from_dict(data)
    assert p.sense == "max"
    s = p.evaluate({"order": ["t2", "t1"], "configs": {"t1": "local"}})
    assert s.objective == pytest.approx(2 * 1000 / 13.0)  # device load 10 + 3
    assert s.latency_ms["t1"] == 10.0


@pytest.mark.parametrize(
    "assignment, match",
    [
        ({"order": ["t1"], "configs": {"t1": "local"}}, "permutation"),
        ({"order": ["t1", "t2"], "configs": {}}, "no configuration chosen"),
        ({"order": ["t1", "t2"], "configs": {"t1": "nope"}}, "no configuration"),
        ({"order": ["t1", "t3"], "configs": {"t1": "local"}}, "unknown task"),
        ({"order": ["t1", "t2"], "configs": {"t1": "local"}, "extra": 1}, "unknown assignment key"),
        (["t1", "t2"], "assignment is"),
    ],
)
def test_malformed_assignments(assignment, match):
    p = PipelineProblem.from_dict(EXAMPLE)
    with pytest.raises(InfeasibleAssignmentError, match=match):
        p.evaluate(assignment)


def test_constraints_are_checked_by_the_evaluator():
    with pytest.raises(InstanceError, match=r"tasks\[1\]\.configs\[0\]\.accuracy"):
        PipelineProblem.from_dict(dict(EXAMPLE, constraints={"accuracy_min": 0.95}))  # t2 has no accuracy
    tasks = [dict(t) for t in EXAMPLE["tasks"]]
    tasks[1] = {"name": "t2", "release_ms": 5.0, "configs": [{"name": "only", "ms": [3.0, 6.0, 1.0], "accuracy": 0.8}]}
    p = PipelineProblem.from_dict(dict(EXAMPLE, tasks=tasks, constraints={"accuracy_min": 0.85, "deadline_ms": 16.0}))
    with pytest.raises(InfeasibleAssignmentError, match="mean accuracy"):
        p.evaluate({"order": ["t1", "t2"], "configs": {"t1": "cut/int8"}})  # (0.88 + 0.8) / 2 = 0.84
    with pytest.raises(InfeasibleAssignmentError, match="deadline"):
        p.evaluate({"order": ["t2", "t1"], "configs": {"t1": "local"}})  # t1 waits: latency 18
    assert p.evaluate({"order": ["t1", "t2"], "configs": {"t1": "local"}}).objective == 20.0


def test_round_trip_and_flowshop_kind():
    p = PipelineProblem.from_dict(EXAMPLE)
    q = PipelineProblem.from_dict(json.loads(json.dumps(p.to_dict())))
    assert q.to_dict() == p.to_dict()
    flow = {"kind": "flowshop", "version": 1, "tasks": [{"ms": [3, 2]}, {"name": "b", "ms": [1, 4], "release_ms": 2}]}
    f = formulations.load_dict(flow)
    assert f.kind == "pipeline" and f.stages == ("m1", "m2") and f.task_names == ["j1", "b"]
    d = f.to_dict()
    assert d["kind"] == "flowshop" and d["tasks"][1]["ms"] == [1.0, 4.0]
    assert PipelineProblem.from_dict(d).to_dict() == d
    assert solvers.solve(f).status == Status.OPTIMAL


EXPECTED_FIELDS = {
    "ragged_ms.json": "tasks[0].configs[1].ms",
    "negative_ms.json": "tasks[0].configs[0].ms[1]",
    "no_config.json": "tasks[0].configs",
    "accuracy_out_of_range.json": "tasks[0].configs[1].accuracy",
    "unknown_objective.json": "objective",
    "missing_accuracy.json": "tasks[0].configs[1].accuracy",
    "duplicate_task.json": "tasks[1].name",
    "negative_release.json": "tasks[0].release_ms",
    "bad_deadline.json": "constraints.deadline_ms",
    "flowshop_ragged.json": "tasks[1].ms",
}


@pytest.mark.parametrize("name", sorted(EXPECTED_FIELDS))
def test_broken_files_name_file_and_field(name):
    path = BROKEN / name
    with pytest.raises(InstanceError) as info:
        formulations.load(path)
    assert info.value.field == EXPECTED_FIELDS[name]
    assert info.value.file == str(path)


def test_every_broken_file_is_covered():
    assert {p.name for p in BROKEN.glob("*.json")} == set(EXPECTED_FIELDS)


def test_cli_solve_on_broken_files_exits_2_without_traceback(capsys):
    from solvers.cli import main

    code = main(["solve", *map(str, sorted(BROKEN.glob("*.json")))])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "tasks[0].configs[1].ms" in err


def test_taillard_generator_matches_published_ta001():
    times = taillard_times(20, 5, 873654221)
    assert times[0] == [54, 83, 15, 71, 77, 36, 53, 38, 27, 87, 76, 91, 14, 29, 12, 77, 32, 87, 68, 94]
    assert all(1 <= v <= 99 for row in times for v in row)


@pytest.mark.parametrize("name, seed, optimum", TA_20x5)
def test_taillard_files_match_the_generator(name, seed, optimum):
    p = read_taillard(ROOT / "instances" / "flowshop" / f"{name}.fsp")
    assert (p.n, p.m) == (20, 5)
    assert p.metadata["optimum"] == optimum and "Taillard" in p.metadata["source"]
    gen = np.array(taillard_times(20, 5, seed)).T
    assert np.array_equal(np.array([p.times[j][0] for j in range(20)]), gen)
    neh = solvers.pipeline(p, method="neh")
    assert neh.bound <= optimum <= neh.objective


def test_taillard_reader_errors_and_multi_instance(tmp_path):
    with pytest.raises(InstanceError, match="60 numbers|10 numbers|expected 2 rows"):
        read_taillard(BROKEN / "wrong_count.fsp")
    with pytest.raises(InstanceError, match="not a Taillard file"):
        parse_taillard("hello")
    one = (ROOT / "instances" / "flowshop" / "ta001.fsp").read_text()
    two = one + (ROOT / "instances" / "flowshop" / "ta002.fsp").read_text()
    path = tmp_path / "two.fsp"
    path.write_text(two)
    assert [p.metadata["optimum"] for p in read_taillard_all(path)] == [1278, 1359]
    with pytest.raises(InstanceError, match="holds 2 instances"):
        read_taillard(path)


@pytest.mark.skipif(".fsp" not in formulations.io.TEXT_READERS, reason="the .fsp reader is registered by the integrator")
def test_load_dispatches_taillard_suffix():
    p = formulations.load(ROOT / "instances" / "flowshop" / "ta001.fsp")
    assert p.metadata["optimum"] == 1278


@pytest.mark.parametrize("path", sorted((ROOT / "instances" / "pipeline").glob("*.json")), ids=lambda p: p.name)
def test_pipeline_instances_load_and_solve(path):
    p = formulations.load(path)
    assert "source" in p.metadata and p.m == 3 and p.has_choice
    sol = solvers.pipeline(p, method="bottleneck")
    assert sol.assignment is not None and sol.bound is not None
    assert sol.objective == pytest.approx(pipeline_objective(p, sol.assignment), rel=1e-9)
    assert (sol.bound <= sol.objective) if p.sense == "min" else (sol.bound >= sol.objective)


def test_summarize_and_repr():
    p = PipelineProblem.from_dict(EXAMPLE)
    line = p.summarize({"order": ["t1", "t2"], "configs": {"t1": "local"}})
    assert line.startswith("order t1 t2") and "acc" not in line  # t2 has no accuracy
    assert "tasks=2" in repr(p)


def test_infeasibility_reason():
    t = [Task("a", (Config("x", (5.0, 5.0), 0.9), Config("y", (1.0, 1.0), 0.5)))]
    assert PipelineProblem(["d", "s"], t, deadline_ms=3.0, accuracy_min=0.8).infeasibility_reason().startswith("best reachable")
    assert "every configuration" in PipelineProblem(["d", "s"], t, deadline_ms=1.0).infeasibility_reason()
    assert PipelineProblem(["d", "s"], t, accuracy_min=0.8).infeasibility_reason() is None


@pytest.mark.parametrize("path", sorted((ROOT / "instances" / "flowshop").glob("*.json")), ids=lambda p: p.name)
def test_flowshop_json_instances_reach_their_optimum(path):
    p = formulations.load(path)
    assert p.to_dict()["kind"] == "flowshop"
    sol = solvers.pipeline(p, method="exact")
    assert sol.status == Status.OPTIMAL and sol.objective == p.metadata["optimum"]
