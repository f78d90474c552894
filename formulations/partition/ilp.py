"""The partition problem as a CP-SAT integer program.

Variables (booleans): ``x[v] = 1`` iff layer ``v`` runs on the device;
``y[u] = 1`` iff ``u`` sends its output up; ``z = 1`` iff any layer runs on
the server (RTT). Constraints::

    x[v] = 1                       inputs and device pins;  x[v] = 0 server pins
    x[w] <= x[u]                   every edge u -> w (closure)
    y[u] >= x[u] - x[w]            every edge u -> w (output sent once)
    z    >= 1 - x[v]               every output v (a server layer reaches one)
    sum_v r[v] x[v] <= budget_r    every resource r in device_budget

Objective (minimize)::

    sum_v device_ms[v] x[v] + (server_ms[v] + download_ms[v]) (1 - x[v])
        + sum_u upload_ms[u] y[u] + rtt_ms z

Costs and budgets are scaled to integers by :mod:`formulations.scaling`:
costs floored to ns (exact decimals scaled exactly), so the integer optimum
is a proven lower bound in ms; resource usage floored and budgets rounded
up (a relaxation: no partition the float evaluator accepts is cut off), or
scaled exactly when usage and budget are whole numbers of a unit
(:attr:`PartitionModel.exact_budget`). Callers re-check a plan of an
inexact model in floats (:func:`add_no_good` excludes a rejected plan).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..deadline import BuildClock
from ..scaling import scale_constraint, scale_costs
from .evaluation import BUDGET_RTOL  # the evaluator's budget test: ``used <= limit * (1 + BUDGET_RTOL)``

__all__ = ["PartitionModel", "build_cpsat", "add_no_good", "add_budget_rows", "BUDGET_RTOL"]


@dataclass
class PartitionModel:
    """A CP-SAT model and its variables.

    Attributes
    ----------
    model : ortools.sat.python.cp_model.CpModel
    x : list
        Device indicator per layer index.
    units_per_ms : int
        Divide the objective (and bound) by this for ms.
    slack_ms : float
        Most a plan's float latency exceeds its integer cost (ms): one unit
        per rounded cost term, 0 when the costs are exact.
    exact_budget : bool
        Every budget constraint is the float one exactly (else a relaxation).
    coarse : bool
        The cost unit had to be coarsened (no slack claim is made then).
    objective_offset : int
        Add to the model's objective (in units) for the cost: kept out of
        the model because CP-SAT stores offsets as doubles.
    """

    model: Any
    x: list
    units_per_ms: float
    slack_ms: float = 0.0
    exact_budget: bool = True
    coarse: bool = False
    objective_offset: int = 0


def add_budget_rows(model, problem, on_device) -> bool:
    """The device budget rows of both forms (relaxations when inexact); True if all exact.

    ``on_device(v)`` is the 0/1 expression "layer ``v`` runs on tier 0"
    (``x[v]`` in the two-tier model, ``1 - x[v][0]`` in the k-tier one).
    Usage is floored and the budget rounded up by
    :func:`formulations.scaling.scale_constraint`. O(n) per resource.
    """
    exact = True
    n = problem.n_layers
    for res, limit in problem.device_budget.items():
        usage = problem.resources.get(res, np.zeros(n))
        scaled, cap = scale_constraint(usage, float(limit), rtol=BUDGET_RTOL)
        exact &= scaled.exact
        model.add(sum(int(c) * on_device(v) for v, c in enumerate(scaled.ints.tolist()) if c) <= cap)
    return exact


def build_cpsat(problem, *, deadline: float | None = None) -> PartitionModel:
    """Build the CP-SAT model of ``problem`` (see module docstring).

    Parameters
    ----------
    problem : PartitionProblem
    deadline : float, optional
        Absolute :func:`time.perf_counter` time; building stops with
        :class:`formulations.deadline.BuildTimeout` after it.

    Notes
    -----
    O(n + m) rows.
    """
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    n = problem.n_layers
    topo = problem.topology
    n_edges = len(topo.src)
    clock = BuildClock(deadline, 3 * n + 3 * n_edges, "partition CP-SAT model")
    x = []
    for v in range(n):
        clock.tick(v)
        x.append(model.new_bool_var(f"x{v}"))
    serve = problem.server_ms + problem.download_ms
    costs = np.concatenate([problem.device_ms, serve, problem.upload_ms, [problem.network.rtt_ms]])
    scaled = scale_costs(costs)
    ints = scaled.ints
    dev_i, srv_i, up_i, rtt_i = ints[:n], ints[n : 2 * n], ints[2 * n : 3 * n], int(ints[-1])

    for v in topo.inputs.tolist():
        model.add(x[v] == 1)
    for nm in problem.pinned["device"]:
        model.add(x[problem.index[nm]] == 1)
    for nm in problem.pinned["server"]:
        model.add(x[problem.index[nm]] == 0)
    senders = np.unique(topo.src).tolist()
    y = {}
    for row, u in enumerate(senders):
        clock.tick(n + row)
        y[u] = model.new_bool_var(f"y{u}")
    for row, (u, w) in enumerate(zip(topo.src.tolist(), topo.dst.tolist())):
        clock.tick(2 * n + 2 * row)
        model.add(x[w] <= x[u])
        model.add(y[u] >= x[u] - x[w])
    z = model.new_bool_var("z")
    for v in topo.sinks.tolist():
        model.add(z >= 1 - x[v])
    exact_budget = add_budget_rows(model, problem, x.__getitem__)
    clock.tick(2 * n + 2 * n_edges)
    # device_ms x + serve (1 - x) = (device - serve) x + serve
    variables = x + [y[u] for u in senders if up_i[u]] + [z]
    coeffs = (dev_i - srv_i).tolist() + [int(up_i[u]) for u in senders if up_i[u]] + [rtt_i]
    # CP-SAT keeps an objective offset as a double: add the constant here, in ints
    model.minimize(cp_model.LinearExpr.weighted_sum(variables, coeffs))
    clock.tick(clock.total)
    # a plan pays one of device/server per layer, at most one upload per sender, and the RTT
    slack = scaled.slack(n + len(senders) + 1)
    return PartitionModel(model=model, x=x, units_per_ms=scaled.units, slack_ms=slack,
                          exact_budget=exact_budget, coarse=scaled.coarse, objective_offset=int(srv_i.sum()))


def add_no_good(built: PartitionModel, mask) -> None:
    """Exclude the device set ``mask`` from ``built`` (it failed the float
    re-check). Keeps the model a relaxation of the float problem. O(n)."""
    lits = [var.Not() if bool(on) else var for var, on in zip(built.x, mask)]
    built.model.add_bool_or(lits)
