"""The k-tier formulation: loading, validation, the evaluator's formulas, immutability."""

import json
import math

import numpy as np
import pytest
from hypothesis import given

import formulations
from formulations.errors import InfeasibleAssignmentError, InstanceError
from formulations.partition import PartitionProblem, TieredPartitionProblem
from formulations.partition.strategies import partition_problems
from formulations.partition.tier_strategies import tiered_instances
from solvers.algorithms.partition.brute_force import closed_sets
from solvers.algorithms.partition.tier_brute_force import monotone_assignments
from tests.helpers import INSTANCES

WORKED = INSTANCES / "partition" / "tiers" / "worked_example.json"


def worked():
    return formulations.load(WORKED)


def test_worked_example_by_hand():
    p = worked()
    assert isinstance(p, TieredPartitionProblem) and p.kind == "partition" and not hasattr(p, "solver_kind")
    phone = p.evaluate({"phone": ["input", "conv1", "conv2", "conv3", "fc"]})
    assert (phone.latency_ms, phone.energy_mj) == (92.0, 276.0)  # 24+24+40+4 ms at 3 W
    split = p.evaluate({"phone": ["input", "conv1", "conv2"], "edge": ["conv3", "fc"], "cloud": []})
    # 48 phone + 11 edge + 200 kB up at 40 Mbps (40 ms) + 4 kB down (0.8 ms) + RTT 4
    assert split.latency_ms == pytest.approx(103.8)
    # 144 mJ compute + 2 W * 40 ms + 1 W * 0.8 ms + 0.25 W * (11 + 4) ms
    assert split.energy_mj == pytest.approx(228.55)
    cloud = p.evaluate({"phone": ["input"], "cloud": ["conv1", "conv2", "conv3", "fc"]})
    # 2.875 cloud + 80 (input over Wi-Fi) + 8 (input over the WAN) + 0.08 + 0.8 (fc back) + 4 + 10 (RTTs)
    assert cloud.latency_ms == pytest.approx(105.755)
    assert cloud.energy_mj == pytest.approx(160 + 0.8 + 0.25 * (2.875 + 8 + 0.08 + 14))
    assert cloud.terms["uplink_ms"] == [80.0, 8.0] and cloud.terms["rtt_ms"] == [4.0, 10.0]


def test_two_tier_forms_load_as_before():
    old = json.loads((INSTANCES / "partition" / "two_inputs_two_outputs.json").read_text())
    assert type(formulations.load_dict(old)) is PartitionProblem
    new = dict(old, layers=[{"name": l["name"], "ms": [l["device_ms"], l["server_ms"]], "output_bytes": l["output_bytes"]}
                            for l in old["layers"]])
    tiered = formulations.load_dict(new)
    assert isinstance(tiered, TieredPartitionProblem) and tiered.tiers == ("device", "server")
    base = formulations.load_dict(old)
    for mask in closed_sets(base):
        if base.violations(mask):
            continue
        device = [n for n, m in zip(base.names, mask) if m]
        server = [n for n, m in zip(base.names, mask) if not m]
        assert tiered.evaluate({"device": device, "server": server}).objective == pytest.approx(base.latency(mask), abs=1e-12)


@given(partition_problems(max_layers=7))
def test_two_tier_latency_equals_the_partition_formula(problem):
    tiered = TieredPartitionProblem.from_partition(problem)
    for mask in closed_sets(problem):
        tiers = (~mask).astype(np.int64)
        assert tiered.measures(tiers)[0] == pytest.approx(problem.breakdown(mask)["total_ms"], rel=1e-12, abs=1e-9)
        assert tiered.is_feasible(tiers) == (not problem.violations(mask))


@given(tiered_instances(objectives=("energy",)))
def test_energy_follows_the_issue_formula(problem):
    power = problem.energy
    for tiers in monotone_assignments(problem):
        latency, energy, terms = problem.measures(tiers)
        on_phone = tiers == 0
        up0, down0 = terms["uplink_ms"][0], terms["downlink_ms"][0]
        compute0 = problem.ms[on_phone, 0].sum()
        expected = (problem.device_mj[on_phone].sum() + power.tx_w * up0 + power.rx_w * down0
                    + power.idle_w * (latency - compute0 - up0 - down0))
        assert energy == pytest.approx(expected, rel=1e-12, abs=1e-9)


