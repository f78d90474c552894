"""DADS's heavy-load approximation (``dads_heavy``) against brute force: its period is at most the
published ratio (3) times the optimal period in DADS's model (two tiers, no result download), at most
``s`` (the stages that carry load) times it in general, and its bound is a valid upper bound on frames/s."""

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
from solvers.algorithms.partition.dads import PUBLISHED_RATIO, loaded_stages
from tests.helpers import INSTANCES, examples

SETTINGS = settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def period(rate: float) -> float:
    return 0.0 if math.isinf(rate) else 1000.0 / rate


def check_ratio(problem, ratio):
    oracle = solvers.solve(problem, method="brute_force")
    sol = solvers.solve(problem, method="dads_heavy")
    if oracle.status.value == "infeasible":
        assert sol.status.value == "infeasible"
        return sol
    assert sol.status.value in ("feasible", "optimal")
    assert sol.details["ratio_bound"] == ratio
    value = problem.evaluate(sol.assignment).objective  # re-evaluated by the formulation
    assert value == pytest.approx(sol.objective)
    assert period(value) <= ratio * period(oracle.objective) * (1 + 1e-9) + 1e-9
    assert value <= oracle.objective * (1 + 1e-9)
    if sol.bound is not None:
        assert sol.bound >= oracle.objective * (1 - 1e-9)
    return sol


@SETTINGS
@given(partition_problems(max_layers=8, fractional=True))
def test_published_ratio_3_in_dads_model(problem):
    """Two tiers, the results not sent back (outputs of 0 bytes): edge, transmission and cloud are the stages."""
    data = problem.to_dict()
    senders = {edge[0] for edge in data.get("edges", [])}
    for layer in data["layers"]:
        if layer["name"] not in senders:  # an output: its result is not sent back in DADS's model
            layer["output_bytes"] = 0
    data["objective"] = "throughput"
    stream = formulations.PartitionProblem.from_dict(data)
    assert loaded_stages(stream) <= PUBLISHED_RATIO
    check_ratio(stream, loaded_stages(stream))


@SETTINGS
@given(tiered_instances(n_tiers=(2, 3, 4), objectives=("throughput",), constraints=False))
def test_ratio_s_on_k_tiers_with_pins(problem):
    assert loaded_stages(problem) <= 3 * problem.n_tiers - 2
    check_ratio(problem, loaded_stages(problem))


def _stream(name, mbps):
    data = json.loads((INSTANCES / "partition" / name).read_text())
    data["network"]["uplink_mbps"] = mbps
    data["objective"] = "throughput"
    return formulations.PartitionProblem.from_dict(data)


def test_the_scaling_search_improves_on_the_light_load_cut():
    """regnet_y_400mf at 100 Mbps: the sum-minimizing cut streams fewer frames/s than the re-weighted one."""
    problem = _stream("suite/regnet_y_400mf.json", 100.0)
    light = solvers.solve(problem, method="dads_heavy", steps=0)
    heavy = solvers.solve(problem, method="dads_heavy")
    assert heavy.objective > light.objective * 1.01
    assert heavy.details["max_flows"] == light.details["max_flows"] + 24


@pytest.mark.parametrize("change, match", [
    (lambda d: d.__setitem__("objective", "latency"), "throughput"),
    (lambda d: d.__setitem__("constraints", {"latency_max_ms": 50.0}), "constraints"),
])
def test_dads_heavy_refuses_what_a_min_cut_cannot_do(change, match):
    data = json.loads((INSTANCES / "partition" / "tiny_chain.json").read_text())
    data["objective"] = "throughput"
    change(data)
    problem = formulations.PartitionProblem.from_dict(data)
    with pytest.raises(OptionError, match=match):
        solvers.solve(problem, method="dads_heavy")


def test_bad_steps_names_the_option():
    with pytest.raises(OptionError, match="steps"):
        solvers.solve(_stream("tiny_chain.json", 10.0), method="dads_heavy", steps=-1)
