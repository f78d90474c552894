"""No exact method returns ``infeasible`` or ``optimal`` wrongly at extreme magnitudes.

Each property draws a small instance with the kind's own strategy, then
multiplies every time and byte field by its own factor from 1e-9 to 1e12
(clipped to the input limit 1e15), so one instance mixes magnitudes across
24 decades, and compares every exact method of the registry with the
kind's brute force (issue: "no silent wrong answers, round 3"):

- ``infeasible`` only when brute force finds no plan;
- ``optimal`` only within the reported ``optimality_tol`` of the brute-force optimum;
- a reported bound never on the wrong side of the brute-force optimum.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import formulations
import solvers
from formulations.deadline import Deadline
from formulations.errors import OptionError
from formulations.exits.strategies import exit_problems
from formulations.offloading.strategies import tiny_offloading
from formulations.partition.strategies import partition_problems
from formulations.partition.tier_strategies import tiered_instances
from formulations.pipeline.strategies import pipeline_problems
from formulations.placement.strategies import placement_problems
from tests.helpers import FIXTURES, examples

#: The fuzz corpus: the issue's adversarial instances (also seeds of tests/common/test_fuzz_instances.py).
CORPUS = FIXTURES / "extreme"
#: Input limit of instance files (formulations.validate): every number <= 1e15.
INPUT_LIMIT = 1e15
FACTORS = (1e-9, 1e-6, 1e-3, 1.0, 1e3, 1e6, 1e9, 1e12)
#: Fields scaled per value: times (ms), costs (mJ) and byte counts.
TIME_KEYS = {"device_ms", "server_ms", "ms", "rtt_ms", "release_ms", "local_cost", "cost"}
BYTE_KEYS = {"output_bytes", "input_bytes", "result_bytes"}


def _scaled(value, factor: float, whole: bool):
    if isinstance(value, list):
        return [_scaled(v, factor, whole) for v in value]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    out = min(float(value) * factor, INPUT_LIMIT)
    return int(out) if whole else out


#: Placement's scaled fields: work, weights, memory, link latency (bytes are whole).
PLACEMENT_KEYS = {"gflop", "weight_mb", "memory_mb", "latency_ms", "kv_bytes_per_token", "gflops", "mbps"}


@st.composite
def mixed(draw, problems, extra_keys=frozenset()):
    """``problems``' instance with every time and byte field scaled by its own factor (a dict walk)."""
    problem = draw(problems)
    data = problem.to_dict()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in TIME_KEYS or key in BYTE_KEYS or key in extra_keys:
                    node[key] = _scaled(value, draw(st.sampled_from(FACTORS)), key in BYTE_KEYS)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(data)
    return type(problem).from_dict(data)


def check_against_brute_force(problem, kind: str | None = None) -> None:
    oracle = solvers.solve(problem, method="brute_force")
    exact = [m for m in solvers.methods(kind or problem.kind) if m.exact and m.name != "brute_force"]
    assert exact
    for method in exact:
        try:
            sol = solvers.solve(problem, method=method.name, time_limit=20)
        except OptionError:  # this method does not take one of the instance's features
            continue
        label = f"{method.name}: {sol.status.value} {sol.objective} bound {sol.bound} vs brute force " \
                f"{oracle.status.value} {oracle.objective} ({sol.message})"
        if oracle.status.value == "infeasible":
            assert sol.status.value in ("infeasible", "time_limit", "unknown") and sol.assignment is None, label
            continue
        assert sol.status.value != "infeasible", label
        if oracle.status.value != "optimal":  # the oracle itself cannot decide (an ill-conditioned LP)
            continue
        best = oracle.objective
        noise = 1e-9 * abs(best)
        if sol.status.value == "optimal" and math.isinf(best):  # e.g. the rate of tasks taking no time
            assert sol.objective == best, label
        elif sol.status.value == "optimal":
            assert abs(sol.objective - best) <= sol.details["optimality_tol"] + noise, label
        if sol.bound is not None and math.isfinite(best) and math.isfinite(sol.bound):
            if sol.sense == "min":
                assert sol.bound <= best + noise, label
            else:
                assert sol.bound >= best - noise, label