@given(tiered_instances())
def test_round_trip_and_replace(problem):
    again = formulations.load_dict(problem.to_dict())
    assert again.to_dict() == problem.to_dict()
    assert problem.replace().to_dict() == problem.to_dict()


def test_immutable():
    p = worked()
    with pytest.raises(AttributeError):
        p.links = ()
    with pytest.raises(ValueError):
        p.ms[0, 0] = 1.0
    faster = p.replace(objective="energy")
    assert faster.objective == "energy" and p.objective == "latency"
    with pytest.raises(TypeError):
        p.replace(colour="red")


@pytest.mark.parametrize(
    "assignment, words",
    [
        ({"phone": ["input", "conv1"], "edge": ["conv2"], "cloud": ["conv3"]}, "no tier"),
        ({"phone": ["input", "nope"]}, "unknown layer"),
        ({"mars": ["input"]}, "unknown tier"),
        ({"phone": ["input", "input"]}, "twice"),
        ({"edge": ["input", "conv1", "conv2", "conv3", "fc"]}, "inputs not on"),
        ({"phone": ["input", "conv2", "conv3", "fc"], "edge": ["conv1"]}, "inward"),
    ],
)
def test_bad_assignments_are_refused(assignment, words):
    with pytest.raises(InfeasibleAssignmentError, match=words):
        worked().evaluate(assignment)


def test_non_mapping_is_a_type_error():
    with pytest.raises(TypeError):
        worked().evaluate(["input"])


def test_constraints_and_pins_are_violations():
    p = worked().replace(constraints={"latency_max_ms": 100.0, "energy_max_mj": 250.0}, pinned={"cloud": ["fc"]})
    assert any("latency" in v for v in p.violations({"phone": ["input"], "cloud": ["conv1", "conv2", "conv3", "fc"]}))
    assert any("pinned" in v for v in p.violations({"phone": ["input", "conv1", "conv2", "conv3", "fc"]}))
    assert p.replace(pinned={"edge": ["input"]}).infeasibility_reason()


def edit(**changes):
    data = json.loads(WORKED.read_text())
    for key, value in changes.items():
        data[key] = value
    return data


@pytest.mark.parametrize(
    "data, field",
    [
        (edit(tiers=["phone"]), "tiers"),
        (edit(tiers=["phone", "phone", "cloud"]), "tiers"),
        (edit(network={"uplink_mbps": 10}), "network.links"),
        (edit(network={"links": [{"uplink_mbps": 10}]}), "network.links"),
        (edit(network={"links": [{"uplink_mbps": 10}, {"uplink_mbps": -1}]}), "network.links[1].uplink_mbps"),
        (edit(layers=[{"name": "input", "ms": [0, 0], "output_bytes": 1}]), "layers[0].ms"),
        (edit(layers=[{"name": "input", "device_ms": 0, "server_ms": 0, "output_bytes": 1}]), "layers[0].ms"),
        (edit(objective="speed"), "objective"),
        (edit(objective={"weighted": {"latency": 0, "energy": 0}}), "objective.weighted"),
        (edit(constraints={"latency_max": 3}), "constraints"),
        (edit(energy={"compute_w": 1, "tx_w": 1, "rx_w": 1}), "energy.idle_w"),
        (edit(pinned={"mars": ["fc"]}), "pinned"),
        (edit(pinned={"edge": ["fc"], "cloud": ["fc"]}), "pinned"),
    ],
)
def test_bad_instances_name_the_field(data, field):
    with pytest.raises(InstanceError) as info:
        formulations.load_dict(data, file="x.json")
    assert info.value.field == field and info.value.file == "x.json"


def test_energy_objective_needs_an_energy_model():
    data = edit(objective="energy")
    del data["energy"]
    with pytest.raises(InstanceError, match="energy"):
        formulations.load_dict(data)


def test_with_network_changes_link_zero_only():
    p = worked()
    q = p.with_network(uplink_mbps=80, rtt_ms=1)
    assert q.links[0].uplink_mbps == 80 and q.links[0].rtt_ms == 1 and q.links[1] == p.links[1]
    assert q.evaluate({"phone": ["input"], "cloud": ["conv1", "conv2", "conv3", "fc"]}).terms["uplink_ms"][0] == 40.0
    with pytest.raises(InstanceError) as info:
        p.with_network(uplink_mbps=0)
    assert info.value.field == "network.uplink_mbps"
