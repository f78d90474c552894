"""Offloading formulation: loading, validation, the stationary-policy evaluator, the simulator."""

import json
from pathlib import Path

import numpy as np
import pytest

import formulations
import solvers
from formulations.errors import InfeasibleAssignmentError, InstanceError
from formulations.offloading import OffloadingProblem, task_profile
from formulations.offloading.simulator import simulate
from solvers.algorithms.offloading import AllLocal, DriftPlusPenalty
from tests.helpers import FIXTURES, ROOT

INST = ROOT / "instances" / "offloading"
BROKEN = FIXTURES / "broken" / "offloading"
SHIPPED = sorted(INST.glob("*.json"))


def one_link(**link):
    data = {
        "kind": "offloading", "version": 1, "slot_ms": 100,
        "devices": [{"name": "d0", "arrivals": {"poisson": 1.5}, "local_capacity": 1, "local_cost": 4.0}],
        "servers": [{"name": "s0", "capacity": 3}],
        "links": [{"device": "d0", "server": "s0",
                   "states": [{"capacity": 2, "cost": 1.0}, {"capacity": 0, "cost": 0.0}], **link}],
    }
    return OffloadingProblem.from_dict(data)


def test_shipped_instances_load_and_round_trip():
    assert len(SHIPPED) >= 3
    for path in SHIPPED:
        p = formulations.load(path)
        assert p.kind == "offloading"
        again = OffloadingProblem.from_dict(json.loads(json.dumps(p.to_dict())))
        assert again.to_dict() == p.to_dict()
        assert np.allclose(again.link_pi, p.link_pi)


def test_shipped_optimum_metadata_matches_lp():
    for path in SHIPPED:
        p = formulations.load(path)
        sol = solvers.offloading(p)
        assert sol.status.value == "optimal"
        assert sol.objective == pytest.approx(p.metadata["optimum"], rel=1e-7)


def test_evaluate_hand_computed():
    p = one_link(probs=[0.5, 0.5])
    # local 0.5 x 4 + pi_0 (0.5) x 2 tasks x cost 1 = 3
    ev = p.evaluate({"local": [0.5], "send": [[2.0, 0.0]]})
    assert ev.objective == pytest.approx(3.0) and ev.feasible
    assert ev.served.tolist() == pytest.approx([1.5]) and ev.server_load.tolist() == pytest.approx([1.0])
    assert p.evaluate({"local": [1.0], "send": [[1.0, 0.0]]}).objective == pytest.approx(4.5)
    assert p.violations({"local": [1.0], "send": [[1.0, 0.0]]}) == []


@pytest.mark.parametrize(
    "assignment, words",
    [
        ({"local": [0.4], "send": [[2.0, 0.0]]}, "served"),          # 1.4 < 1.5
        ({"local": [1.5], "send": [[2.0, 0.0]]}, "local[0]"),        # above local capacity
        ({"local": [0.5], "send": [[2.5, 0.0]]}, "send[0][0]"),      # above link capacity
        ({"local": [0.5], "send": [[2.0, 1.0]]}, "send[0][1]"),      # state with capacity 0
        ({"local": [0.5], "send": [[2.0]]}, "send[0]"),              # wrong shape
        ({"local": [0.5]}, "stationary policy"),
    ],
)
def test_evaluate_rejects_infeasible(assignment, words):
    p = one_link(probs=[0.5, 0.5])
    with pytest.raises(InfeasibleAssignmentError, match=words.replace("[", r"\[").replace("]", r"\]")):
        p.evaluate(assignment)


def test_evaluate_rejects_server_overload():
    p = one_link(probs=[0.5, 0.5])
    small = OffloadingProblem.from_dict({**p.to_dict(), "servers": [{"name": "s0", "capacity": 0}]})
    with pytest.raises(InfeasibleAssignmentError, match="server 's0'"):
        small.evaluate({"local": [0.5], "send": [[2.0, 0.0]]})


