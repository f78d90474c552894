"""One stopping rule: every registered method of every kind stops at its ``time_limit`` (issue 19).

:func:`solvers.solve` builds one :class:`~formulations.deadline.Deadline`
from ``time_limit`` and every method checks it in its loops. Each method
runs here with ``time_limit=LIMIT`` on an instance of its kind on which the
slow methods (the oracles, the searches) take far longer than the limit; the
call must come back within ``LIMIT * 1.1 + 0.1 s`` plus :data:`STARTUP_S`,
with a status, never an exception. The oracles must actually have been cut
(status ``time_limit``), which shows the instance is large enough.

:data:`STARTUP_S` covers what is not the method's loop and does not scale
with the limit: the registry's independent evaluation of the returned plan,
the first call of a lazily imported backend (warmed up by the fixture, but a
first CP-SAT model still costs some ms), and scheduling noise of a shared
2-core machine. The methods are listed from the registry, so a new method is
covered without editing this file.
"""

from __future__ import annotations

import functools
import time

import numpy as np
import pytest

import formulations
import solvers
from formulations.deadline import Deadline
from solvers.registry import SOLVER_PACKAGES, methods
from solvers.solution import Status
from tests.helpers import INSTANCES

LIMIT = 0.2
#: Seconds allowed beyond ``LIMIT * 1.1 + 0.1``, for what does not scale with the limit (module docstring).
STARTUP_S = 0.25



def _star(n_layers: int, tiers: bool) -> dict:
    """A star: one input feeding ``n_layers - 1`` leaves (2**(n-1) closed sets; 3**(n-1) on three tiers)."""
    rng = np.random.default_rng(0)
    layers = [{"name": "input", "output_bytes": 1000, **({"ms": [0.0] * 3} if tiers else
                                                         {"device_ms": 0.0, "server_ms": 0.0})}]
    for k in range(1, n_layers):
        dev, srv = float(rng.uniform(1, 10)), float(rng.uniform(0.1, 1))
        times = {"ms": [dev, srv, srv / 10]} if tiers else {"device_ms": dev, "server_ms": srv}
        layers.append({"name": f"l{k}", "output_bytes": int(rng.integers(100, 5000)), **times})
    data = {"kind": "partition", "version": 1, "name": "star", "layers": layers,
            "edges": [["input", f"l{k}"] for k in range(1, n_layers)], "network": {"uplink_mbps": 10.0}}
    if tiers:
        data.update(tiers=["phone", "edge", "cloud"],
                    network={"links": [{"uplink_mbps": 10.0}, {"uplink_mbps": 100.0}]})
    return data


@functools.lru_cache(maxsize=None)
def instance(kind: str):
    """One instance per registry kind on which the oracles and searches run far past ``LIMIT``."""
    from formulations.offloading.strategies import synthetic
    from formulations.partition import PartitionProblem
    from formulations.pipeline import PipelineProblem

    if kind in ("partition", "partition-k", "partition-stream"):  # two tiers; three tiers; a stream's throughput
        data = _star(18 if kind == "partition" else 15, tiers=kind != "partition")
        if kind == "partition-stream":
            data["objective"] = "throughput"
        return PartitionProblem.from_dict(data)
    if kind == "exits":
        return formulations.load(INSTANCES / "exits" / "resnet18_3node.json")
    if kind == "pipeline":
        times = np.random.default_rng(0).uniform(1, 99, (300, 5)).round(2).tolist()
        return PipelineProblem.from_matrix(times)
    if kind == "offloading":
        return synthetic(8, 3, seed=1)
    if kind == "placement":
        return formulations.load(INSTANCES / "placement" / "llama70b_8dev.json")
    raise AssertionError(f"no stopping-rule instance for kind {kind!r}: add one here")


#: Partition methods that also take k-tier instances, run on a three-tier star too; ``dads_heavy``
#: takes only a stream's throughput objective.
K_TIER_METHODS = ("mincut", "ilp", "brute_force")
STREAM_METHODS = ("dads_heavy",)


def stopping_cases() -> list[tuple[str, str]]:
    """``(instance label, method)`` pairs: every registered method, partition ones on each form they take."""
    out = []
    for kind in SOLVER_PACKAGES:
        for meth in methods(kind):
            out.append(("partition-stream" if kind == "partition" and meth.name in STREAM_METHODS else kind, meth.name))
            if kind == "partition" and meth.name in K_TIER_METHODS:
                out.append(("partition-k", meth.name))
    return out


def _cases():
    return [pytest.param(label, name, id=f"{label}-{name}") for label, name in stopping_cases()]


@pytest.fixture(scope="module", autouse=True)
def warm_backends():
    """Import the lazily loaded backends once (CP-SAT, HiGHS), so no case pays for an import."""
    warm_up()


def warm_up() -> None:
    """Run a trivial CP-SAT model and LP (what :func:`warm_backends` does; also for the benchmark)."""
    from ortools.sat.python import cp_model
    from scipy.optimize import linprog

    model = cp_model.CpModel()
    model.new_bool_var("x")
    cp_model.CpSolver().solve(model)
    linprog([1.0], bounds=[(0, 1)], method="highs")


@pytest.mark.parametrize("kind, name", _cases())
def test_every_method_stops_at_the_limit_with_a_status(kind, name):
    problem = instance(kind)
    meth = solvers.get_method(problem.kind, name)
    started = time.perf_counter()
    sol = solvers.solve(problem, method=name, time_limit=LIMIT)  # an exception fails the test
    wall = time.perf_counter() - started
    assert isinstance(sol.status, Status)
    assert wall <= LIMIT * 1.1 + 0.1 + STARTUP_S, f"{kind}/{name}: {wall:.2f} s for time_limit={LIMIT}"
    if meth.oracle:  # the instance is large enough: the enumeration was cut, not finished
        assert sol.status == Status.TIME_LIMIT, (kind, name, sol.status, sol.message)
    if sol.assignment is not None and sol.objective is not None:
        assert problem.is_feasible(sol.assignment) or sol.kind == "offloading" and sol.evaluation is not None


@pytest.mark.parametrize("kind, name", _cases())
def test_every_method_takes_the_deadline(kind, name):
    """The one convention: ``func(problem, *, deadline=None, **options)`` (none left on ``time_limit=``)."""
    assert solvers.get_method(kind.split("-")[0], name).takes_deadline


def test_the_deadline_object():
    never = Deadline(None)
    assert not never.limited and not never.expired() and never.remaining() is None
    assert Deadline.of(None).remaining() is None and Deadline.of(never) is never
    with pytest.raises(TypeError, match="Deadline"):
        Deadline.of(1.0)
    past = Deadline(0.01, start=time.perf_counter() - 1)
    assert past.limited and past.expired() and past.remaining() < 0
    assert past.share(0.5).expired() is False or past.share(0.5).remaining() <= 0
    soon = Deadline(100.0)
    assert 49 < soon.share(0.5).remaining() <= 50 and not soon.expired()
    from formulations.deadline import BuildTimeout, remaining

    with pytest.raises(BuildTimeout, match="time limit"):
        past.check("enumeration")
    assert remaining(soon) == pytest.approx(soon.remaining(), abs=0.01) and remaining(None) is None


def test_oracles_still_refuse_huge_instances_without_a_limit():
    """Without a limit an oracle refuses an instance it cannot finish (a clear OptionError, exit 2)."""
    from formulations.errors import OptionError

    from formulations.partition import PartitionProblem

    for problem in (PartitionProblem.from_dict(_star(25, tiers=False)), instance("placement")):
        with pytest.raises(OptionError, match="without a time limit"):
            solvers.solve(problem, method="brute_force")
