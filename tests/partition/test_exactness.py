"""Exactness of the partition integer models under fractional data (issue 15).

Brute force (float enumeration with the problem's own evaluator) is the
oracle: every exact method must agree in status and value, and every
bound must be valid for the float problem.
"""

import math

import pytest
from hypothesis import given, settings

import solvers
from formulations import PartitionProblem
from formulations.partition.problem import Layer, Network
from formulations.partition.strategies import partition_problems
from tests.helpers import examples


def _close(a, b):
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def _chain(device_ms, server_ms, nbytes, mbps=1.0, **kwargs):
    layers = [Layer(f"L{i}", d, s, b, flops=kwargs.pop(f"flops{i}", None)) for i, (d, s, b) in
              enumerate(zip(device_ms, server_ms, nbytes))]
    edges = [(f"L{i}", f"L{i + 1}") for i in range(len(layers) - 1)]
    return PartitionProblem(layers, edges, Network(mbps), **kwargs)


def test_fractional_budget_three_thirds_fit_in_one():
    """Issue 15 case 1: three layers using 1/3 flops each under a budget of
    1.0 fit in floats; `ilp` rounded usage up and the budget down and
    claimed a worse 'optimal' with an invalid bound."""
    layers = [Layer(f"L{i}", 1.0, 0.0, 10**6, flops=1 / 3) for i in range(3)]
    p = PartitionProblem(layers, [("L0", "L1"), ("L1", "L2")], Network(1.0), device_budget={"flops": 1.0})
    oracle = solvers.solve(p, method="brute_force")
    sol = solvers.solve(p, method="ilp")
    assert sol.status.value == "optimal"
    assert _close(sol.objective, oracle.objective)
    assert sol.bound <= oracle.objective + 1e-9


def test_tiny_fractional_budget_is_not_infeasible():
    """Issue 15 case 1b: budget 1e-9 with usage 1e-10 per layer was
    `infeasible` for `ilp` (usage rounded up to 1e-6 units)."""
    layers = [Layer(f"L{i}", 1.0, 0.5, 10**5, flops=1e-10) for i in range(3)]
    p = PartitionProblem(layers, [("L0", "L1"), ("L1", "L2")], Network(1.0), device_budget={"flops": 1e-9})
    oracle = solvers.solve(p, method="brute_force")
    sol = solvers.solve(p, method="ilp")
    assert sol.status.value == oracle.status.value == "optimal"
    assert _close(sol.objective, oracle.objective)


def test_coarsened_units_never_claim_optimal_wrongly():
    """Issue 15 case 3: with huge layers (the issue's 1e16 ms is now refused
    at load, so 1e15 ms, the largest value accepted) the integer unit is
    coarsened; `mincut`/`qdmp` must not claim `optimal` for a worse
    partition, and the bound must stay valid."""
    layers = [Layer("in", 0.0, 0.0, 100), Layer("a", 1e15, 0.3, 1000), Layer("b", 10.5, 1e15, 1000),
              Layer("c", 0.3, 10.2, 700)]
    p = PartitionProblem(layers, [("in", "a"), ("in", "b"), ("b", "c")], Network(7.3))
    oracle = solvers.solve(p, method="brute_force")
    for method in ("mincut", "qdmp", "ilp"):
        sol = solvers.solve(p, method=method)
        assert sol.bound is None or sol.bound <= oracle.objective * (1 + 1e-12), method
        if sol.status.value == "optimal":
            assert _close(sol.objective, oracle.objective), method


def test_registry_downgrades_a_far_bound_and_drops_a_wrong_one():
    """Issue 15 case 3 (registry): a bound far below the objective is not
    `optimal`; a bound above the objective (minimizing) is dropped."""
    from solvers.registry import MethodResult, register
    from solvers.solution import Status

    p = _chain([0.0, 5.0], [0.0, 1.0], [0, 0])
    plan = {"device": ["L0"], "server": ["L1"]}

    @register("partition", "_test_far", exact=True)
    def far(problem, *, time_limit=None):
        return MethodResult(Status.OPTIMAL, plan, bound=0.5)

    @register("partition", "_test_above", exact=True)
    def above(problem, *, time_limit=None):
        return MethodResult(Status.OPTIMAL, plan, bound=99.0)

    try:
        a = solvers.solve(p, method="_test_far")
        assert a.status.value == "feasible" and a.bound == 0.5
        b = solvers.solve(p, method="_test_above")
        assert b.status.value == "feasible" and b.bound is None
    finally:
        from solvers.registry import _REGISTRY

        _REGISTRY["partition"].pop("_test_far", None)
        _REGISTRY["partition"].pop("_test_above", None)


