"""Every problem kind follows the one contract of ``formulations.base.Problem``.

For a shipped instance of each kind: the class is a ``Problem`` exported from
``formulations``; ``from_json`` equals ``load``; ``to_dict`` round-trips;
``evaluate`` of a feasible plan returns ``.objective``/``.feasible`` and agrees
with an independent recomputation; ``violations``/``is_feasible``; wrong types
raise ``AssignmentTypeError`` (a ``TypeError`` and an
``InfeasibleAssignmentError``) saying what was expected; the problem is
immutable (issue 15, case 4: no stale cached answers after a "change").
"""

from __future__ import annotations

import numpy as np
import pytest

import formulations
import solvers
from formulations import InfeasibleAssignmentError, Network, Problem
from formulations.base import AssignmentTypeError
from tests.helpers import INSTANCES

SHIPPED = {
    "partition": INSTANCES / "partition" / "residual_block.json",
    "exits": INSTANCES / "exits" / "worked_example.json",
    "pipeline": INSTANCES / "pipeline" / "coinfer_6tasks.json",
    "offloading": INSTANCES / "offloading" / "small_mixed.json",
    "tiers": INSTANCES / "partition" / "tiers_energy.json",
}
FAST_METHOD = {"partition": "qdmp", "exits": "dp", "pipeline": "neh", "offloading": "stationary_lp", "tiers": "mincut"}


@pytest.fixture(params=sorted(SHIPPED))
def problem(request):
    loaded = formulations.load(SHIPPED[request.param])
    assert label_of(loaded) == request.param
    return loaded


def label_of(problem) -> str:
    from formulations.partition import TieredPartitionProblem

    return "tiers" if isinstance(problem, TieredPartitionProblem) else problem.kind


def test_every_problem_class_is_exported_and_follows_the_base(problem):
    cls = type(problem)
    assert isinstance(problem, Problem)
    assert getattr(formulations, cls.__name__) is cls
    for name in ("from_dict", "to_dict", "evaluate", "violations"):
        assert getattr(cls, name) is not getattr(Problem, name), f"{cls.__name__} does not implement {name}"
    assert cls.from_json is Problem.from_json.__func__ or cls.from_json.__func__ is Problem.from_json.__func__


def test_from_json_and_round_trip(problem):
    path = SHIPPED[label_of(problem)]
    again = type(problem).from_json(path)
    assert again.to_dict() == problem.to_dict()
    assert type(problem).from_dict(problem.to_dict()).to_dict() == problem.to_dict()


def test_evaluate_returns_objective_and_feasible(problem):
    sol = solvers.solve(problem, method=FAST_METHOD[label_of(problem)])
    ev = problem.evaluate(sol.assignment)
    assert ev.feasible is True
    assert isinstance(ev.objective, float)
    assert problem.violations(sol.assignment) == []
    assert problem.is_feasible(sol.assignment)


@pytest.mark.parametrize("wrong", [None, 42, "device", 3.5])
def test_wrong_types_say_what_was_expected(problem, wrong):
    with pytest.raises(AssignmentTypeError, match="expected|assignment is|must be"):
        problem.evaluate(wrong)
    assert issubclass(AssignmentTypeError, TypeError) and issubclass(AssignmentTypeError, InfeasibleAssignmentError)
    assert problem.is_feasible(wrong) is False


def test_problems_are_immutable(problem):
    with pytest.raises(AttributeError, match="immutable"):
        problem.name = "changed"
    with pytest.raises(AttributeError, match="immutable"):
        del problem.name
    public = (getattr(problem, name) for name in dir(problem) if not name.startswith("_"))
    arrays = [v for v in public if isinstance(v, np.ndarray)]
    assert arrays, "every kind holds some numpy data"
    for arr in arrays:
        with pytest.raises(ValueError, match="read-only"):
            arr.flat[0] = 1
    assert problem.replace(name="changed").name == "changed"
    assert problem.name != "changed"


def test_replace_rejects_unknown_fields(problem):
    with pytest.raises(TypeError, match="unknown field"):
        problem.replace(no_such_field=1)


