"""Problems and Solutions pickle (process pools, Dask); options take numpy numbers and name themselves.

Issue "no silent wrong answers, round 3", case 15: every case here raised a raw error before.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import formulations
import solvers
from formulations.errors import OptionError
from tests.helpers import INSTANCES

FILES = sorted(INSTANCES.glob("*/*.json")) + sorted(INSTANCES.glob("*/*/*.json")) + [INSTANCES / "flowshop" / "tai20_5.txt"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(INSTANCES).as_posix())
def test_every_shipped_problem_pickles_to_an_equal_immutable_problem(path):
    for problem in formulations.load_all(path):
        copy = pickle.loads(pickle.dumps(problem))
        assert type(copy) is type(problem) and copy.to_dict() == problem.to_dict()
        with pytest.raises(AttributeError, match="immutable"):
            copy.name = "changed"
        arrays = [v for v in vars(copy).values() if isinstance(v, np.ndarray)]
        assert all(not a.flags.writeable for a in arrays)


@pytest.mark.parametrize("rel", ["partition/tiny_chain.json", "partition/tiers_energy.json", "exits/worked_example.json",
                                 "pipeline/example_3tasks.json", "offloading/small_mixed.json"])
def test_a_solution_pickles_with_its_evaluation(rel):
    problem = formulations.load(INSTANCES / rel)
    sol = solvers.solve(problem)
    copy = pickle.loads(pickle.dumps(sol))
    assert copy.to_dict() == sol.to_dict()
    assert pickle.loads(pickle.dumps(problem)).evaluate(copy.assignment).objective == pytest.approx(sol.objective)


def test_numpy_numbers_are_accepted_as_options():
    chain = formulations.load(INSTANCES / "partition" / "tiny_chain.json")
    assert solvers.solve(chain, time_limit=np.float32(2)).status.value == "optimal"
    offloading = formulations.load(INSTANCES / "offloading" / "small_mixed.json")
    run = solvers.solve(offloading, method="dpp", v=np.float32(10), slots=np.int64(50))
    assert run.evaluation is not None


@pytest.mark.parametrize("call, option", [
    (lambda ex, p: solvers.solve(ex, method="exact", num_workers=-1), "num_workers"),
    (lambda ex, p: solvers.solve(ex, method="exact", seed=2**70), "seed"),
    (lambda ex, p: solvers.solve(ex, method="exact", seed="x"), "seed"),
    (lambda ex, p: solvers.bandwidth_map(p, "0.1", 100), "min_mbps"),
    (lambda ex, p: p.replace(network=None), "network"),
])
def test_bad_options_raise_option_errors_naming_the_option(call, option):
    exits = formulations.load(INSTANCES / "exits" / "worked_example.json")
    chain = formulations.load(INSTANCES / "partition" / "tiny_chain.json")
    with pytest.raises(OptionError, match=option):
        call(exits, chain)
