"""Offloading task profiles from exit-placement instances (formulations.offloading.profiles)."""

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import formulations
from formulations.errors import InstanceError
from formulations.exits import Exit, ExitBlock, ExitProblem, Link
from formulations.exits.strategies import CONFIDENCE_GRID, exit_problems
from formulations.offloading.profiles import exit_task_profile, slot_terms
from solvers import cli
from tests.helpers import ROOT, registered_commands

INST = ROOT / "instances" / "offloading"
SCENARIO = INST / "resnet18_exits_edge.json"
RESNET = ROOT / "instances" / "exits" / "resnet18_2node.json"
TECHS = [{"name": "wifi", "mbps": 18.88, "radio_w": 1.0}, {"name": "lte", "mbps": 5.85, "radio_w": 2.0}]


def tiny(mbps=8.0, rtt_ms=1.0):
    """2 blocks, one early exit, 2 nodes, 4 samples: every number checkable by hand."""
    return ExitProblem(
        ["device", "edge"], [Link(mbps, rtt_ms)], input_bytes=1000, result_bytes=0,
        blocks=[ExitBlock("b1", (10.0, 1.0), 500), ExitBlock("b2", (20.0, 2.0), 100)],
        exits=[Exit("e1", "b1", (1.0, 0.5)), Exit("final", "b2", (2.0, 1.0))],
        confidence=np.array([[0.9, 1.0], [0.2, 1.0], [0.8, 1.0], [0.1, 1.0]]),
        correct=np.array([[1, 1], [0, 1], [0, 1], [1, 0]]),
        name="tiny",
    )


@pytest.fixture(scope="module")
def resnet():
    return formulations.load(RESNET)


@pytest.fixture(scope="module")
def shipped():
    return json.loads(SCENARIO.read_text(encoding="utf-8"))


def test_tiny_profile_by_hand():
    # threshold 0.5: samples 0 and 2 stop at e1.
    pr = exit_task_profile(tiny(), {"placement": [0, 1], "thresholds": {"e1": 0.5}})
    assert pr["local_ms"] == pytest.approx((2 * (10 + 1) + 2 * (10 + 20 + 1 + 2)) / 4)  # 22
    assert pr["server_ms"] == pytest.approx((2 * (1 + 0.5) + 2 * (1 + 2 + 0.5 + 1)) / 4)  # 3
    assert pr["full_local_ms"] == pytest.approx(32.0)
    assert pr["full_server_ms"] == pytest.approx(1 + 2 + 1.0)
    assert pr["local_exit_counts"] == {"e1": 2, "final": 2}
    assert pr["accuracy"] == pytest.approx(0.5)  # sample 0 right at e1, 2 wrong at e1, 1 right, 3 wrong at final
    assert pr["input_bytes"] == 1000
    assert pr["local_mj"] == pytest.approx(2.0 * 22.0)
    assert pr["tx_mj_per_mbps"] == pytest.approx(1.0 * 1000 * 8 / 1000)
    # the plan as given: b1 on the device, b2 on the edge (output of b1 crosses)
    crossing = 500 * 8 / (8.0 * 1000) + 2 * 1.0
    assert pr["plan_latency_ms"] == pytest.approx((2 * 11 + 2 * (10 + 1 + crossing + 2 + 1)) / 4)


def test_server_work_does_not_depend_on_the_link():
    plan = {"placement": [1, 1], "thresholds": {"e1": 0.5}}
    slow, fast = exit_task_profile(tiny(0.5, 40.0), plan), exit_task_profile(tiny(1000.0, 0.0), plan)
    assert slow["server_ms"] == pytest.approx(fast["server_ms"])
    assert fast["server_ms"] == pytest.approx(3.0)
    assert slow["plan_latency_ms"] > fast["plan_latency_ms"]


def test_numbers_follow_from_the_exit_evaluator(resnet, shipped):
    plan = shipped["metadata"]["exit_plan"]
    pr = exit_task_profile(resnet, plan)
    K = resnet.n_blocks
    on_device = resnet.evaluate({"placement": [0] * K, "thresholds": plan["thresholds"]})
    assert pr["local_ms"] == on_device.mean_latency_ms
    assert pr["accuracy"] == on_device.accuracy
    assert pr["local_exit_counts"] == on_device.exit_counts
    assert sum(pr["local_exit_counts"].values()) == resnet.n_samples
    # edge ms are the device ms / 20 in this instance (node_gmacs 10 vs 200), up to the rounding of exit ms
    assert pr["server_ms"] == pytest.approx(pr["local_ms"] / 20, rel=1e-3)
    # the stored plan is the exits instance's proven optimum
    assert pr["plan_latency_ms"] == pytest.approx(resnet.metadata["optimum"], abs=1e-6)
    assert pr["plan_violations"] == []
    assert pr["local_ms"] < pr["full_local_ms"] and pr["server_ms"] < pr["full_server_ms"]


