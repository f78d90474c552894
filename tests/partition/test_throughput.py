"""Throughput of a pipelined stream (``"objective": "throughput"``): frames/s = 1000 / the largest
stage load (each tier's compute, each link's uplink and downlink; RTT is not a stage).

The default method (``ilp``: CP-SAT minimizing the period) equals brute force in status and value on
random DAGs, two-tier files (loaded as k = 2) and k = 2..4 tiers, with pins and latency caps; the
period is recomputed here from the formulas.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import formulations
import solvers
from formulations.errors import InstanceError, OptionError
from formulations.partition.strategies import partition_problems
from formulations.partition.tier_strategies import tiered_instances
from tests.helpers import INSTANCES, examples

SETTINGS = settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def independent_rate(problem, tiers) -> float:
    """frames/s from the formulas with plain loops: per tier the compute, per link the bytes crossing it."""
    k = problem.n_tiers
    compute = [0.0] * k
    for v in range(problem.n_layers):
        compute[tiers[v]] += float(problem.ms[v, tiers[v]])
    succ = {}
    for u, w in problem.edges:
        succ.setdefault(problem.index[u], []).append(problem.index[w])
    loads = list(compute)
    for b, link in enumerate(problem.links):
        up = sum(int(problem.output_bytes[u]) for u, ws in succ.items() if tiers[u] <= b < max(tiers[w] for w in ws))
        down = sum(int(problem.output_bytes[v]) for v in range(problem.n_layers) if v not in succ and tiers[v] > b)
        loads.append(up * 8 / (link.uplink_mbps * 1000))
        loads.append(down * 8 / ((link.downlink_mbps or link.uplink_mbps) * 1000))  # None: follows the uplink
    period = max(loads)
    return math.inf if period == 0 else 1000.0 / period


def check(problem):
    oracle = solvers.solve(problem, method="brute_force")
    sol = solvers.solve(problem, time_limit=20)
    assert sol.method == "ilp"
    if oracle.status.value == "infeasible":
        assert sol.status.value == "infeasible"
        return
    assert sol.status.value == "optimal", sol.message
    assert sol.objective == pytest.approx(oracle.objective, rel=1e-6)
    tiers = problem.tier_vector(sol.assignment)
    assert independent_rate(problem, tiers) == pytest.approx(sol.objective, rel=1e-9)
    cap = problem.constraints.get("latency_max_ms")
    if cap is not None:
        assert problem.measures(tiers)[0] <= cap * (1 + 1e-9)


@SETTINGS
@given(tiered_instances(n_tiers=(2, 3, 4), objectives=("throughput",), constraints=True))
def test_k_tier_throughput_equals_brute_force(problem):
    check(problem)


@SETTINGS
@given(partition_problems(max_layers=8, fractional=True))
def test_two_tier_files_with_the_throughput_objective_equal_brute_force(problem):
    data = problem.to_dict()
    data["objective"] = "throughput"
    check(formulations.PartitionProblem.from_dict(data))


@SETTINGS
@given(partition_problems(max_layers=8, fractional=True), st.floats(0.9, 2.0))
def test_two_tier_files_with_a_latency_cap_equal_brute_force(problem, factor):
    """Fractional two-tier files with ``latency_max_ms`` at 0.9..2 times the latency optimum (sometimes
    infeasible, sometimes binding): the default method equals brute force in status and value."""
    data = problem.to_dict()
    data["objective"] = "throughput"
    fastest = solvers.solve(problem).objective  # None when the pins leave no plan (then brute force says so too)
    data["constraints"] = {"latency_max_ms": factor * (fastest if fastest is not None else 100.0)}
    check(formulations.PartitionProblem.from_dict(data))


def test_the_stream_optimum_is_not_the_latency_optimum():
    """synthetic_700 at 18.88 Mbps: the latency-optimal split streams 3.92 frames/s, the throughput-optimal 4.28."""
    data = json.loads((INSTANCES / "partition" / "synthetic_700.json").read_text())
    data["network"]["uplink_mbps"] = 18.88
    latency = solvers.solve(formulations.PartitionProblem.from_dict(data))
    data["objective"] = "throughput"
    stream = formulations.PartitionProblem.from_dict(data)
    best = solvers.solve(stream, time_limit=30)
    assert best.status.value == "optimal"
    as_stream = stream.evaluate({"device": latency.assignment["device"], "server": latency.assignment["server"]})
    assert best.objective > as_stream.objective * 1.05
    terms = stream.breakdown(best.assignment)
    assert terms["period_ms"] == pytest.approx(1000.0 / best.objective)
    assert terms["bottleneck"] in terms["stage_ms"]


def test_all_on_device_is_one_stage_and_rtt_is_not_a_stage():
    data = json.loads((INSTANCES / "partition" / "tiny_chain.json").read_text())
    data["objective"] = "throughput"
    data["network"]["rtt_ms"] = 1000.0
    problem = formulations.PartitionProblem.from_dict(data)
    everything = {"device": list(problem.names), "server": []}
    ev = problem.evaluate(everything)
    assert ev.objective == pytest.approx(1000.0 / float(problem.ms[:, 0].sum()))
    assert ev.terms["bottleneck"] == "device compute"


@pytest.mark.parametrize("edit, field", [
    (lambda d: d.__setitem__("objective", {"weighted": {"throughput": 1.0, "energy": 1.0}}), "objective.weighted"),
    (lambda d: d.__setitem__("constraints", {"latency_max_ms": -1.0}), "constraints.latency_max_ms"),
])
def test_bad_throughput_input_names_the_field(edit, field):
    data = json.loads((INSTANCES / "partition" / "tiny_chain.json").read_text())
    data["objective"] = "throughput"
    edit(data)
    with pytest.raises(InstanceError, match=field.replace(".", r"\.")):
        formulations.PartitionProblem.from_dict(data)


def test_mincut_refuses_the_throughput_objective():
    data = json.loads((INSTANCES / "partition" / "tiny_chain.json").read_text())
    data["objective"] = "throughput"
    with pytest.raises(OptionError, match="throughput"):
        solvers.solve(formulations.PartitionProblem.from_dict(data), method="mincut")