SETTINGS = settings(max_examples=examples(60), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@SETTINGS
@given(mixed(partition_problems(max_layers=7, fractional=True)))
def test_two_tier_partition_methods_at_extreme_values(problem):
    check_against_brute_force(problem)


@SETTINGS
@given(mixed(partition_problems(max_layers=6, budget=True, fractional=True)))
def test_two_tier_partition_with_budget_at_extreme_values(problem):
    check_against_brute_force(problem)


@SETTINGS
@given(mixed(tiered_instances(n_tiers=(2, 3), max_layers=4, constraints=True)))
def test_k_tier_methods_at_extreme_values(problem):
    check_against_brute_force(problem)


@SETTINGS
@given(mixed(pipeline_problems(max_tasks=4, max_stages=3, fractional=True)))
def test_pipeline_methods_at_extreme_values(problem):
    check_against_brute_force(problem)


@SETTINGS
@given(mixed(exit_problems(max_samples=6, max_exits=3, max_nodes=2, max_blocks=3, fractional=True)))
def test_exits_methods_at_extreme_values(problem):
    check_against_brute_force(problem)


@SETTINGS
@given(mixed(tiny_offloading()))
def test_offloading_methods_at_extreme_values(problem):
    check_against_brute_force(problem)


@SETTINGS
@given(mixed(placement_problems(max_layers=5, max_devices=3), PLACEMENT_KEYS))
def test_placement_methods_at_extreme_values(problem):
    check_against_brute_force(problem)


# ------------------------------------------------------------------ the cases, each failing before


def corpus(name: str):
    """An adversarial instance of the issue, from the fuzz corpus (``tests/fixtures/extreme``)."""
    return formulations.load(CORPUS / name)


def test_pipeline_exact_never_calls_a_feasible_instance_infeasible():
    """One task, times up to 7e9 ms and a release of 8e12 ms: CP-SAT's doubles called it INFEASIBLE."""
    sol = solvers.solve(corpus("pipeline_exact_release_8e12.json"), method="exact", time_limit=10)
    assert sol.status.value == "optimal"
    assert sol.objective == pytest.approx(8007371169349.31, rel=1e-12)


def test_pareto_front_is_never_empty_for_a_feasible_instance():
    front = solvers.pareto(corpus("tiers_pareto_never_empty.json"))
    assert len(front) >= 1
    assert all(s.status.value == ("optimal" if front.exact else "feasible") for s in front)


def test_tiny_objectives_are_not_called_optimal_far_from_the_optimum():
    """Costs near 1e-9 ms: the former absolute tolerance 1e-6 let 1e-9 pass as optimal against 1e-10."""
    problem = corpus("tiers_tiny_objective.json")
    best = solvers.solve(problem, method="brute_force").objective
    for method in ("mincut", "ilp"):
        sol = solvers.solve(problem, method=method)
        assert sol.status.value == "optimal" and sol.objective == pytest.approx(best, rel=1e-9), method


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.json")), ids=lambda p: p.stem)
def test_every_corpus_instance_agrees_with_brute_force(path):
    check_against_brute_force(formulations.load(path))


def test_pareto_time_limit_and_max_points_are_answers():
    problem = formulations.load(formulations.__path__[0] + "/../instances/partition/tiers/worked_example.json")
    full = solvers.pareto(problem)
    assert full.complete and len(full) == 3
    cut = solvers.pareto(problem, max_points=2)
    assert not cut.complete and len(cut) == 2 and "max_points" in cut.message
    assert [s.details["latency_ms"] for s in cut] == [s.details["latency_ms"] for s in full[:2]]
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(OptionError, match="time_limit"):
            solvers.pareto(problem, time_limit=bad)


def test_offloading_lp_with_costs_across_decades_is_solved():
    """Costs of 3.3e13 and 1e-9 mJ in one instance: HiGHS failed (status 4) and the CLI showed a RuntimeError."""
    problem = corpus("offloading_huge_costs.json")
    oracle = solvers.solve(problem, method="brute_force")
    sol = solvers.solve(problem, method="stationary_lp")
    # a plan, never an exception; optimal only where the costs' range lets HiGHS resolve them
    assert oracle.assignment is not None and sol.assignment is not None
    assert sol.objective == pytest.approx(oracle.objective, rel=1e-6)


def test_exits_exact_never_reports_a_time_limit_it_did_not_reach(monkeypatch):
    """The relaxed model's plan breaks latency_max_ms in floats and the restricted model has none:
    the answer is `unknown` (feasibility undecided), not `time_limit` after 0.4 s of a 60 s limit."""
    from ortools.sat.python import cp_model

    import solvers.algorithms.exits.exact as exact_module

    problem = formulations.load(formulations.__path__[0] + "/../instances/exits/worked_example.json")
    calls = []

    def fake_solve(problem, rounding, *args):
        calls.append(rounding)
        if rounding == "floor":
            return cp_model.OPTIMAL, "plan", 1.0, "OPTIMAL", 0.0
        return cp_model.INFEASIBLE, None, None, "INFEASIBLE", 0.0

    monkeypatch.setattr(exact_module, "_solve", fake_solve)
    monkeypatch.setattr(exact_module, "warm_start", lambda problem: None)
    monkeypatch.setattr(type(problem), "is_feasible", lambda self, plan: plan != "plan", raising=True)
    result = exact_module.exact(problem, deadline=Deadline(60))
    assert calls == ["floor", "ceil"]
    assert result.status.value == "unknown" and "undecided" in result.message


def test_two_tier_ilp_bound_never_above_the_optimum_with_a_huge_rtt():
    """RTT 1e12 ms: CP-SAT's doubles put the bound at 46.20002 above the optimum 46.2000005 (case 6)."""
    problem = corpus("ilp_bound_rtt_1e12.json")
    oracle = solvers.solve(problem, method="brute_force")
    sol = solvers.solve(problem, method="ilp", time_limit=10)
    assert sol.status.value == "optimal" and sol.objective == pytest.approx(oracle.objective, rel=1e-12)
    assert sol.bound <= oracle.objective


def test_k_tier_ilp_proves_a_tiny_optimum_under_caps():
    """Energy 3.5e-6 mJ under latency and energy caps: ilp said `feasible` with bound 0 at the optimum
    (the unit was coarser than the tolerance, case 4); the unit now follows the instance's scale."""
    problem = corpus("tier_ilp_optimal_energy_cap.json")
    oracle = solvers.solve(problem, method="brute_force")
    sol = solvers.solve(problem, method="ilp", time_limit=10)
    assert sol.status.value == "optimal" and sol.objective == pytest.approx(oracle.objective, rel=1e-9)
    assert sol.bound <= oracle.objective * (1 + 1e-12)


@settings(max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed(tiered_instances(n_tiers=(3,), max_layers=4, constraints=True)), st.sampled_from([4e5, 0.25, 1e-9]))
def test_pareto_is_an_answer_for_extreme_energy_models_pins_and_unicode_names(problem, idle_w):
    """Case 8 (`coinfer pareto` on unicode names, idle_w 4e5 and a pin raised a TypeError): every front
    is a list of feasible plans, non-empty when brute force finds a plan; never an exception."""
    data = problem.to_dict()
    rename = {layer["name"]: f"层{i}ü" for i, layer in enumerate(data["layers"])}
    for layer in data["layers"]:
        layer["name"] = rename[layer["name"]]
    data["edges"] = [[rename[a], rename[b]] for a, b in data.get("edges", [])]
    data["pinned"] = {tier: [rename[n] for n in names] for tier, names in data.get("pinned", {}).items()}
    if "energy" not in data:
        return
    data["energy"]["idle_w"] = idle_w
    problem = formulations.PartitionProblem.from_dict(data)
    front = solvers.pareto(problem, time_limit=20)
    for point in front:
        assert problem.is_feasible(point.assignment)
    if solvers.solve(problem, method="brute_force").status.value == "optimal":
        assert len(front) >= 1 or not front.complete


def test_placement_dp_sees_a_tiny_layer_beside_a_huge_one():
    """Prefix-sum differences read a 1e-11 MB layer after a 1e6 MB one as 0 MB: dp placed it on a
    device with memory_mb 0 and the registry raised (before: RuntimeError 'infeasible assignment')."""
    sol = solvers.solve(corpus("placement_tiny_beside_huge.json"), method="dp")
    assert sol.status.value == "optimal"
    assert [s["device"] for s in sol.assignment["stages"]] == ["slow"]
