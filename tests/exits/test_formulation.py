"""The exits formulation: validation, the evaluator, round trips."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import formulations
from formulations.errors import InfeasibleAssignmentError, InstanceError
from formulations.exits import ExitProblem
from formulations.exits.strategies import exit_problems
from tests.helpers import FIXTURES, examples

BROKEN = FIXTURES / "broken" / "exits"

#: broken file -> the field its error must name
EXPECTED_FIELD = {
    "rows_of_different_lengths": "samples.confidence[1]",
    "confidence_outside_unit_interval": "samples.confidence[0][1]",
    "correct_not_binary": "samples.correct[1][0]",
    "exit_after_unknown_block": "exits[0].after",
    "ms_wrong_length": "blocks[1].ms",
    "no_final_exit": "exits[0].after",
    "links_wrong_count": "links",
    "correct_rows_missing": "samples.correct",
    "accuracy_objective_without_latency_max": "constraints.latency_max_ms",
    "samples_file_missing": "samples",
    "negative_exit_ms": "exits[0].ms[1]",
    "accuracy_min_above_one": "constraints.accuracy_min",
}


def reference_latency(problem, plan, s):
    """Latency of sample ``s``, written directly from the issue's formula with loops."""
    place = plan["placement"]
    kept = {problem.exit_index[nm]: t for nm, t in plan["thresholds"].items()}
    E = problem.n_exits
    stop = E - 1
    for e in range(E - 1):
        if e in kept and problem.confidence[s, e] >= kept[e]:
            stop = e
            break
    j = problem.block_index[problem.exits[stop].after]
    node = place[j]
    total = sum(problem.blocks[i].ms[place[i]] for i in range(j + 1))
    for e in range(stop + 1):
        if e in kept or e == E - 1 and stop == E - 1 or e == stop:
            total += problem.exits[e].ms[place[problem.block_index[problem.exits[e].after]]]
    for l in range(node):
        # the last block on a node <= l sends its output; input if none
        before = [i for i in range(len(place)) if place[i] <= l]
        nbytes = problem.blocks[before[-1]].output_bytes if before else problem.input_bytes
        link = problem.links[l]
        total += nbytes * 8 / (link.mbps * 1000) + link.rtt_ms
        total += problem.result_bytes * 8 / (link.mbps * 1000) + link.rtt_ms
    return total, int(problem.correct[s, stop])


@st.composite
def problems_and_plans(draw):
    problem = draw(exit_problems(max_samples=12, max_exits=4, max_nodes=3, max_blocks=5, constrained=False,
                                 objective="latency"))
    cuts = sorted(draw(st.lists(st.integers(0, problem.n_blocks), min_size=problem.n_nodes - 1,
                                max_size=problem.n_nodes - 1)))
    place = [sum(i >= c for c in cuts) for i in range(problem.n_blocks)]
    thresholds = {}
    for e, x in enumerate(problem.exits[:-1]):
        if draw(st.booleans()):
            thresholds[x.name] = x.threshold if x.threshold is not None else draw(st.sampled_from((0.0, 0.3, 0.6, 1.0)))
    return problem, {"placement": place, "thresholds": thresholds}


@settings(max_examples=examples(100))
@given(problems_and_plans())
def test_evaluator_matches_the_formula_sample_by_sample(case):
    problem, plan = case
    res = problem.evaluate(plan)
    lats, oks = zip(*(reference_latency(problem, plan, s) for s in range(problem.n_samples)))
    assert math.isclose(res.mean_latency_ms, sum(lats) / problem.n_samples, rel_tol=1e-12, abs_tol=1e-12)
    assert res.correct == sum(oks)
    assert res.accuracy == sum(oks) / problem.n_samples
    assert sum(res.exit_counts.values()) == problem.n_samples


def _base(**changes):
    data = json.loads((BROKEN / "links_wrong_count.json").read_text())
    data["links"] = [{"mbps": 8.0, "rtt_ms": 1.0}]
    data.update(changes)
    return data


def test_worked_example_by_hand():
    data = _base(input_bytes=1000, result_bytes=1000,
                 blocks=[{"name": "b1", "ms": [10, 2], "output_bytes": 2000},
                         {"name": "b2", "ms": [10, 2], "output_bytes": 1000}],
                 exits=[{"name": "e1", "after": "b1", "ms": [1, 1]}, {"name": "final", "after": "b2", "ms": [1, 1]}])
    p = ExitProblem.from_dict(data)
    # device runs b1 (10) + e1 (1); sample 1 (conf 0.91 >= 0.9) stops: 11 ms, correct.
    # sample 0 continues: +2000 B up (2 ms) + 1 rtt, b2 on edge (2), final (1),
    # 1000 B back (1 ms) + 1 rtt: 11 + 3 + 2 + 1 + 2 = 19 ms, correct.
    res = p.evaluate({"placement": [0, 1], "thresholds": {"e1": 0.9}})
    assert res.mean_latency_ms == pytest.approx((11 + 19) / 2)
    assert res.accuracy == 1.0 and res.exit_counts == {"e1": 1, "final": 1}


