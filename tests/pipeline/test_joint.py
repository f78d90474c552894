"""The ``joint`` method (order and configurations searched together) against brute force and its starts."""

import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import solvers
from formulations.pipeline import PipelineProblem
from formulations.pipeline.problem import Config, Task
from formulations.pipeline.strategies import pipeline_problems
from solvers.algorithms.pipeline import EXACT_DEFAULT_MAX_TASKS
from solvers.algorithms.pipeline.joint_method import default_joint_iterations, joint_starts
from solvers.registry import default_method
from solvers.solution import Status
from tests.helpers import INSTANCES, examples

SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck))


def _start_values(problem):
    starts, _ = joint_starts(problem)
    return [problem.evaluate(problem.assignment(o, c)).objective for o, c in starts]


@settings(max_examples=examples(60), **SETTINGS)
@given(pipeline_problems(max_tasks=4, objectives=("makespan",), releases=True))
def test_joint_is_feasible_never_worse_than_its_starts_and_optimal_on_tiny(problem):
    """Makespan, no per-task deadline (what the joint search models): the plan meets the floor,
    is never worse than any start, and with 30 iterations equals brute force on up to 4 tasks
    (checked on 600 draws while writing this test; the neighbourhood covers every single-task
    reconfiguration and every accuracy trade, and destruction rebuilds up to 3 of 4 tasks)."""
    data = problem.to_dict()
    data.get("constraints", {}).pop("deadline_ms", None)
    problem = PipelineProblem.from_dict(data)
    bf = solvers.solve(problem, method="brute_force")
    sol = solvers.solve(problem, method="joint", iterations=30, seed=0)
    if bf.status == Status.INFEASIBLE:
        assert sol.status == Status.INFEASIBLE and sol.assignment is None
        return
    assert problem.is_feasible(sol.assignment)  # the accuracy floor is met (re-checked in floats)
    assert sol.objective >= bf.objective - 1e-9
    assert all(sol.objective <= v + 1e-9 for v in _start_values(problem))
    assert sol.objective == pytest.approx(bf.objective, abs=1e-9)


@settings(max_examples=examples(30), **SETTINGS)
@given(pipeline_problems(max_tasks=5, objectives=("makespan", "rate")))
def test_joint_falls_back_to_ig_where_it_does_not_search(problem):
    """Rate objective or per-task deadlines: ``ig``'s path, said in ``details``; never below the optimum."""
    sol = solvers.solve(problem, method="joint", iterations=5)
    falls_back = problem.objective == "rate" or problem.deadline_ms is not None
    assert ("fallback" in sol.details) == falls_back
    if sol.assignment is None:
        return
    assert problem.is_feasible(sol.assignment)
    bf = solvers.solve(problem, method="brute_force")
    if problem.objective == "makespan":
        assert sol.objective >= bf.objective - 1e-9
    else:
        assert sol.objective <= bf.objective + 1e-9


def _stream(n=15):
    sys.path.insert(0, str(INSTANCES / "pipeline"))
    import make_streams

    from formulations.pipeline.configs import stream_problem

    return stream_problem(make_streams.models(), n, seed=7, interarrival_ms=20.0, accuracy_min=0.66, keep=5)


def test_joint_is_deterministic_for_a_seed_and_beats_its_starts_on_a_stream():
    problem = _stream()
    a = solvers.solve(problem, method="joint", iterations=15, seed=3)
    b = solvers.solve(problem, method="joint", iterations=15, seed=3)
    assert a.assignment == b.assignment and a.objective == b.objective
    assert a.details["iterations"] == 15 and a.details["best_start"] in a.details["starts"]
    assert problem.is_feasible(a.assignment)
    assert a.objective <= min(_start_values(problem)) + 1e-9
    # the default budget is deterministic too (no time limit: an iteration count)
    c = solvers.solve(problem, method="joint")
    assert c.details["iterations"] == default_joint_iterations(problem.n, problem.m, max(problem.n_configs))


def test_default_method_is_joint_for_streams_with_a_choice():
    stream = _stream(EXACT_DEFAULT_MAX_TASKS + 1)
    assert default_method(stream) == "joint"
    assert default_method(_stream(EXACT_DEFAULT_MAX_TASKS)) == "exact"
    flow = PipelineProblem.from_matrix([[1.0, 2.0]] * (EXACT_DEFAULT_MAX_TASKS + 1))
    assert default_method(flow) == "ig"  # a pure flow shop keeps ig
    rate = PipelineProblem(["a", "b"], [Task(f"t{j}", (Config("x", (1.0, 2.0), 0.9), Config("y", (2.0, 1.0), 0.8)))
                                        for j in range(EXACT_DEFAULT_MAX_TASKS + 1)], objective="rate")
    assert default_method(rate) == "ig"


