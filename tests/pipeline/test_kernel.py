"""The vectorized flow-shop kernel and the fast iterated greedy against the plain recurrence / brute force."""

import itertools

import numpy as np
import pytest

from solvers.algorithms.pipeline import kernel as K
from solvers.algorithms.pipeline.greedy import Flow, iterated_greedy_seq, neh_sequence


def makespan(order, P, release) -> float:
    """The reference: the flow-shop recurrence, one operation at a time."""
    done = [0.0] * (len(P[0]) if P else 0)
    for j in order:
        t = release[j]
        for k, p in enumerate(P[j]):
            t = max(t, done[k]) + p
            done[k] = t
    return done[-1] if order else 0.0


@pytest.mark.parametrize("trial", range(40))
def test_neighbourhood_equals_recomputed_makespans(trial):
    rng = np.random.default_rng(trial)
    n, m = int(rng.integers(2, 8)), int(rng.integers(1, 5))
    T = rng.integers(0, 10, (n, m)).astype(float)
    rel = rng.integers(0, 15, n).astype(float) if trial % 2 else np.zeros(n)
    seq = rng.permutation(n)
    P, R = T.tolist(), rel.tolist()
    assert K.makespans(T[seq].T.copy(), rel[seq]) == pytest.approx(makespan(list(seq), P, R))
    V = K.neighbourhood(T.T.copy(), rel if trial % 2 else None, seq)
    for x in range(n):
        rest = [j for i, j in enumerate(seq) if i != x]
        for t in range(n):
            assert V[x, 0, t] == pytest.approx(makespan(rest[:t] + [seq[x]] + rest[t:], P, R))


@pytest.mark.parametrize("trial", range(10))
def test_iterated_greedy_never_below_brute_force(trial):
    rng = np.random.default_rng(100 + trial)
    n, m = int(rng.integers(2, 7)), int(rng.integers(1, 4))
    T = rng.integers(0, 10, (n, m)).astype(float)
    rel = rng.integers(0, 10, n).astype(float)
    flow = Flow(T.T.copy(), rel)
    opt = min(makespan(list(p), T.tolist(), rel.tolist()) for p in itertools.permutations(range(n)))
    start = neh_sequence(flow, range(n))
    best, value, _ = iterated_greedy_seq(flow, start, iterations=20, seed=trial)
    assert value == pytest.approx(flow.value(best))
    assert sorted(best.tolist()) == list(range(n))
    assert value >= opt - 1e-9
    assert value <= flow.value(start) + 1e-9


def test_joint_search_feasible_and_never_below_brute_force():
    from hypothesis import HealthCheck, given, settings

    import solvers
    from formulations.pipeline.strategies import pipeline_problems
    from solvers.algorithms.pipeline.configs import choose_configs
    from solvers.algorithms.pipeline.joint import joint_search
    from solvers.algorithms.pipeline.neh import neh_order
    from tests.helpers import examples

    @settings(max_examples=examples(25), deadline=None, suppress_health_check=list(HealthCheck))
    @given(pipeline_problems(max_tasks=4, objectives=("makespan",)))
    def check(problem):
        if problem.deadline_ms is not None or problem.infeasibility_reason():
            return
        config = choose_configs(problem, "lagrangian")
        if config is None:
            return
        order, cfg, value, _ = joint_search(problem, [(neh_order(problem, config), config)], iterations=5, seed=0)
        plan = problem.assignment(order, cfg)
        assert problem.is_feasible(plan)
        assert problem.evaluate(plan).objective == pytest.approx(value)
        opt = solvers.pipeline(problem, method="brute_force")
        assert value >= opt.objective - 1e-9

    check()
