"""The library's evaluators agree with the independent ones of ``tests/reference.py`` (issue 19).

``tests/reference.py`` recomputes objectives from the instance dict (the file
format, ``problem.to_dict()``) and the plan's names with plain loops, sharing
no code with ``formulations``: partition in both forms (two-tier latency;
k-tier latency, device energy and the throughput period) and offloading
(the expected cost, served rates and server loads of a stationary policy).
Plans are drawn at random (closed under the DAG, so mostly feasible) and
taken from a fast solver.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import solvers
from formulations.errors import InfeasibleAssignmentError
from formulations.offloading.strategies import tiny_offloading
from formulations.partition.strategies import partition_problems
from formulations.partition.tier_strategies import tiered_instances
from tests.helpers import examples
from tests.reference import (
    offloading_stationary,
    partition_form,
    partition_measures,
    partition_objective,
    partition_structurally_feasible,
    partition_tiers_of,
)

REL = 1e-9


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-9)


def _random_plan(draw, problem) -> dict:
    """A tier per layer, then inputs put on tier 0 and every layer raised to its predecessors' largest tier."""
    form = partition_form(problem.to_dict())
    names, k = list(form["ms"]), len(form["tiers"])
    tier = {name: draw(st.integers(0, k - 1)) for name in names}
    has_pred = {v for _, v in form["edges"]}
    for name in names:
        if name not in has_pred:
            tier[name] = 0
    for _ in range(len(names)):  # longest path <= n edges
        for u, v in form["edges"]:
            tier[v] = max(tier[v], tier[u])
    return {t: [n for n in names if tier[n] == j] for j, t in enumerate(form["tiers"])}


def _check_plan(problem, plan) -> bool:
    """Compare evaluate with the reference on ``plan``; True when it was feasible (compared)."""
    form = partition_form(problem.to_dict())
    tier_of = partition_tiers_of(form, plan)
    if not partition_structurally_feasible(form, tier_of):
        assert not problem.is_feasible(plan)
        return False
    try:
        ev = problem.evaluate(plan)
    except InfeasibleAssignmentError:
        return False  # a budget or a constraint (not recomputed here)
    assert _close(ev.objective, partition_objective(problem, plan)), (ev.objective, partition_objective(problem, plan))
    return True


@settings(max_examples=examples(60))
@given(problem=partition_problems(max_layers=9), data=st.data())
def test_two_tier_latency_matches_the_reference(problem, data):
    plan = _random_plan(data.draw, problem)
    compared = _check_plan(problem, plan)
    sol = solvers.solve(problem, method="qdmp")
    if sol.assignment is not None:
        assert _check_plan(problem, sol.assignment)
        assert _close(sol.objective, partition_objective(problem, sol.assignment))
    assume(compared or sol.assignment is not None)


@settings(max_examples=examples(60))
@given(problem=tiered_instances(objectives=("latency", "energy", "weighted"), radio=True), data=st.data())
def test_k_tier_objectives_match_the_reference(problem, data):
    plan = _random_plan(data.draw, problem)
    assume(_check_plan(problem, plan))
    form = partition_form(problem.to_dict())
    measures = partition_measures(form, partition_tiers_of(form, plan))
    # each measure through the library's own objective of that name (public API only)
    assert _close(problem.replace(objective="latency").evaluate(plan).objective, measures["latency_ms"])
    if measures["energy_mj"] is not None:
        assert _close(problem.replace(objective="energy").evaluate(plan).objective, measures["energy_mj"])
    rate = problem.replace(objective="throughput").evaluate(plan).objective
    period = measures["period_ms"]
    assert (math.isinf(rate) and period == 0) or _close(rate, 1000.0 / period)


@pytest.mark.parametrize("name", ["tiny_chain", "residual_block", "two_inputs_two_outputs", "tiers_energy",
                                  "tiers/worked_example", "tiers/resnet18_3tier"])
def test_shipped_partition_optima_match_the_reference(name):
    """The independent certificate of the shipped instances' optima (either form)."""
    import formulations
    from tests.helpers import INSTANCES

    problem = formulations.load(INSTANCES / "partition" / f"{name}.json")
    sol = solvers.solve(problem)
    assert _close(sol.objective, partition_objective(problem, sol.assignment))


@st.composite
def _offloading_case(draw):
    problem = draw(tiny_offloading())
    data = problem.to_dict()
    local = [draw(st.integers(0, 4 * int(d["local_capacity"]))) / 4 for d in data["devices"]]
    send = [[draw(st.integers(0, 4 * int(s["capacity"]))) / 4 for s in link["states"]] for link in data["links"]]
    return problem, {"local": local, "send": send}


@settings(max_examples=examples(80))
@given(case=_offloading_case())
def test_offloading_stationary_cost_matches_the_reference(case):
    problem, policy = case
    ref = offloading_stationary(problem, policy)
    data = problem.to_dict()
    meets = all(ref["served"][d] >= ref["rates"][d] * (1 + 1e-6) + 1e-9 for d in ref["rates"]) and all(
        ref["load"][s["name"]] <= s["capacity"] * (1 - 1e-6) - 1e-9 for s in data["servers"])
    misses = any(ref["served"][d] < ref["rates"][d] * (1 - 1e-6) - 1e-9 for d in ref["rates"]) or any(
        ref["load"][s["name"]] > s["capacity"] * (1 + 1e-6) + 1e-9 for s in data["servers"])
    if misses:
        assert not problem.is_feasible(policy)
    if meets:
        ev = problem.evaluate(policy)
        assert _close(ev.objective, ref["cost"])
        assert all(_close(float(x), ref["served"][d["name"]]) for x, d in zip(ev.served, data["devices"]))
        assert all(_close(float(x), ref["load"][s["name"]]) for x, s in zip(ev.server_load, data["servers"]))
    sol = solvers.solve(problem, method="stationary_lp")
    if sol.assignment is not None:
        assert math.isclose(sol.objective, offloading_stationary(problem, sol.assignment)["cost"],
                            rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize("name", ["small_mixed", "trace_wifi", "vgg16_edge"])
def test_shipped_offloading_optima_match_the_reference(name):
    import formulations
    from tests.helpers import INSTANCES

    problem = formulations.load(INSTANCES / "offloading" / f"{name}.json")
    sol = solvers.solve(problem, method="stationary_lp")
    ref = offloading_stationary(problem, sol.assignment)
    assert math.isclose(sol.objective, ref["cost"], rel_tol=1e-9, abs_tol=1e-9)