def test_joint_rejects_bad_options():
    from formulations.errors import OptionError

    problem = _stream(9)
    for bad in ({"iterations": -1}, {"iterations": 1.5}, {"time_budget": 0}):
        with pytest.raises(OptionError):
            solvers.solve(problem, method="joint", **bad)


@st.composite
def copied_streams(draw):
    """Streams of copies of one or two task types (identical configurations), random releases and
    floor: what the exact method's release-order symmetry breaking acts on."""
    base = draw(pipeline_problems(max_tasks=2, max_stages=3, objectives=("makespan",), releases=False,
                                  constraints=False))
    n = draw(st.integers(2, 5))
    tasks = []
    for i in range(n):
        src = base.tasks[draw(st.integers(0, base.n - 1))]
        tasks.append(Task(f"t{i}", src.configs, float(draw(st.integers(0, 12)))))
    lo = sum(min(c.accuracy or 0 for c in t.configs) for t in tasks) / n
    hi = sum(max(c.accuracy or 0 for c in t.configs) for t in tasks) / n
    floor = round(lo + (hi - lo) * draw(st.integers(0, 4)) / 4, 4) if draw(st.booleans()) else None
    return PipelineProblem(base.stages, tasks, accuracy_min=floor)


@settings(max_examples=examples(40), **SETTINGS)
@given(copied_streams(), st.randoms(use_true_random=False))
def test_release_canonical_never_worse_and_exact_still_optimal(problem, rnd):
    from solvers.algorithms.pipeline.exact import release_canonical

    order = list(range(problem.n))
    rnd.shuffle(order)
    config = [rnd.randrange(len(t.configs)) for t in problem.tasks]
    new_order, new_config = release_canonical(problem, order, config)
    before, after = problem.assignment(order, config), problem.assignment(new_order, new_config)
    assert problem.schedule(after).end_ms.max() <= problem.schedule(before).end_ms.max() + 1e-9  # floor aside
    acc = problem.accuracy
    assert sum(acc[j][new_config[j]] for j in range(problem.n)) == pytest.approx(
        sum(acc[j][config[j]] for j in range(problem.n)))
    bf = solvers.solve(problem, method="brute_force")
    ex = solvers.solve(problem, method="exact")
    assert ex.status == bf.status
    if bf.objective is not None:
        assert ex.objective == pytest.approx(bf.objective, abs=1e-9)


@settings(max_examples=examples(40), **SETTINGS)
@given(pipeline_problems(max_tasks=4, objectives=("makespan",), fractional=True))
def test_integer_load_bound_never_exceeds_the_optimum(problem):
    """The integer stage-load bound of ``exact`` (floored times, relaxed accuracies) is a lower bound."""
    import math

    from solvers.algorithms.pipeline.exact import integer_load_bound

    bf = solvers.solve(problem, method="brute_force")
    lb = integer_load_bound(problem, None)
    if bf.objective is None:
        return
    assert lb <= bf.objective * (1 + 1e-12) or math.isinf(lb) and lb < 0


@settings(max_examples=examples(25), **SETTINGS)
@given(pipeline_problems(max_tasks=4, objectives=("makespan",), releases=True))
def test_joint_without_the_lp_keeps_a_valid_bound_and_a_feasible_plan(problem):
    """The cold path (scipy.optimize not imported, little time left: no LP) still returns a
    feasible plan and a bound that never exceeds the optimum."""
    import solvers.algorithms.pipeline.joint_method as jm

    data = problem.to_dict()
    data.get("constraints", {}).pop("deadline_ms", None)
    problem = PipelineProblem.from_dict(data)
    bf = solvers.solve(problem, method="brute_force")
    cold = jm._cold_and_short
    jm._cold_and_short = lambda stop: True
    try:
        sol = solvers.solve(problem, method="joint", iterations=10, seed=0)
    finally:
        jm._cold_and_short = cold
    if bf.status == Status.INFEASIBLE:
        assert sol.status == Status.INFEASIBLE
        return
    assert problem.is_feasible(sol.assignment)
    assert "LP skipped" in sol.message
    assert sol.bound <= bf.objective + 1e-9 <= sol.objective + 2e-9