def test_partition_cannot_go_stale_after_a_solve():
    """Issue 15 case 4: p.network = ... or p.output_bytes[:] = ... after a solve."""
    p = formulations.load(SHIPPED["partition"])
    before = solvers.partition(p, method="qdmp")
    assert p.upload_ms.sum() > 0  # the cached upload times exist now
    with pytest.raises(AttributeError):
        p.network = Network(0.001)
    with pytest.raises(ValueError):
        p.output_bytes[:] = 10**9
    with pytest.raises(ValueError):
        p.upload_ms[:] = 0.0  # cached arrays are read-only too
    for method in ("qdmp", "mincut", "ilp"):
        assert solvers.partition(p, method=method).objective == pytest.approx(before.objective)
    slow = p.replace(network=Network(0.001))
    assert solvers.partition(slow, method="qdmp").objective != pytest.approx(before.objective)
    assert p.to_dict()["network"] == formulations.load(SHIPPED["partition"]).to_dict()["network"]


def _contract_params():
    return sorted(SHIPPED)


@pytest.mark.parametrize("label", _contract_params())
def test_every_evaluate_returns_an_evaluation(label):
    """Issue 19: one contract; every kind's evaluation is a ``formulations.base.Evaluation``."""
    from formulations.base import Evaluation

    problem = formulations.load(SHIPPED[label])
    ev = problem.evaluate(solvers.solve(problem, method=FAST_METHOD[label]).assignment)
    assert isinstance(ev, Evaluation), type(ev).__name__
    assert float(ev) == ev.objective and ev.feasible is True and ev.violations == ()


@pytest.mark.parametrize("label", _contract_params())
def test_solutions_carry_the_objective_unit(label):
    """Issue 19: the objective's unit travels with the solution (one table column mixed ms and mJ)."""
    problem = formulations.load(SHIPPED[label])
    sol = solvers.solve(problem, method=FAST_METHOD[label])
    assert sol.unit == problem.unit and sol.to_dict()["unit"] == problem.unit
    assert problem.unit and " " not in problem.unit, repr(problem.unit)
    assert problem.unit in sol.summary()


def test_the_reporting_interface_is_declared_on_problem():
    """``unit``, ``summarize``, ``infeasibility_reason`` and ``breakdown`` are part of ``Problem`` (with
    defaults), so the CLI calls them instead of probing with ``hasattr``."""
    import inspect

    import solvers.cli.app as app

    for name in ("unit", "summarize", "infeasibility_reason", "breakdown"):
        assert hasattr(Problem, name), name
    source = inspect.getsource(app)
    for name in ("unit", "summarize", "infeasibility_reason", "breakdown"):
        assert f'hasattr(problem, "{name}")' not in source and f'getattr(problem, "{name}"' not in source, name


def test_units_of_every_objective():
    units = {
        "exits": {"latency": "ms", "accuracy": "fraction"},
        "pipeline": {"makespan": "ms", "rate": "tasks/s"},
    }
    for label, by_objective in units.items():
        problem = formulations.load(SHIPPED[label])
        for objective, unit in by_objective.items():
            changes = {"objective": objective}
            if label == "exits" and objective == "accuracy":
                changes["constraints"] = {"latency_max_ms": 1e6}
            assert problem.replace(**changes).unit == unit
    off = formulations.load(SHIPPED["offloading"])
    assert off.unit == "mJ/slot"
    assert off.replace(metadata={"cost_unit": "cost units"}).unit == "cost_units/slot"
    assert off.replace(metadata={}).unit == "cost/slot"


@pytest.mark.parametrize("label", _contract_params())
def test_replace_is_written_once(label):
    """Issue 19: ``replace()`` is one implementation (``Problem.replace``), not one per kind."""
    problem = formulations.load(SHIPPED[label])
    assert type(problem).replace is Problem.replace
    copy = problem.replace()
    assert copy is not problem and copy.to_dict() == problem.to_dict()


def test_replace_of_placement_is_the_shared_one():
    problem = formulations.load(INSTANCES / "placement" / "llama8b_home.json")
    assert type(problem).replace is Problem.replace
    assert problem.replace(objective="throughput").unit == "tokens/s"
    with pytest.raises(TypeError, match="unknown field"):
        problem.replace(no_such_field=1)