def _per_sample_ms(problem, thresholds, node):
    """Oracle: each sample's compute on ``node`` (blocks up to its exit + kept heads), averaged."""
    kept = [e for e, x in enumerate(problem.exits[:-1]) if x.name in thresholds]
    total = 0.0
    for s in range(problem.n_samples):
        stop = next((e for e in kept if problem.confidence[s, e] >= thresholds[problem.exits[e].name]), problem.n_exits - 1)
        last_block = problem.block_index[problem.exits[stop].after]
        total += sum(problem.blocks[i].ms[node] for i in range(last_block + 1))
        total += sum(problem.exits[e].ms[node] for e in kept + [problem.n_exits - 1] if e <= stop)
    return total / problem.n_samples


@given(exit_problems(max_samples=12, max_nodes=3, constrained=False), st.data())
def test_profile_equals_a_per_sample_oracle(problem, data):
    """On random exit instances (2-3 nodes) and random exit policies, local and server work
    are the per-sample means of the compute on the device / the server node."""
    if problem.n_nodes < 2:
        return
    thresholds = {}
    for x in problem.exits[:-1]:
        if data.draw(st.booleans()):
            thresholds[x.name] = x.threshold if x.threshold is not None else data.draw(st.sampled_from(CONFIDENCE_GRID))
    node = data.draw(st.integers(1, problem.n_nodes - 1))
    plan = {"placement": [0] * problem.n_blocks, "thresholds": thresholds}
    pr = exit_task_profile(problem, plan, server_node=node)
    assert pr["local_ms"] == pytest.approx(_per_sample_ms(problem, thresholds, 0), abs=1e-9)
    assert pr["server_ms"] == pytest.approx(_per_sample_ms(problem, thresholds, node), abs=1e-9)
    assert pr["full_local_ms"] == pytest.approx(_per_sample_ms(problem, {}, 0), abs=1e-9)
    assert sum(pr["local_exit_counts"].values()) == problem.n_samples


def test_stopping_more_samples_early_gives_more_local_capacity(resnet):
    """Lowering exit1's threshold only moves samples to an earlier exit: local time never
    grows, so the local capacity never falls; stopping everyone at exit1 beats no exits."""
    K = resnet.n_blocks
    previous_ms, previous_cap, previous_stopped = math.inf, -1, -1
    for tau in resnet.candidate_thresholds(0)[::-1][::5]:  # decreasing thresholds
        pr = exit_task_profile(resnet, {"placement": [0] * K, "thresholds": {"exit1": float(tau)}})
        cap = slot_terms(pr, slot_ms=500.0, device_power_w=2.0, link_states=TECHS)["local_capacity"]
        assert pr["local_exit_counts"]["exit1"] >= previous_stopped
        assert pr["local_ms"] <= previous_ms + 1e-9
        assert cap >= previous_cap
        previous_ms, previous_cap, previous_stopped = pr["local_ms"], cap, pr["local_exit_counts"]["exit1"]
    none = exit_task_profile(resnet, {"placement": [0] * K, "thresholds": {}})
    everyone = exit_task_profile(resnet, {"placement": [0] * K, "thresholds": {"exit1": 0.0}})
    assert everyone["local_exit_counts"] == {"exit1": resnet.n_samples, "final": 0}
    caps = [slot_terms(p, slot_ms=500.0, device_power_w=2.0, link_states=TECHS)["local_capacity"] for p in (none, everyone)]
    assert caps[1] > caps[0]


def test_slot_terms_by_hand():
    pr = {"local_ms": 131.0, "server_ms": 6.5, "input_bytes": 150528}
    t = slot_terms(pr, slot_ms=500.0, device_power_w=2.0, link_states=TECHS + [{"mbps": 1.1, "radio_w": 2.0}])
    assert t["local_capacity"] == 3 and t["server_capacity"] == 76
    assert t["local_cost"] == pytest.approx(262.0)  # mJ: 2 W x 131 ms
    tx = [150528 * 8 / (m * 1000) for m in (18.88, 5.85, 1.1)]
    assert [s["capacity"] for s in t["states"]] == [int(500 // x) for x in tx] == [7, 2, 0]
    assert t["states"][0]["cost"] == pytest.approx(1.0 * tx[0], abs=0.005)  # mJ: 1 W x tx ms
    assert t["states"][2] == {"name": "state2", "capacity": 0, "cost": 0.0, "tx_ms": round(tx[2], 3)}


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"slot_ms": 0}, "slot_ms"),
        ({"device_power_w": -1}, "device_power_w"),
        ({"link_states": []}, "link_states"),
        ({"link_states": [{"mbps": 0, "radio_w": 1}]}, "link_states[0].mbps"),
        ({"link_states": [{"mbps": 5}]}, "link_states[0].radio_w"),
    ],
)
def test_slot_terms_rejects_bad_input(kwargs, field):
    args = {"slot_ms": 500.0, "device_power_w": 2.0, "link_states": TECHS, **kwargs}
    with pytest.raises(InstanceError) as err:
        slot_terms({"local_ms": 100.0, "server_ms": 5.0, "input_bytes": 1000}, **args)
    assert err.value.field == field
    with pytest.raises(InstanceError, match="profile.local_ms"):
        slot_terms({"server_ms": 5.0, "input_bytes": 1000}, slot_ms=500.0, device_power_w=2.0, link_states=TECHS)


