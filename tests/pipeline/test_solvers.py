"""Pipeline solvers: exact vs brute force, heuristics vs exact and their stated bounds."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import solvers
from tests.reference import pipeline_objective
from formulations.pipeline import Config, PipelineProblem, Task
from formulations.pipeline.strategies import flowshop_problems, pipeline_problems
from solvers.algorithms.pipeline.bounds import choice_lagrangian, objective_bound
from solvers.algorithms.pipeline.configs import lagrangian_choice
from solvers.registry import methods
from solvers.solution import Status

EXACT = [m.name for m in methods("pipeline") if m.exact and not m.oracle]
HEURISTICS = [m.name for m in methods("pipeline") if not m.exact]
DETERMINISTIC = {"ig": {"iterations": 5}, "neh": {}}


def solve(problem, method, **kw):
    sol = solvers.pipeline(problem, method=method, **kw)
    if sol.assignment is not None:
        assert math.isclose(sol.objective, pipeline_objective(problem, sol.assignment), rel_tol=1e-9)
    return sol


def close(a, b):
    return a == b or abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def better_or_equal(problem, a, b):
    """a is at least as good as b for the problem's sense."""
    if a == b:
        return True
    return a <= b + 1e-6 * max(1.0, abs(b)) if problem.sense == "min" else a >= b - 1e-6 * max(1.0, abs(b))


EXACT_RUNS = [(name, {}) for name in EXACT] + [("exact", {"enumerate_limit": 0})]  # CP-SAT for "rate" too


@pytest.mark.parametrize("method, options", EXACT_RUNS, ids=lambda x: str(x))
@given(problem=pipeline_problems())
def test_exact_equals_brute_force(method, options, problem):
    oracle = solve(problem, "brute_force")
    sol = solve(problem, method, **options)
    if oracle.status == Status.INFEASIBLE:
        assert sol.status == Status.INFEASIBLE
        return
    assert sol.status == Status.OPTIMAL
    assert close(sol.objective, oracle.objective)
    # the proven bound never crosses the optimum
    assert better_or_equal(problem, sol.bound, oracle.objective)


@given(problem=flowshop_problems(min_stages=2, max_stages=2))
def test_johnson_optimal_on_two_stages(problem):
    oracle = solve(problem, "brute_force")
    sol = solve(problem, "johnson")
    assert sol.status == Status.OPTIMAL
    assert close(sol.objective, oracle.objective)


@given(problem=flowshop_problems(min_stages=3, max_stages=3))
def test_johnson_three_stages_optimal_when_dominance_reported(problem):
    oracle = solve(problem, "brute_force")
    sol = solve(problem, "johnson")
    assert sol.objective >= oracle.objective - 1e-9
    if sol.details["dominance"]:
        assert sol.status == Status.OPTIMAL
    if sol.status == Status.OPTIMAL:
        assert close(sol.objective, oracle.objective)


def test_johnson_dominance_detected():
    # middle stage dominated by the first: min p0 = 5 >= max p1 = 4
    p = PipelineProblem.from_matrix([[5, 1, 7], [9, 4, 2], [6, 3, 8], [7, 2, 1]])
    sol = solve(p, "johnson")
    assert sol.status == Status.OPTIMAL and "dominated" in sol.message
    assert sol.objective == solve(p, "brute_force").objective


@given(problem=pipeline_problems())
def test_bound_and_heuristics_around_optimum(problem):
    oracle = solve(problem, "brute_force")
    bound, _ = objective_bound(problem)
    for name in HEURISTICS:
        sol = solve(problem, name, **DETERMINISTIC.get(name, {}))
        if oracle.status == Status.INFEASIBLE:
            assert sol.assignment is None
            continue
        if sol.bound is not None:  # bound <= optimum (>= for the rate)
            assert better_or_equal(problem, sol.bound, oracle.objective)
        if sol.assignment is not None:  # no heuristic beats the optimum
            assert better_or_equal(problem, oracle.objective, sol.objective)
            if sol.status == Status.OPTIMAL:
                assert close(sol.objective, oracle.objective)
    if oracle.status != Status.INFEASIBLE:
        assert better_or_equal(problem, bound, oracle.objective)


