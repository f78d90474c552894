"""The sweep runner: local processes by default, a Dask cluster when given a scheduler address."""

from pathlib import Path

import pytest

import formulations
from formulations.offloading.simulator import simulate
from solvers.algorithms.offloading import DriftPlusPenalty, GreedyQueue, sweep
from tests.helpers import INSTANCES

INST = INSTANCES / "offloading"


@pytest.fixture(scope="module")
def problems():
    return {name: formulations.load(INST / f"{name}.json") for name in ("small_mixed", "trace_wifi")}


def expected(problems):
    out = []
    for name, p in problems.items():
        for seed in (1, 2):
            for v in (3.0, 30.0):
                out.append((name, "dpp", v, seed, simulate(p, DriftPlusPenalty(p, v), slots=400, seed=seed).average_penalty))
            out.append((name, "greedy_queue", None, seed, simulate(p, GreedyQueue(p), slots=400, seed=seed).average_penalty))
    return sorted(out, key=str)


def as_tuples(rows):
    return sorted(((r["scenario"], r["policy"], r["params"].get("v"), r["seed"], r["average_penalty"]) for r in rows), key=str)


def test_local_processes_match_in_process_runs(problems):
    rows = sweep(problems, vs=[3.0, 30.0], seeds=[1, 2], policies=["dpp", "greedy_queue"], slots=400, max_workers=2)
    assert as_tuples(rows) == expected(problems)
    assert all({"average_penalty", "average_backlog", "stable"} <= set(r) for r in rows)


def test_in_process_and_bad_names(problems):
    rows = sweep(problems, vs=[3.0], seeds=[1], policies=["dpp"], slots=100, max_workers=1)
    assert len(rows) == 2
    with pytest.raises(ValueError, match="`policy`"):
        sweep(problems, policies=["nope"], slots=10, max_workers=1)


def test_dask_local_cluster(problems):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        rows = sweep(problems, vs=[3.0, 30.0], seeds=[1, 2], policies=["dpp", "greedy_queue"], slots=400,
                     scheduler=cluster.scheduler_address)
    assert as_tuples(rows) == expected(problems)