def test_solve_rejects_non_problems_with_type_error():
    """Issue 15 case 7: `solvers.solve(None)` raised AttributeError."""
    for bad in (None, 3, "instances/partition/vgg16.json", {"kind": "partition"}):
        with pytest.raises(TypeError, match="expected"):
            solvers.solve(bad)
    with pytest.raises(TypeError, match="expected a 'partition' problem"):
        solvers.partition(None)


def test_front_end_and_solve_share_the_default_method():
    """Issue 12: `solvers.partition(problem)` with a device budget raised
    "cannot handle device_budget" while `solve` picked `ilp`."""
    p = _chain([0.0, 5.0, 5.0], [0.0, 1.0, 1.0], [10, 10, 10], flops0=1.0, flops1=1.0, flops2=1.0,
               device_budget={"flops": 2.0})
    a = solvers.partition(p)
    b = solvers.solve(p)
    assert a.method == b.method == "ilp"
    with pytest.raises(TypeError, match="explicit `method`"):
        solvers.partition(p, backend="networkx")
    with pytest.raises(TypeError, match="unexpected keyword option"):
        solvers.solve(p, method="qdmp", bogus=1)


@settings(max_examples=examples(40))
@given(partition_problems(max_layers=8, fractional=True))
def test_min_cut_methods_match_brute_force_on_fractional_data(problem):
    oracle = solvers.solve(problem, method="brute_force")
    for method in ("qdmp", "mincut", "ilp"):
        sol = solvers.solve(problem, method=method)
        assert sol.status.value == oracle.status.value, (method, sol.message)
        if oracle.status.value == "optimal":
            assert _close(sol.objective, oracle.objective), method
            assert sol.bound <= oracle.objective * (1 + 1e-12) + 1e-12, method


@settings(max_examples=examples(40))
@given(partition_problems(max_layers=8, budget=True, fractional=True))
def test_ilp_matches_brute_force_on_fractional_budgets(problem):
    oracle = solvers.solve(problem, method="brute_force")
    sol = solvers.solve(problem, method="ilp")
    assert sol.status.value == oracle.status.value, sol.message
    if oracle.status.value == "optimal":
        assert _close(sol.objective, oracle.objective)
        assert sol.bound <= oracle.objective * (1 + 1e-12) + 1e-12


@pytest.mark.parametrize("huge", [1e16, 1e300])
def test_values_beyond_the_input_limit_are_refused_naming_the_field(huge):
    """Issue 15 case 7: finite extreme values failed inside the solvers with
    messages naming no field; now they are refused at construction."""
    from formulations import InstanceError

    with pytest.raises(InstanceError, match=r"layers\[1\]\.device_ms: too large"):
        PartitionProblem([Layer("in", 0.0, 0.0, 100), Layer("a", huge, 0.3, 1000)], [("in", "a")], Network(7.3))


@pytest.mark.parametrize("huge", [1e15, 3e14])
def test_extreme_finite_values_solve_with_valid_bounds(huge):
    """Issue 15 case 7: the largest accepted values coarsen the integer unit;
    every method still returns a plan, and none claims `optimal` unless the
    objective meets a valid bound."""
    layers = [Layer("in", 0.0, 0.0, 100), Layer("a", huge, 0.3, 1000), Layer("b", 10.5, huge, 1000)]
    p = PartitionProblem(layers, [("in", "a"), ("a", "b")], Network(7.3))
    oracle = solvers.solve(p, method="brute_force")
    for method in ("qdmp", "mincut", "ilp"):
        sol = solvers.solve(p, method=method)
        assert sol.assignment is not None, method
        assert sol.bound is None or sol.bound <= oracle.objective * (1 + 1e-12), method
        if sol.status.value == "optimal":
            assert _close(sol.objective, oracle.objective), method


def test_relaxed_budget_plan_rejected_in_floats_is_cut_off():
    """A plan 1.5e-12 over the budget passes the relaxed integer row (usage
    floored, budget rounded up); the float re-check rejects it, a no-good cut
    excludes it, and the re-solve finds the float optimum."""
    layers = [Layer("in", 0.0, 0.0, 10**6), Layer("a", 1.0, 50.0, 10**6, flops=0.5),
              Layer("b", 1.0, 50.0, 10**6, flops=0.5000000000015)]
    layers[0] = Layer("in", 0.0, 0.0, 10**6, flops=0.0)
    p = PartitionProblem(layers, [("in", "a"), ("a", "b")], Network(100.0), device_budget={"flops": 1.0})
    oracle = solvers.solve(p, method="brute_force")
    sol = solvers.solve(p, method="ilp")
    assert sol.status.value == "optimal"
    assert _close(sol.objective, oracle.objective)
    assert sol.assignment["device"] == oracle.assignment["device"] == ["in", "a"]
    assert sol.details["no_good_cuts"] >= 1