@given(problem=flowshop_problems(max_tasks=7, releases=True))
def test_stated_ratio_of_permutation_heuristics(problem):
    """neh/ig/johnson docstrings: Cmax <= max_j r_j + m * LB with one configuration per task."""
    lb, _ = objective_bound(problem)
    for name in ("neh", "ig", "johnson", "lagrangian", "bottleneck"):
        sol = solve(problem, name, **DETERMINISTIC.get(name, {}))
        assert sol.objective <= problem.release_ms.max() + problem.m * lb + 1e-6
        assert sol.objective >= lb - 1e-6


@given(problem=pipeline_problems(objectives=("makespan",)))
def test_lagrangian_choice_within_spread_of_its_bound(problem):
    """lagrangian_choice docstring: W_mu(choice) <= bound + max_j spread_j."""
    from solvers.algorithms.pipeline.bounds import stage_load_bound

    mu = stage_load_bound(problem).mu
    w = [problem.times[j] @ mu for j in range(problem.n)]
    allowed = [problem.admissible(j) for j in range(problem.n)]
    target = None if problem.accuracy_min is None else problem.n * problem.accuracy_min
    lag = choice_lagrangian(w, problem.accuracy, target, allowed)
    assert lag.choice == lagrangian_choice(problem, mu).choice
    if lag.choice is None:
        assert problem.infeasibility_reason() is not None
        return
    spread = max(float(wj[a].max() - wj[a].min()) for wj, a in zip(w, allowed))
    value = sum(float(w[j][c]) for j, c in enumerate(lag.choice))
    assert value <= lag.bound + spread + 1e-6
    if target is not None:
        assert sum(problem.accuracy[j][c] for j, c in enumerate(lag.choice)) >= target - 1e-6


@given(problem=pipeline_problems(), data=st.data())
def test_bottleneck_never_worse_than_its_start(problem, data):
    from solvers.algorithms.pipeline.configs import bottleneck_relief

    start = lagrangian_choice(problem).choice
    if start is None:
        return
    relieved = bottleneck_relief(problem, start)
    load = lambda cfg: max(sum(problem.times[j][c] for j, c in enumerate(cfg)))
    assert load(relieved) <= load(start) + 1e-9
    assert problem.is_feasible(problem.assignment(range(problem.n), relieved)) or problem.objective == "makespan"


@given(problem=pipeline_problems(max_tasks=5, constraints=False), data=st.data())
def test_faster_configuration_never_raises_the_optimum(problem, data):
    j = data.draw(st.integers(0, problem.n - 1))
    c = data.draw(st.integers(0, len(problem.tasks[j].configs) - 1))
    cfg = problem.tasks[j].configs[c]
    cut = data.draw(st.lists(st.integers(0, 3), min_size=problem.m, max_size=problem.m))
    faster = Config(cfg.name, tuple(max(0.0, t - d) for t, d in zip(cfg.ms, cut)), cfg.accuracy)
    tasks = list(problem.tasks)
    tasks[j] = Task(tasks[j].name, tasks[j].configs[:c] + (faster,) + tasks[j].configs[c + 1 :], tasks[j].release_ms)
    improved = problem.replace(tasks=tasks)
    before, after = solve(problem, "exact"), solve(improved, "exact")
    assert better_or_equal(problem, after.objective, before.objective)