def test_markov_and_trace_stationary_distributions():
    p = one_link(transition=[[0.9, 0.1], [0.3, 0.7]])
    assert p.link_pi[0] == pytest.approx([0.75, 0.25])
    p = one_link(trace=[0, 0, 1, 0])
    assert p.link_pi[0] == pytest.approx([0.75, 0.25])


def test_trace_file_is_read_relative_to_the_instance():
    p = formulations.load(INST / "trace_wifi.json")
    states = [int(x) for x in (INST / "wifi_trace.txt").read_text().split()]
    assert p.links[0].trace == tuple(states)


@pytest.mark.parametrize("path", sorted(BROKEN.glob("*.json")), ids=lambda p: p.stem)
def test_broken_files_name_file_and_field(path):
    field = json.loads(path.read_text())["metadata"]["expect_field"]
    with pytest.raises(InstanceError) as info:
        formulations.load(path)
    assert info.value.field == field
    assert info.value.file == str(path)
    assert path.name in str(info.value)
    with pytest.raises(InstanceError) as again:
        OffloadingProblem.from_json(path)  # the base class's from_json: same file and field
    assert again.value.field == field and again.value.file == str(path)


def test_missing_trace_file(tmp_path):
    data = one_link(probs=[0.5, 0.5]).to_dict()
    del data["links"][0]["probs"]
    data["links"][0]["trace_file"] = "nope.txt"
    f = tmp_path / "x.json"
    f.write_text(json.dumps(data))
    with pytest.raises(InstanceError, match="links\\[0\\].trace_file"):
        formulations.load(f)


def test_reducible_markov_chain_is_refused():
    with pytest.raises(InstanceError, match="recurrent class"):
        one_link(transition=[[1.0, 0.0], [0.0, 1.0]])


def test_overload_is_a_status_not_an_error():
    p = one_link(probs=[0.5, 0.5])
    over = OffloadingProblem.from_dict({**p.to_dict(), "devices": [{**p.to_dict()["devices"][0], "arrivals": {"poisson": 2.5}}]})
    sol = solvers.offloading(over)
    assert sol.status.value == "infeasible" and sol.assignment is None
    assert "exceed" in sol.message
    assert over.infeasibility_reason() is not None
    assert p.infeasibility_reason() is None


def test_simulator_same_seed_same_run_and_common_inputs():
    p = formulations.load(INST / "small_mixed.json")
    a = simulate(p, DriftPlusPenalty(p, 10), slots=500, seed=3)
    b = simulate(p, DriftPlusPenalty(p, 10), slots=500, seed=3)
    assert a.average_penalty == b.average_penalty and a.average_backlog == b.average_backlog
    c = simulate(p, AllLocal(p), slots=500, seed=3)
    assert np.array_equal(a.per_slot["arrivals"], c.per_slot["arrivals"])  # inputs do not depend on the policy
    d = simulate(p, DriftPlusPenalty(p, 10), slots=500, seed=4)
    assert not np.array_equal(a.per_slot["arrivals"], d.per_slot["arrivals"])


def test_simulator_arrival_and_state_frequencies():
    p = formulations.load(INST / "small_mixed.json")
    r = simulate(p, AllLocal(p), slots=20_000, seed=0, record_queues=True)
    A = r.series["A"]
    # 4 standard errors of a per-slot mean over 20,000 slots
    var = np.array([d.arrivals.second_moment - d.arrivals.mean**2 for d in p.devices])
    assert np.all(np.abs(A.mean(axis=0) - p.rates) <= 4 * np.sqrt(var / len(A)))


class Overreach:
    name = "overreach"

    def decide(self, view):
        return view.queues + 1, np.zeros_like(view.link_capacity)


def test_simulator_rejects_infeasible_decisions():
    p = formulations.load(INST / "small_mixed.json")
    with pytest.raises(InfeasibleAssignmentError, match="slot 0"):
        simulate(p, Overreach(), slots=10, seed=0)
    with pytest.raises(ValueError, match="`slots`"):
        simulate(p, AllLocal(p), slots=0)


