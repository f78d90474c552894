"""LEIME's rate model: the Pareto DP against enumeration of (kept set, placement) under the model."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import solvers
from formulations.exits import ExitProblem
from formulations.exits.strategies import exit_problems
from solvers.algorithms.exits._common import placements
from solvers.algorithms.exits.dp import rates_plan
from solvers.algorithms.exits.rates import (
    estimate_rates,
    rate_model_accuracy,
    rate_model_brute_force,
    rate_model_front,
    rate_model_latency,
    rate_model_plan,
    rate_model_shortlist,
)
from tests.helpers import examples


def _chain() -> ExitProblem:
    """One node, blocks of 1 and 9 ms, a free exit after b1 (rates/accuracies come from the tests)."""
    return ExitProblem.from_dict({
        "kind": "exits", "version": 1, "nodes": ["device"], "links": [],
        "input_bytes": 10, "result_bytes": 10,
        "blocks": [{"name": "b1", "ms": [1.0], "output_bytes": 10}, {"name": "b2", "ms": [9.0], "output_bytes": 10}],
        "exits": [{"name": "e1", "after": "b1", "ms": [0.0]}, {"name": "final", "after": "b2", "ms": [0.0]}],
        "samples": {"confidence": [[0.5, 1.0]], "correct": [[1, 1]]},
    })


PROBS = (0.0, 0.1, 0.25, 0.4, 0.5, 0.7, 0.9, 1.0)


@st.composite
def rate_models(draw):
    """A small exit problem with per-exit rates (early exits) and accuracies (all exits)."""
    problem = draw(exit_problems(max_samples=2, max_exits=4, max_nodes=3, max_blocks=5, constrained=False))
    E = problem.n_exits
    rates = np.array([draw(st.sampled_from(PROBS)) for _ in range(E - 1)])
    accuracies = np.array([draw(st.sampled_from(PROBS)) for _ in range(E)])
    return problem, rates, accuracies


def _assert_same(problem, rates, accuracies, got, ref, **kw):
    assert (got is None) == (ref is None)
    if got is None:
        return
    # the DP's reported figures are the plan's own, re-evaluated directly
    assert math.isclose(rate_model_latency(problem, rates, got.placement, got.kept), got.latency_ms, abs_tol=1e-9)
    assert math.isclose(rate_model_accuracy(rates, accuracies, got.kept), got.accuracy, abs_tol=1e-12)
    assert got.kept[-1]
    m = kw.get("max_exits")
    assert m is None or got.kept[:-1].sum() <= m
    if kw.get("accuracy_min") is not None:
        assert got.accuracy >= kw["accuracy_min"] - 1e-9
    lmax = kw.get("latency_max_ms")
    if lmax is not None:
        assert got.latency_ms <= lmax + 1e-9 * max(1.0, lmax)
    if kw.get("objective", "latency") == "latency":
        assert math.isclose(got.latency_ms, ref.latency_ms, rel_tol=1e-9, abs_tol=1e-9)
    else:
        assert math.isclose(got.accuracy, ref.accuracy, abs_tol=1e-12)


@settings(max_examples=examples(150))
@given(rate_models(), st.one_of(st.none(), st.sampled_from(PROBS)), st.one_of(st.none(), st.integers(0, 3)))
def test_latency_with_floor_equals_enumeration(model, accuracy_min, max_exits):
    problem, rates, accuracies = model
    kw = {"accuracy_min": accuracy_min, "max_exits": max_exits}
    got = rate_model_plan(problem, rates, accuracies, **kw)
    ref = rate_model_brute_force(problem, rates, accuracies, **kw)
    _assert_same(problem, rates, accuracies, got, ref, **kw)


@settings(max_examples=examples(100))
@given(rate_models(), st.floats(0.0, 1.5), st.one_of(st.none(), st.integers(0, 3)))
def test_accuracy_objective_equals_enumeration(model, frac, max_exits):
    problem, rates, accuracies = model
    # a latency limit between the fastest and the slowest plans (and beyond)
    lats = [rate_model_latency(problem, rates, p, np.r_[np.ones(problem.n_exits - 1, bool), True])
            for p in placements(problem)]
    kw = {"objective": "accuracy", "latency_max_ms": round(frac * max(lats), 3), "max_exits": max_exits}
    got = rate_model_plan(problem, rates, accuracies, **kw)
    ref = rate_model_brute_force(problem, rates, accuracies, **kw)
    _assert_same(problem, rates, accuracies, got, ref, **kw)


@settings(max_examples=examples(60))
@given(rate_models(), st.one_of(st.none(), st.integers(0, 3)))
def test_front_is_the_pareto_front_of_enumeration(model, max_exits):
    problem, rates, accuracies = model
    front = rate_model_front(problem, rates, accuracies, max_exits=max_exits)
    lat = [p.latency_ms for p in front]
    acc = [p.accuracy for p in front]
    assert lat == sorted(lat) and all(b > a for a, b in itertools.pairwise(acc))
    # every plan is matched or beaten by a front point (enumerated as the oracle's floors)
    for target in acc:
        ref = rate_model_brute_force(problem, rates, accuracies, accuracy_min=target, max_exits=max_exits)
        best = min(p.latency_ms for p in front if p.accuracy >= target - 1e-9)
        assert math.isclose(best, ref.latency_ms, rel_tol=1e-9, abs_tol=1e-9)
    top = rate_model_brute_force(problem, rates, accuracies, objective="accuracy", max_exits=max_exits)
    assert math.isclose(acc[-1], top.accuracy, abs_tol=1e-12)


@settings(max_examples=examples(60))
@given(rate_models(), st.sampled_from(PROBS), st.integers(1, 4))
def test_shortlist_starts_at_the_model_optimum(model, accuracy_min, width):
    problem, rates, accuracies = model
    short = rate_model_shortlist(problem, rates, accuracies, accuracy_min=accuracy_min, width=width)
    front = rate_model_front(problem, rates, accuracies)
    assert 1 <= len(short) <= width
    points = {(p.latency_ms, p.accuracy) for p in short}  # distinct points of the front
    assert len(points) == len(short) and points <= {(q.latency_ms, q.accuracy) for q in front}
    best = rate_model_plan(problem, rates, accuracies, accuracy_min=accuracy_min)
    if best is None:  # the model's most accurate plan comes first
        assert short[0].accuracy == max(p.accuracy for p in front)
    else:
        assert math.isclose(short[0].latency_ms, best.latency_ms, rel_tol=1e-9, abs_tol=1e-9)


def test_floor_changes_the_plan_on_a_hand_checked_chain():
    """One node, two blocks, an exit after b1 that is fast but inaccurate."""
    problem = _chain()
    rates, accuracies = np.array([0.5]), np.array([0.6, 1.0])
    fast = rate_model_plan(problem, rates, accuracies)
    assert fast.kept.tolist() == [True, True]
    assert fast.latency_ms == pytest.approx(1 + 0.5 * 9) and fast.accuracy == pytest.approx(0.8)
    slow = rate_model_plan(problem, rates, accuracies, accuracy_min=0.9)
    assert slow.kept.tolist() == [False, True] and slow.latency_ms == pytest.approx(10.0)
    assert rate_model_plan(problem, rates, np.array([0.6, 0.8]), accuracy_min=0.9) is None
    best = rate_model_plan(problem, rates, accuracies, objective="accuracy", latency_max_ms=9.0)
    assert best.kept.tolist() == [True, True]
    assert rate_model_plan(problem, rates, accuracies, objective="accuracy", latency_max_ms=5.0) is None


@settings(max_examples=examples(40))
@given(exit_problems(max_samples=20, max_exits=4, max_nodes=2, max_blocks=4))
def test_estimated_rates_are_pass_fractions_and_passer_accuracies(problem):
    tau = np.array([float(np.median(problem.confidence[:, e])) for e in range(problem.n_exits - 1)])
    rates, accuracies = estimate_rates(problem, tau)
    N = problem.n_samples
    for e in range(problem.n_exits - 1):
        passers = [s for s in range(N) if problem.confidence[s, e] >= tau[e]]
        assert rates[e] == pytest.approx(len(passers) / N)
        expect = sum(int(problem.correct[s, e]) for s in passers) / len(passers) if passers else 0.0
        assert accuracies[e] == pytest.approx(expect)
    assert accuracies[-1] == pytest.approx(problem.correct[:, -1].mean())
    place, kept = rates_plan(problem, tau)
    assert kept[-1] and len(place) == problem.n_blocks


def test_model_arguments_are_checked():
    problem = _chain()
    with pytest.raises(ValueError, match="`rates`"):
        rate_model_plan(problem, [1.5], [0.5, 0.5], accuracy_min=0.1)
    with pytest.raises(ValueError, match="`accuracies`"):
        rate_model_plan(problem, [0.5], [0.5], accuracy_min=0.1)
    with pytest.raises(ValueError, match="`accuracies` are needed"):
        rate_model_plan(problem, [0.5], accuracy_min=0.1)
    with pytest.raises(ValueError, match="`objective`"):
        rate_model_plan(problem, [0.5], [0.5, 0.5], objective="speed", accuracy_min=0.1)


@settings(max_examples=examples(40))
@given(exit_problems(max_samples=30, max_exits=4, max_nodes=3, max_blocks=5))
def test_dp_rate_model_stays_a_heuristic_on_samples(problem):
    ref = solvers.solve(problem, method="brute_force")
    sol = solvers.exits(problem, method="dp", model="rates")
    assert sol.status.value in ("feasible", "unknown", "infeasible")
    if sol.assignment is not None:
        assert problem.is_feasible(sol.assignment)
        if problem.sense == "min":
            assert sol.objective >= ref.objective - 1e-9
        else:
            assert sol.objective <= ref.objective + 1e-9