@pytest.mark.parametrize(
    "plan, kwargs, field",
    [
        ({"placement": [0], "thresholds": {}}, {}, "plan"),
        ({"placement": [1, 0], "thresholds": {}}, {}, "plan"),
        ({"placement": [0, 0], "thresholds": {"nope": 0.5}}, {}, "plan"),
        ({"placement": [0, 0], "thresholds": {}}, {"server_node": 0}, "server_node"),
        ({"placement": [0, 0], "thresholds": {}}, {"server_node": 2}, "server_node"),
        ({"placement": [0, 0], "thresholds": {}}, {"device_power_w": 0}, "device_power_w"),
        ({"placement": [0, 0], "thresholds": {}}, {"tx_power_w": -2}, "tx_power_w"),
    ],
)
def test_exit_task_profile_rejects_bad_input(plan, kwargs, field):
    with pytest.raises(InstanceError) as err:
        exit_task_profile(tiny(), plan, **kwargs)
    assert err.value.field == field


def test_one_node_instance_has_no_server():
    one = formulations.load(ROOT / "instances" / "exits" / "resnet18_1node.json")
    with pytest.raises(InstanceError, match="server_node"):
        exit_task_profile(one, {"placement": [0] * one.n_blocks, "thresholds": {}})


def test_constraint_violations_are_reported_not_raised(resnet):
    plan = {"placement": [0] * resnet.n_blocks, "thresholds": {"exit1": 0.0}}  # accuracy far below 0.815
    pr = exit_task_profile(resnet, plan)
    assert pr["plan_violations"] and "accuracy" in pr["plan_violations"][0]


def _make_instances():
    spec = importlib.util.spec_from_file_location("make_offloading_instances", INST / "make_instances.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shipped_scenario_regenerates_identically(shipped):
    make = _make_instances()
    data, _, sol = make.finish(make.resnet18_exits_edge(plan=shipped["metadata"]["exit_plan"]))
    assert json.dumps(data, indent=1) + "\n" == SCENARIO.read_text(encoding="utf-8")
    assert sol.status == "optimal"


def test_scenario_uses_the_derived_numbers(resnet, shipped):
    p = formulations.load(SCENARIO)
    pr = exit_task_profile(resnet, shipped["metadata"]["exit_plan"])
    assert all(d.local_capacity == int(p.slot_ms // pr["local_ms"]) for d in p.devices)
    assert all(d.local_cost == round(2.0 * pr["local_ms"], 2) == round(pr["local_mj"], 2) for d in p.devices)  # mJ
    assert all(s.capacity == int(p.slot_ms // pr["server_ms"]) for s in p.servers)
    wifi_tx_ms = resnet.input_bytes * 8 / (resnet.links[0].mbps * 1000)
    assert p.links[0].capacities[0] == int(p.slot_ms // wifi_tx_ms)


@pytest.fixture
def online_commands():
    assert "simulate" in registered_commands()


def test_cli_solve_and_simulate_the_scenario(capsys, online_commands, shipped):
    assert cli.main(["solve", str(SCENARIO), "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)[0]
    assert rec["status"] == "optimal"
    assert rec["objective"] == pytest.approx(shipped["metadata"]["optimum"], abs=1e-8)
    code = cli.main(["simulate", str(SCENARIO), "--policy", "dpp", "--v", "0.1", "--slots", "300", "--seed", "1",
                     "--json", "--quiet"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["average_penalty"] > 0 and out["average_backlog"] >= 0
    assert out["p_star"] == pytest.approx(shipped["metadata"]["optimum"])


def test_exit_policy_lowers_p_star(shipped):
    """The same scenario built from the plan without early exits costs more (the docs' claim)."""
    import solvers

    make = _make_instances()
    no_exits = {"placement": shipped["metadata"]["exit_plan"]["placement"], "thresholds": {}}
    data, _, sol = make.finish(make.resnet18_exits_edge(plan=no_exits))
    assert sol.status == "optimal"
    assert all(d["local_capacity"] < shipped["devices"][0]["local_capacity"] for d in data["devices"])
    assert sol.objective > shipped["metadata"]["optimum"] + 1e-6
    assert solvers.offloading(formulations.load(SCENARIO)).objective == pytest.approx(shipped["metadata"]["optimum"])


def test_docs_example_prints_what_the_docs_show(capsys):
    import re

    doc = (ROOT / "docs" / "offloading.md").read_text(encoding="utf-8")
    m = re.search(r"```python\n(import formulations, solvers\nfrom formulations.offloading.profiles.*?)```\n\n```\n(.*?)```", doc, re.S)
    assert m, "the offloading_profiles example is missing from docs/offloading.md"
    import os

    cwd = os.getcwd()
    try:
        os.chdir(ROOT)
        exec(compile(m.group(1), "docs/offloading.md", "exec"), {})
    finally:
        os.chdir(cwd)
    assert capsys.readouterr().out == m.group(2)