def test_stability_verdict():
    p = formulations.load(INST / "small_mixed.json")
    assert not simulate(p, AllLocal(p), slots=4000, seed=0).stable  # 4.5 tasks/slot arrive, 4 run locally
    assert simulate(p, DriftPlusPenalty(p, 5), slots=4000, seed=0).stable


def test_task_profile_from_partition_instance():
    part = formulations.load(ROOT / "instances" / "partition" / "vgg16.json")
    prof = task_profile(part, device_power_w=2.0)
    assert prof["local_ms"] == pytest.approx(float(part.device_ms.sum()))
    assert prof["local_mj"] == pytest.approx(2.0 * prof["local_ms"])
    assert prof["input_bytes"] == int(part.output_bytes[[part.index[n] for n in part.inputs]].sum())
    scen = formulations.load(INST / "vgg16_edge.json")
    assert scen.devices[0].local_capacity == int(scen.slot_ms // prof["local_ms"])
    assert scen.devices[0].local_cost == pytest.approx(prof["local_mj"], abs=0.005)  # both in mJ
    assert scen.metadata["cost_unit"] == "mJ"


def test_online_runs_are_simulated_once_not_evaluated(monkeypatch):
    """evaluate refuses a run spec (saying how to simulate it); a dpp solve simulates exactly once and
    reports that run (its assignment, which evaluate and is_feasible accept), with p* only in details."""
    import formulations.offloading.simulator as simulator
    import solvers.algorithms.offloading.baselines as dpp_module
    from formulations.base import AssignmentTypeError

    p = formulations.load(INST / "small_mixed.json")
    spec = {"policy": "dpp", "params": {"v": 4.0}, "slots": 300, "seed": 2}
    with pytest.raises(AssignmentTypeError, match="simulate"):
        p.evaluate(spec)
    with pytest.raises(AssignmentTypeError):
        p.violations(spec)
    assert not p.is_feasible(spec)
    runs = []
    real = simulator.simulate

    def counting(*args, **kwargs):
        runs.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(dpp_module, "simulate", counting)
    monkeypatch.setattr(simulator, "simulate", counting)
    sol = solvers.solve(p, method="dpp", v=4.0, slots=300, seed=2)
    assert len(runs) == 1
    direct = real(p, DriftPlusPenalty(p, 4.0), slots=300, seed=2)
    assert sol.objective == direct.average_penalty == sol.evaluation.objective
    assert sol.evaluation.average_backlog == direct.average_backlog
    assert sol.details["simulation"]["average_backlog"] == direct.average_backlog
    assert sol.details["p_star"] == pytest.approx(p.metadata["optimum"]) and sol.bound is None
    assert sol.assignment is sol.evaluation and p.is_feasible(sol.assignment) and sol.status == "feasible"
    assert p.evaluate(sol.assignment) is sol.assignment and p.violations(sol.assignment) == []
    other = formulations.load(INST / "vgg16_edge.json")
    assert not other.is_feasible(sol.assignment)  # a run of another problem's shape
    assert "devices" in other.violations(sol.assignment)[0]
    assert json.loads(json.dumps(sol.to_dict()))["assignment"]["average_penalty"] == sol.objective
    assert json.loads(json.dumps(sol.to_dict()))["details"]["simulation"]["mean_delay_ms"] == pytest.approx(direct.mean_delay_ms)


def test_formulations_has_no_policy_table():
    import formulations.offloading.simulator as simulator

    for name in ("POLICIES", "register_policy", "replay"):
        assert not hasattr(simulator, name)


def test_violations_lists_every_violated_constraint():
    p = one_link(probs=[0.5, 0.5])
    small = p.replace(servers=[formulations.offloading.Server("s0", 0)])
    found = small.violations({"local": [1.5], "send": [[2.5, 1.0]]})
    assert len(found) == 4, found  # local above capacity, two sends out of range, server overloaded
    assert any("local[0]" in v for v in found) and any("send[0][0]" in v for v in found)
    assert any("send[0][1]" in v for v in found) and any("server 's0'" in v for v in found)
    assert small.violations({"local": [0.4], "send": [[0.0, 0.0]]}) == ["device 'd0' is served 0.4 tasks/slot < arrival rate 1.5"]
    with pytest.raises(InfeasibleAssignmentError, match="'send'"):
        p.violations({"local": [0.5]})
    from formulations.base import AssignmentTypeError

    for bad in ([0.5, 2.0], "local", None):
        with pytest.raises(AssignmentTypeError):
            p.violations(bad)
        with pytest.raises(TypeError):
            p.evaluate(bad)
        assert not p.is_feasible(bad)


def test_problem_is_immutable_and_replace_validates():
    p = formulations.load(INST / "small_mixed.json")
    with pytest.raises(AttributeError, match="immutable"):
        p.slot_ms = 5
    for array in (p.link_device, p.rates, p.link_capacity, p.link_pi, p.local_cost, p.max_service):
        with pytest.raises(ValueError):
            array[0] = 0
    q = p.replace(slot_ms=50.0)
    assert q.slot_ms == 50.0 and p.slot_ms == 100.0 and q.to_dict()["devices"] == p.to_dict()["devices"]
    with pytest.raises(InstanceError, match="slot_ms"):
        p.replace(slot_ms=0)
    with pytest.raises(InstanceError, match="servers\\[0\\].capacity"):
        p.replace(servers=[formulations.offloading.Server("s0", -1), p.servers[1]])
    with pytest.raises(InstanceError, match="unknown server"):
        p.replace(servers=p.servers[:1])
    with pytest.raises(TypeError, match="unknown field"):
        p.replace(slots=3)


class StateRecorder(AllLocal):
    def __init__(self, problem):
        super().__init__(problem)
        self.states = []

    def decide(self, view):
        self.states.append(view.link_state.copy())
        return super().decide(view)


def test_simulator_link_state_processes():
    p = formulations.load(INST / "small_mixed.json")
    rec = StateRecorder(p)
    simulate(p, rec, slots=20_000, seed=0)
    states = np.array(rec.states)
    for k, link in enumerate(p.links):
        freq = np.bincount(states[:, k], minlength=link.n_states) / len(states)
        assert np.allclose(freq, link.stationary, atol=0.02), k
    # the Markov link (index 2) follows its transition matrix
    s = states[:, 2]
    P = np.array(p.links[2].transition)
    for i in range(2):
        nxt = s[1:][s[:-1] == i]
        assert np.allclose(np.bincount(nxt, minlength=2) / len(nxt), P[i], atol=0.03)
    # the trace link (index 3) replays its trace cyclically from slot 0
    trace = np.array(p.links[3].trace)
    assert np.array_equal(states[:, 3], np.resize(trace, len(states)))


def test_docs_examples_are_valid():
    import re

    doc = (ROOT / "docs" / "offloading.md").read_text()
    example = json.loads(re.search(r"```json\n(.*?)```", doc, re.S).group(1))
    p = formulations.load_dict(example)
    sol = solvers.offloading(p)
    assert sol.status.value == "optimal" and sol.objective == pytest.approx(solvers.solve(p, method="brute_force").objective)
    code = re.search(r"## Python\n\n```python\n(.*?)```", doc, re.S).group(1)
    expected = re.search(r"## Python\n\n```python\n.*?```\n\n```\n(.*?)```", doc, re.S).group(1)
    import contextlib
    import io
    import os

    out = io.StringIO()
    cwd = os.getcwd()
    try:
        os.chdir(ROOT)
        with contextlib.redirect_stdout(out):
            exec(compile(code, "docs/offloading.md", "exec"), {})
    finally:
        os.chdir(cwd)
    assert out.getvalue() == expected