@given(problem=pipeline_problems(objectives=("makespan",)))
def test_schedule_respects_every_precedence(problem):
    sol = solve(problem, "neh")
    if sol.assignment is None:
        return
    s = problem.evaluate(sol.assignment)
    order = [problem.index[nm] for nm in s.order]
    eps = 1e-9
    for pos, j in enumerate(order):
        assert s.start_ms[pos, 0] >= problem.release_ms[j] - eps
        row = problem.times[j][problem.config_index[j][s.configs[s.order[pos]]]]
        assert np.allclose(s.end_ms[pos] - s.start_ms[pos], row)
        for k in range(problem.m):
            if k:
                assert s.start_ms[pos, k] >= s.end_ms[pos, k - 1] - eps
            if pos:
                assert s.start_ms[pos, k] >= s.end_ms[pos - 1, k] - eps
            # semi-active: starts exactly when allowed
            ready = max(s.end_ms[pos, k - 1] if k else problem.release_ms[j], s.end_ms[pos - 1, k] if pos else 0.0)
            assert math.isclose(s.start_ms[pos, k], ready, abs_tol=eps)
    assert math.isclose(s.makespan_ms, s.end_ms[:, -1].max())


def test_infeasible_floor_is_a_status_for_every_method():
    t = [Task("a", (Config("x", (1.0, 2.0), 0.7), Config("y", (2.0, 1.0), 0.8))), Task("b", (Config("x", (3.0, 1.0), 0.6),))]
    p = PipelineProblem(["dev", "srv"], t, accuracy_min=0.95)
    for m in methods("pipeline"):
        sol = solvers.pipeline(p, method=m.name)
        assert sol.status == Status.INFEASIBLE and sol.assignment is None, m.name


def test_ig_same_seed_same_result():
    rng = np.random.default_rng(7)
    p = PipelineProblem.from_matrix(rng.integers(1, 99, size=(15, 4)))
    a = solve(p, "ig", iterations=30, seed=3)
    b = solve(p, "ig", iterations=30, seed=3)
    assert a.assignment == b.assignment and a.objective == b.objective
    assert a.objective <= solve(p, "neh").objective


def test_exact_time_limit_returns_status_and_bound(instances_dir):
    from formulations.pipeline.taillard import read_taillard

    p = read_taillard(instances_dir / "flowshop" / "ta003.fsp")
    sol = solvers.pipeline(p, method="exact", time_limit=0.5)
    assert sol.status in (Status.TIME_LIMIT, Status.OPTIMAL)
    assert sol.bound is not None and sol.bound <= 1081
    if sol.assignment is not None:
        assert sol.objective >= 1081


def test_bad_options_are_value_errors():
    p = PipelineProblem.from_matrix([[1, 2], [2, 1]])
    with pytest.raises(ValueError, match="`time_budget`"):
        solvers.pipeline(p, method="neh", time_budget=-1)
    with pytest.raises(ValueError, match="`configs`"):
        solvers.pipeline(p, method="neh", configs="nope")
    with pytest.raises(TypeError):
        solvers.solve(p, seed=1)


def test_exact_equals_brute_force_on_float_times():
    """Non-integer times take the ns floor-scaling path of the CP-SAT model."""
    rng = np.random.default_rng(0)
    for _ in range(25):
        n, m = int(rng.integers(1, 5)), int(rng.integers(1, 4))
        tasks = [
            Task(f"t{j}", tuple(Config(f"c{c}", tuple(float(x) for x in rng.uniform(0, 10, m).round(int(rng.integers(0, 9)))),
                                       round(float(rng.uniform(0.5, 1)), 3)) for c in range(int(rng.integers(1, 4)))),
                 float(rng.uniform(0, 10)) if rng.random() < 0.5 else 0.0)
            for j in range(n)
        ]
        floor = float(np.mean([max(c.accuracy for c in t.configs) for t in tasks]) - rng.uniform(0, 0.1))
        p = PipelineProblem([f"s{k}" for k in range(m)], tasks, objective=str(rng.choice(["makespan", "rate"])),
                            accuracy_min=floor, deadline_ms=float(rng.uniform(5, 40)) if rng.random() < 0.4 else None)
        oracle, sol = solve(p, "brute_force"), solve(p, "exact", enumerate_limit=0)
        assert sol.status == oracle.status
        if oracle.objective is not None:
            assert close(sol.objective, oracle.objective)
            assert better_or_equal(p, sol.bound, oracle.objective)