@pytest.mark.parametrize("path", sorted(BROKEN.glob("*.json")), ids=lambda p: p.stem)
def test_broken_files_name_the_field(path):
    with pytest.raises(InstanceError) as info:
        formulations.load(path)
    assert info.value.field == EXPECTED_FIELD[path.stem]
    assert str(path) in str(info.value)


def test_every_broken_file_is_listed():
    assert {p.stem for p in BROKEN.glob("*.json")} == set(EXPECTED_FIELD)


def test_cli_rejects_broken_files_without_traceback():
    files = [str(p) for p in sorted(BROKEN.glob("*.json"))]
    for cmd in ("solve", "validate"):
        out = subprocess.run([sys.executable, "-m", "solvers.cli", cmd, *files], capture_output=True, text=True)
        assert out.returncode == 2
        assert "Traceback" not in out.stderr + out.stdout


@pytest.mark.parametrize("plan, match", [
    ({"placement": [1, 0], "thresholds": {}}, "nondecreasing"),
    ({"placement": [0], "thresholds": {}}, "2 node indices"),
    ({"placement": [0, 2], "thresholds": {}}, "node index"),
    ({"placement": [0, 0], "thresholds": {"nope": 0.5}}, "unknown exit"),
    ({"placement": [0, 0], "thresholds": {"final": 0.5}}, "final"),
    ({"placement": [0, 0], "thresholds": {"e1": float("nan")}}, "finite"),
    ({"placement": [0, 0], "thresholds": {}, "extra": 1}, "unknown assignment"),
])
def test_bad_assignments_raise(plan, match):
    p = ExitProblem.from_dict(_base())
    with pytest.raises(InfeasibleAssignmentError, match=match):
        p.evaluate(plan)


def test_constraint_violations_raise_but_measure_reports():
    p = ExitProblem.from_dict(_base(constraints={"accuracy_min": 1.0, "max_exits": 0}))
    with pytest.raises(InfeasibleAssignmentError, match="max_exits"):
        p.evaluate({"placement": [0, 0], "thresholds": {"e1": 0.0}})
    p = ExitProblem.from_dict(_base(samples={"confidence": [[0.4, 0.7], [0.9, 0.95]], "correct": [[0, 0], [1, 1]]},
                                    constraints={"accuracy_min": 1.0}))
    plan = {"placement": [0, 0], "thresholds": {}}
    with pytest.raises(InfeasibleAssignmentError, match="accuracy"):
        p.evaluate(plan)
    assert not p.measure(plan).feasible and p.measure(plan).accuracy == 0.5


def test_fixed_threshold_is_enforced():
    data = _base()
    data["exits"][0]["threshold"] = 0.8
    p = ExitProblem.from_dict(data)
    assert p.candidate_thresholds(0).tolist() == [0.8]
    with pytest.raises(InfeasibleAssignmentError, match="fixed threshold"):
        p.evaluate({"placement": [0, 0], "thresholds": {"e1": 0.5}})


@settings(max_examples=examples(30))
@given(exit_problems(max_samples=10))
def test_round_trip_through_dict_and_json(problem):
    again = ExitProblem.from_dict(json.loads(json.dumps(problem.to_dict())))
    assert again.to_dict() == problem.to_dict()
    plan = {"placement": [0] * problem.n_blocks, "thresholds": {}}
    assert again.measure(plan) == problem.measure(plan)


def test_npz_samples_beside_the_file(tmp_path):
    data = _base()
    conf, correct = np.array(data["samples"]["confidence"]), np.array(data["samples"]["correct"])
    np.savez(tmp_path / "s.npz", confidence=conf, correct=correct)
    data["samples"] = "s.npz"
    (tmp_path / "inst.json").write_text(json.dumps(data))
    p = formulations.load(tmp_path / "inst.json")
    assert p.n_samples == 2 and p.to_dict()["samples"] == "s.npz"
    np.savez(tmp_path / "bad.npz", confidence=conf)
    data["samples"] = "bad.npz"
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(InstanceError, match="correct"):
        formulations.load(tmp_path / "bad.json")


def test_min_correct_uses_the_evaluators_test():
    p = ExitProblem.from_dict(_base(samples={"confidence": [[0.5, 0.5]] * 30, "correct": [[1, 1]] * 30},
                                    constraints={"accuracy_min": 0.9}))
    c = p.min_correct()
    assert c / 30 >= 0.9 and (c - 1) / 30 < 0.9


def test_sample_errors_show_plain_numbers():
    """Messages name the value as the file has it: 'got 1.3', not 'got np.float64(1.3)'."""
    import json

    from formulations.errors import InstanceError
    from tests.helpers import INSTANCES

    data = json.loads((INSTANCES / "exits" / "worked_example.json").read_text())
    data["samples"]["confidence"][0][0] = 1.3
    with pytest.raises(InstanceError, match=r"got 1\.3") as info:
        ExitProblem.from_dict(data)
    assert "np." not in str(info.value)
    data["samples"]["confidence"][0][0] = 0.5
    data["samples"]["correct"][0][0] = 2
    with pytest.raises(InstanceError, match=r"got 2\b") as info:
        ExitProblem.from_dict(data)
    assert "np." not in str(info.value)
