"""Exact sub-steps of the exit methods, each against enumeration with the evaluator."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from formulations.exits.strategies import exit_problems
from solvers.algorithms.exits._common import Plan, argbest, best_placement, placements, reach_counts, score
from solvers.algorithms.exits.dp import global_threshold_sweep, is_nested, pass_matrix
from solvers.algorithms.exits.heuristics import sweep_exit
from solvers.algorithms.exits.rates import rate_model_dp, rate_model_enumerate, rate_model_latency
from tests.helpers import examples


def key_of(problem, res, n_kept):
    viol, obj = score(problem, [res.mean_latency_ms * problem.n_samples], [res.correct], [n_kept])
    return float(viol[0]), float(obj[0])


@st.composite
def problem_and_plan(draw, **kw):
    problem = draw(exit_problems(max_samples=15, max_exits=4, max_nodes=3, max_blocks=4, **kw))
    E = problem.n_exits
    kept = np.array([draw(st.booleans()) for _ in range(E - 1)] + [True])
    m = problem.constraints.get("max_exits")
    if m is not None:
        idx = np.nonzero(kept[:-1])[0][m:]
        kept[idx] = False
    tau = np.full(E, np.inf)
    tau[-1] = -np.inf
    for e in np.nonzero(kept[:-1])[0]:
        tau[e] = draw(st.sampled_from(problem.candidate_thresholds(e).tolist()))
    place = np.array(draw(st.sampled_from(list(placements(problem)))))
    return problem, Plan(problem, place, kept, tau)


@settings(max_examples=examples(60))
@given(problem_and_plan())
def test_best_placement_is_the_fastest(case):
    problem, plan = case
    stop = problem.stop_exits(plan.kept, plan.tau)
    place, total = best_placement(problem, plan.kept, reach_counts(problem, stop))
    counts = np.bincount(stop, minlength=problem.n_exits)
    best = min(float(counts @ problem.exit_latency_ms(np.array(p), plan.kept)) for p in placements(problem))
    assert math.isclose(total, best, rel_tol=1e-12, abs_tol=1e-9)
    assert math.isclose(float(counts @ problem.exit_latency_ms(place, plan.kept)), best, rel_tol=1e-12, abs_tol=1e-9)


@settings(max_examples=examples(60))
@given(problem_and_plan(), st.integers(0, 3))
def test_sweep_exit_is_an_exact_1d_search(case, e):
    problem, plan = case
    if problem.n_exits < 2:
        return
    e = e % (problem.n_exits - 1)
    t, viol, obj = sweep_exit(problem, plan, e)
    options = [np.inf] + problem.candidate_thresholds(e).tolist()
    keys = []
    for cand in options:
        kept, tau = plan.kept.copy(), plan.tau.copy()
        kept[e], tau[e] = np.isfinite(cand), cand
        n_kept = int(kept[:-1].sum())
        m = problem.constraints.get("max_exits")
        if m is not None and n_kept > m:
            continue
        res = problem.measure(problem.assignment(plan.place, kept, tau))
        keys.append(key_of(problem, res, n_kept))
    best = min(keys)
    assert math.isclose(viol, best[0], abs_tol=1e-9) and math.isclose(obj, best[1], rel_tol=1e-12, abs_tol=1e-9)


@settings(max_examples=examples(60))
@given(problem_and_plan())
def test_global_threshold_sweep_tries_every_breakpoint(case):
    problem, plan = case
    tau = global_threshold_sweep(problem, plan.place, plan.kept, plan.tau)
    free = [e for e in range(problem.n_exits - 1) if plan.kept[e] and problem.exits[e].threshold is None]
    res = problem.measure(problem.assignment(plan.place, plan.kept, tau))
    got = key_of(problem, res, int(plan.kept[:-1].sum()))
    values = np.unique(problem.confidence[:, free]).tolist() + [2.0] if free else [0.0]
    keys = []
    for t in values:
        cand = plan.tau.copy()
        cand[free] = t
        r = problem.measure(problem.assignment(plan.place, plan.kept, cand))
        keys.append(key_of(problem, r, int(plan.kept[:-1].sum())))
    best = min(keys)
    assert math.isclose(got[0], best[0], abs_tol=1e-9) and math.isclose(got[1], best[1], rel_tol=1e-12, abs_tol=1e-9)


@settings(max_examples=examples(40))
@given(exit_problems(max_samples=15, dp_exact=True))
def test_dp_exact_strategy_gives_nested_pass_sets(problem):
    tau = np.array([problem.exits[e].threshold for e in range(problem.n_exits - 1)], dtype=float)
    assert is_nested(pass_matrix(problem, tau))


def test_is_nested_detects_a_violation():
    passes = np.array([[True, False], [False, False]])
    assert not is_nested(passes)
    assert is_nested(np.array([[True, True], [False, True]]))


def test_argbest_is_lexicographic():
    assert argbest([1.0, 0.0, 0.0], [0.0, 5.0, 3.0]) == 2


@settings(max_examples=examples(80))
@given(exit_problems(max_samples=2, max_exits=4, max_nodes=3, max_blocks=5, constrained=False),
       st.lists(st.sampled_from((0.0, 0.1, 0.25, 0.5, 0.9, 1.0)), min_size=3, max_size=3),
       st.one_of(st.none(), st.integers(0, 3)))
def test_rate_model_dp_equals_enumeration(problem, rates, max_exits):
    rates = np.array(rates[: problem.n_exits - 1])
    place, kept, value = rate_model_dp(problem, rates, max_exits=max_exits)
    best = rate_model_enumerate(problem, rates, max_exits=max_exits)
    assert math.isclose(value, best[2], rel_tol=1e-9, abs_tol=1e-9)
    assert math.isclose(rate_model_latency(problem, rates, place, kept), value, rel_tol=1e-9, abs_tol=1e-9)
    assert max_exits is None or kept[:-1].sum() <= max_exits
