"""Partition methods against the brute-force oracle and each other."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import solvers
from formulations import PartitionProblem
from formulations.partition.strategies import partition_problems
from solvers.registry import methods
from tests.helpers import examples
from tests.reference import partition_objective

EXACT = [m.name for m in methods("partition") if m.exact and not m.oracle]
ALL = [m.name for m in methods("partition")]


def approx(a, b):
    return a == pytest.approx(b, rel=1e-9, abs=1e-6)


def check_solution(problem, sol):
    """Independent certificate: feasible, objective == the reference evaluator of tests/reference.py
    (recomputed from the instance dict, not the registry's own evaluate), bound <= objective."""
    if sol.assignment is None:
        return
    assert problem.is_feasible(sol.assignment), problem.violations(sol.assignment)
    assert approx(sol.objective, partition_objective(problem, sol.assignment))
    if sol.bound is not None:
        assert sol.bound <= sol.objective + 1e-6


@given(partition_problems(max_layers=10))
def test_exact_methods_equal_brute_force(problem):
    oracle = solvers.solve(problem, method="brute_force")
    for name in EXACT:
        sol = solvers.solve(problem, method=name)
        assert sol.status.value == oracle.status.value, (name, sol.message)
        check_solution(problem, sol)
        if oracle.objective is not None:
            assert approx(sol.objective, oracle.objective), name
            assert sol.bound <= oracle.objective + 1e-6, name


@given(partition_problems(max_layers=12, structure="dnn", pins=False))
def test_qdmp_equals_mincut_on_dnn_like(problem):
    a = solvers.partition(problem, method="qdmp")
    b = solvers.partition(problem, method="mincut")
    assert approx(a.objective, b.objective)
    check_solution(problem, a)


@given(partition_problems(max_layers=10))
def test_qdmp_without_pruning_equals_with(problem):
    a = solvers.partition(problem, method="qdmp", prune=True)
    b = solvers.partition(problem, method="qdmp", prune=False)
    assert a.status == b.status
    if a.objective is not None:
        assert approx(a.objective, b.objective)
        assert b.bound <= a.objective + 1e-6


@given(partition_problems(max_layers=10))
def test_chain_never_beats_exact(problem):
    exact = solvers.partition(problem, method="mincut")
    heur = solvers.partition(problem, method="chain")
    assert heur.status.value in ("optimal", "feasible", "infeasible")
    if exact.objective is None:
        assert heur.status.value == "infeasible"
        return
    check_solution(problem, heur)
    assert heur.objective >= exact.objective - 1e-6
    if heur.status.value == "optimal":
        assert approx(heur.objective, exact.objective)


@given(partition_problems(max_layers=10, structure="chain"))
def test_chain_is_exact_on_chains(problem):
    exact = solvers.partition(problem, method="brute_force")
    heur = solvers.partition(problem, method="chain")
    assert heur.status.value == exact.status.value
    if exact.objective is not None:
        assert approx(heur.objective, exact.objective)


@given(partition_problems(max_layers=9, budget=True, pins=False))
def test_ilp_with_budget_equals_brute_force(problem):
    oracle = solvers.solve(problem, method="brute_force")
    sol = solvers.solve(problem)  # the default switches to ilp with a budget
    assert sol.method == "ilp"
    assert sol.status == oracle.status
    check_solution(problem, sol)
    if oracle.objective is not None:
        assert approx(sol.objective, oracle.objective)


@given(partition_problems(max_layers=8, pins=False, rtt=False))
def test_networkx_backend_agrees(problem):
    a = solvers.partition(problem, method="mincut", backend="networkx")
    b = solvers.partition(problem, method="mincut")
    assert approx(a.objective, b.objective)


@settings(max_examples=examples(30))
@given(partition_problems(max_layers=10), st.lists(st.floats(0.05, 2000), min_size=1, max_size=4))
def test_bandwidth_map_agrees_with_solving(problem, probes):
    if problem.infeasibility_reason():
        return
    bmap = solvers.bandwidth_map(problem, 0.05, 2000)
    assert bmap.pieces[0].min_mbps == pytest.approx(0.05)
    assert bmap.pieces[-1].max_mbps == pytest.approx(2000)
    assert bmap.solves <= 2 * len(bmap.pieces) + 1
    for mbps in probes:
        at = problem.with_network(uplink_mbps=mbps)
        sol = solvers.partition(at)
        piece = bmap.lookup(mbps)
        assert approx(piece.latency(mbps), sol.objective)
        assert approx(at.latency(set(piece.device)), sol.objective)


def test_bandwidth_map_pieces_are_contiguous():
    p = PartitionProblem.from_lists(
        ["in", "a", "b", "c"], [0, 20, 20, 20], [0, 1, 1, 1], [100000, 50000, 5000, 100],
        [("in", "a"), ("a", "b"), ("b", "c")], uplink_mbps=10)
    bmap = solvers.bandwidth_map(p, 0.1, 1000)
    assert len(bmap.pieces) == 4
    for left, right in zip(bmap.pieces, bmap.pieces[1:]):
        assert left.max_mbps == pytest.approx(right.min_mbps)
        # optimal latency is continuous at breakpoints
        assert left.latency(left.max_mbps) == pytest.approx(right.latency(right.min_mbps))
    # more bandwidth never puts more layers on the device
    sizes = [len(piece.device) for piece in bmap.pieces]
    assert sizes == sorted(sizes, reverse=True)


def test_infeasible_pins_give_status_not_exception():
    p = PartitionProblem.from_lists(
        ["in", "a", "b"], [0, 1, 1], [0, 1, 1], [10, 10, 10], [("in", "a"), ("a", "b")],
        uplink_mbps=1, pinned={"server": ["a"], "device": ["b"]})
    for name in [m.name for m in methods("partition", p)]:
        sol = solvers.solve(p, method=name)
        assert sol.status.value == "infeasible", name
        assert sol.assignment is None and sol.objective is None
        if name != "brute_force":
            assert "pinned" in sol.message


def test_budget_refused_by_mincut_methods():
    p = PartitionProblem.from_dict({
        "kind": "partition", "version": 1, "network": {"uplink_mbps": 1},
        "layers": [{"name": "in", "device_ms": 0, "server_ms": 0, "output_bytes": 10, "memory_bytes": 1},
                   {"name": "a", "device_ms": 1, "server_ms": 5, "output_bytes": 10, "memory_bytes": 5}],
        "edges": [["in", "a"]], "device_budget": {"memory_bytes": 2}})
    for name in ("qdmp", "mincut", "chain"):
        with pytest.raises(ValueError, match="device_budget"):
            solvers.solve(p, method=name)
    sol = solvers.solve(p)
    assert sol.method == "ilp" and sol.assignment["device"] == ["in"]


def test_ilp_time_limit_returns_status():
    rng = np.random.default_rng(0)
    n = 60
    names = [f"v{i}" for i in range(n)]
    edges = [(names[i], names[j]) for j in range(1, n) for i in rng.choice(j, size=min(j, 2), replace=False)]
    layers = {"kind": "partition", "version": 1, "network": {"uplink_mbps": 3.0, "rtt_ms": 5},
              "layers": [{"name": nm, "device_ms": float(rng.integers(1, 50)), "server_ms": 1.0,
                          "output_bytes": int(rng.integers(1, 10**6)), "memory_bytes": int(rng.integers(1, 100))}
                         for nm in names],
              "edges": [list(e) for e in edges], "device_budget": {"memory_bytes": 1500}}
    p = PartitionProblem.from_dict(layers)
    sol = solvers.solve(p, method="ilp", time_limit=0.001)
    assert sol.status.value in ("time_limit", "optimal")
    if sol.assignment is not None:
        check_solution(p, sol)


def test_options_need_explicit_method():
    p = PartitionProblem.from_lists(["in"], [0], [0], [1], [], uplink_mbps=1)
    with pytest.raises(TypeError):
        solvers.solve(p, backend="networkx")
    with pytest.raises(ValueError, match="unknown `method`"):
        solvers.solve(p, method="nope")
    with pytest.raises(TypeError):
        solvers.partition(p, method="qdmp", bogus=1)


def test_same_input_same_result():
    from hypothesis import find

    problem = find(partition_problems(max_layers=10), lambda p: p.n_layers >= 8)
    runs = [solvers.solve(problem, method=name).assignment for name in EXACT for _ in range(2)]
    assert runs[0::2] == runs[1::2]


@given(partition_problems(max_layers=11, structure="dnn"))
def test_block_lower_bounds_never_exceed_any_partition_of_the_block(problem):
    """Every partition with a server layer lies in a block's family; its latency >= that block's bound."""
    from solvers.algorithms.partition._common import Costs
    from solvers.algorithms.partition.brute_force import closed_sets
    from solvers.algorithms.partition.qdmp import block_lower_bounds

    costs = Costs(problem)
    n = problem.n_layers
    points = np.concatenate(([-1], problem.topology.cut_positions, [n]))
    first, last = points[:-1], points[1:]
    lower = block_lower_bounds(costs, first, last)
    for mask in closed_sets(problem):
        if mask.all() or problem.violations(mask):
            continue
        pos_mask = mask[problem.topology.order]
        value = problem.latency(mask)
        for b in range(len(first)):
            head_ok = pos_mask[: first[b] + 1].all()
            tail_ok = not pos_mask[last[b]:].any()
            if head_ok and tail_ok:
                assert lower[b] <= value + 1e-9, (b, lower[b], value)
