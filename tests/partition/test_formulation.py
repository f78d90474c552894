"""The partition formulation: validation, evaluator, round trips, structure."""

import json
import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given

import formulations
from formulations import InfeasibleAssignmentError, InstanceError, PartitionProblem
from formulations.partition.strategies import partition_problems
from formulations.partition import transfer_ms
from tests.helpers import FIXTURES, INSTANCES

BROKEN = FIXTURES / "broken" / "partition"
EXPECTED = json.loads((BROKEN / "expected.txt").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_files_raise_named_errors(name):
    path = BROKEN / name
    with pytest.raises(InstanceError) as info:
        formulations.load(path)
    err = info.value
    assert err.file == str(path)
    assert str(path) in str(err)
    assert EXPECTED[name]["message"] in str(err)
    if EXPECTED[name]["field"]:
        assert err.field == EXPECTED[name]["field"]


def test_every_broken_file_has_an_expectation():
    assert {p.name for p in BROKEN.glob("*.json")} == set(EXPECTED)


def test_missing_file_is_an_instance_error(tmp_path):
    with pytest.raises(InstanceError, match="no such file"):
        formulations.load(tmp_path / "nope.json")


def small():
    # in -> a -> c ; in -> b -> c ; c is the output
    return PartitionProblem.from_lists(
        ["in", "a", "b", "c"], [0, 10, 20, 5], [0, 1, 2, 1], [1000, 2000, 3000, 500],
        [("in", "a"), ("in", "b"), ("a", "c"), ("b", "c")], uplink_mbps=8, rtt_ms=3)


def test_latency_by_hand():
    p = small()
    # D = {in, a}: device 10; server b, c: 3; uploads: in (1000 B), a (2000 B) at 8 Mbps = 1 + 2 ms;
    # download of c (500 B) = 0.5 ms; rtt 3
    assert p.latency({"in", "a"}) == pytest.approx(10 + 3 + 1 + 2 + 0.5 + 3)
    b = p.breakdown({"device": ["in", "a"], "server": ["b", "c"]})
    assert b["uplink_bytes"] == 3000 and b["downlink_bytes"] == 500 and b["device_layers"] == 2
    # all on device: no transfer, no rtt
    assert p.latency(["in", "a", "b", "c"]) == pytest.approx(35)
    # only the input on device: its output is sent once although two layers consume it
    assert p.latency(["in"]) == pytest.approx(4 + 1 + 0.5 + 3)


def test_infeasible_assignments_are_rejected():
    p = small()
    with pytest.raises(InfeasibleAssignmentError, match="inputs"):
        p.latency(["a"])
    with pytest.raises(InfeasibleAssignmentError, match="closed"):
        p.latency(["in", "c"])
    with pytest.raises(InfeasibleAssignmentError, match="unknown"):
        p.latency(["in", "zzz"])
    with pytest.raises(InfeasibleAssignmentError, match="both sides"):
        p.evaluate({"device": ["in", "a"], "server": ["a", "b", "c"]})
    with pytest.raises(InfeasibleAssignmentError, match="neither"):
        p.evaluate({"device": ["in"], "server": ["a"]})


def test_transfer_units():
    # 1 MB at 8 Mbps is one second
    assert transfer_ms(1_000_000, 8.0) == pytest.approx(1000.0)


@given(partition_problems(max_layers=10))
def test_round_trip_through_dict_and_json(problem):
    data = problem.to_dict()
    again = PartitionProblem.from_dict(json.loads(json.dumps(data)))
    assert again.to_dict() == data
    mask = problem.least_device_mask()
    assert again.breakdown(mask) == problem.breakdown(mask)


def test_save_and_load(tmp_path):
    p = small()
    path = tmp_path / "small.json"
    formulations.save(p, path)
    q = formulations.load(path)
    assert q.to_dict()["layers"] == p.to_dict()["layers"] and q.edges == p.edges
    assert q.name == "small"


def test_from_networkx_with_attribute_names():
    g = nx.DiGraph()
    g.add_node("x", t_dev=0, t_srv=0, size=800)
    g.add_node("y", t_dev=7, t_srv=1, size=80)
    g.add_edge("x", "y")
    p = PartitionProblem.from_networkx(g, uplink_mbps=1, device_ms="t_dev", server_ms="t_srv", output_bytes="size")
    assert p.latency(["x"]) == pytest.approx(1 + 6.4 + 0.64)
    with pytest.raises(InstanceError, match="lacks attribute"):
        PartitionProblem.from_networkx(g, uplink_mbps=1)


def test_with_network_shares_structure_and_validates():
    p = small()
    q = p.with_network(uplink_mbps=80)
    assert q.topology is p.topology
    assert q.latency(["in"]) < p.latency(["in"])
    assert p.network.uplink_mbps == 8  # unchanged
    with pytest.raises(InstanceError, match="uplink_mbps"):
        p.with_network(uplink_mbps=0)


def reference_cut_vertices(problem):
    """Cut vertices from networkx dominators (virtual source and sink)."""
    g = problem.to_networkx()
    g.add_edges_from(("__S", v) for v in problem.inputs)
    g.add_edges_from((v, "__T") for v in problem.outputs)
    idom = nx.immediate_dominators(g, "__S")
    chain, v = [], "__T"
    while v != "__S":
        v = idom[v]
        chain.append(v)
    return set(chain) - {"__S"}


@given(partition_problems(max_layers=12, pins=False))
def test_cut_vertices_match_dominators(problem):
    assert set(problem.cut_vertices) == reference_cut_vertices(problem)
    order = {v: i for i, v in enumerate(nx.topological_sort(problem.to_networkx()))}
    cuts = problem.cut_vertices
    assert [order[v] for v in cuts] == sorted(order[v] for v in cuts)


@given(partition_problems(max_layers=10))
def test_evaluator_matches_formula(problem):
    """latency() against a direct transcription of the issue's formula."""
    from solvers.algorithms.partition.brute_force import closed_sets

    g = problem.to_networkx()
    up, down = problem.network.uplink_mbps, problem.network.effective_downlink_mbps
    for mask in list(closed_sets(problem))[:50]:
        device = {problem.names[i] for i in np.flatnonzero(mask)}
        total = sum(g.nodes[v]["device_ms"] for v in device)
        total += sum(g.nodes[v]["server_ms"] for v in g if v not in device)
        total += sum(g.nodes[v]["output_bytes"] * 8 / (up * 1000) for v in device
                     if any(w not in device for w in g.successors(v)))
        total += sum(g.nodes[v]["output_bytes"] * 8 / (down * 1000) for v in g
                     if v not in device and g.out_degree(v) == 0)
        total += problem.network.rtt_ms if len(device) < len(g) else 0.0
        assert problem.breakdown(mask)["total_ms"] == pytest.approx(total, rel=1e-12, abs=1e-9)


def test_shipped_instances_record_their_optimum():
    for path in sorted((INSTANCES / "partition").glob("*.json")):
        p = formulations.load(path)
        opt = p.metadata.get("optimum")
        if isinstance(opt, dict) and "latency_ms" in opt:
            import solvers

            assert solvers.solve(p).objective == pytest.approx(opt["latency_ms"], abs=1e-5), path.name


def test_from_networkx_keeps_node_ids_and_names_the_users_node_and_attribute():
    """Issue 12: integer node ids silently became strings, numpy attributes were refused, and
    errors named internal paths (``layers[0].output_bytes``)."""
    import networkx as nx
    import numpy as np

    import solvers

    g = nx.DiGraph()
    g.add_node(7, dev=np.float32(0.0), srv=0.0, out=np.int64(150528))
    g.add_node((1, "conv"), dev=np.float64(30.0), srv=np.float32(3.0), out=np.int64(4096))
    g.add_node(9, dev=5, srv=0.5, out=40)
    g.add_edges_from([(7, (1, "conv")), ((1, "conv"), 9)])
    p = PartitionProblem.from_networkx(g, uplink_mbps=np.float32(10.0), device_ms="dev", server_ms="srv",
                                       output_bytes="out")
    sol = solvers.partition(p)
    back = p.to_node_ids(sol.assignment)
    assert sorted(map(str, back["device"] + back["server"])) == sorted(map(str, g.nodes))
    assert all(node in g for node in back["device"] + back["server"])
    assert 7 in back["device"]
    g.nodes[9]["out"] = -3
    with pytest.raises(InstanceError, match=r"node 9 attribute 'out'"):
        PartitionProblem.from_networkx(g, uplink_mbps=10.0, device_ms="dev", server_ms="srv", output_bytes="out")
    del g.nodes[9]["out"]
    with pytest.raises(InstanceError, match=r"node 9.*lacks attribute 'out'"):
        PartitionProblem.from_networkx(g, uplink_mbps=10.0, device_ms="dev", server_ms="srv", output_bytes="out")
