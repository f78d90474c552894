"""The k-tier partition problem as a CP-SAT integer program.

Variables (booleans): ``x[v][B] = 1`` iff ``t(v) >= B`` (``B = 1..k-1``);
``y[u][B] = 1`` iff ``u`` sends its output over link ``B-1``; ``z[B] = 1``
iff link ``B-1`` is used (its RTT is paid). Constraints::

    x[v][B+1] <= x[v][B]                 nested tiers
    x[u][B] <= x[w][B]                    every edge u -> w (outward only)
    y[u][B] >= x[w][B] - x[u][B]          every edge u -> w
    z[B] >= x[v][B]                       every output v
    x[v][1] = 0 for inputs; pins fix x[v][.]
    sum_v r[v] (1 - x[v][1]) <= budget_r  device_budget
    LAT <= latency_max_ms,  EN <= energy_max_mj   (constraints)

where a linear objective with coefficients :class:`TermCosts` is
``sum_v c[v][0] + sum_B (c[v][B] - c[v][B-1]) x[v][B] + sum up*y + sum down*x
+ sum rtt*z``. The latency ``LAT``, energy ``EN`` and the objective each get
their own floor-scaled integer coefficients (:mod:`formulations.scaling`):
every integer value is at most the float value times its unit, so the
integer optimum is a proven lower bound, and a constraint on the floored
value is a relaxation (it keeps every truly feasible assignment; a solver
re-checks the result in floats).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..scaling import scale_costs
from .ilp import add_budget_rows
from .tier_cutgraph import TermCosts, objective_terms
from .layers import TOLERANCE

__all__ = ["TierModel", "IntTerms", "build_tier_cpsat", "int_terms"]


@dataclass(frozen=True)
class IntTerms:
    """A :class:`TermCosts` floor-scaled to integers (``units`` per unit of the objective)."""

    costs: TermCosts
    units: float
    #: Most the float value of a plan exceeds its integer value / ``units`` (one unit per floored
    #: term; 0 when the floats were exact decimals, and 0 when the unit was coarsened: no claim then).
    slack: float = 0.0
    #: The unit was coarsened to fit the solver: integer comparisons may not resolve every term.
    coarse: bool = False

    def value(self, problem, tiers: np.ndarray) -> int:
        """Integer value of a tier vector (exact integer arithmetic)."""
        return int(round(self.costs.value(problem, tiers)))

    def period(self, problem, tiers: np.ndarray) -> int:
        """Integer period of a tier vector: the largest integer stage load, as the CP-SAT model's
        ``period`` variable sees it (each tier's compute, each link's uplink and downlink). O(n + k m)."""
        c = self.costs
        topo = problem.topology
        n, k = problem.n_layers, problem.n_tiers
        far = np.full(n, -1, dtype=np.int64)
        np.maximum.at(far, topo.src, tiers[topo.dst])
        sinks = np.zeros(n, dtype=bool)
        sinks[topo.sinks] = True
        loads = [int(c.tier_cost[tiers == j, j].sum()) for j in range(k)]
        for b in range(k - 1):
            loads.append(int(c.up[b][(tiers <= b) & (far > b)].sum()))
            loads.append(int(c.down[b][(tiers > b) & sinks].sum()))
        return max(loads)


def int_terms(costs: TermCosts) -> IntTerms:
    """Floor-scale every coefficient of ``costs`` with one common unit."""
    parts = [costs.tier_cost.ravel(), costs.up.ravel(), costs.down.ravel(), costs.rtt.ravel()]
    flat = np.concatenate(parts)
    scaled = scale_costs(flat, reserve=4)
    ints, units = scaled.ints, scaled.units
    out, start = [], 0
    for arr in (costs.tier_cost, costs.up, costs.down, costs.rtt):
        out.append(ints[start : start + arr.size].reshape(arr.shape))
        start += arr.size
    slack = 0.0 if scaled.exact or scaled.coarse else int(np.count_nonzero(flat)) / units
    return IntTerms(TermCosts(*out), units, slack, scaled.coarse)


@dataclass
class TierModel:
    """A CP-SAT model of a k-tier instance and its variables and integer expressions.

    Attributes
    ----------
    model : CpModel
    x : list of list
        ``x[v][B - 1]`` is the variable of ``t(v) >= B``.
    latency, energy, objective : IntTerms or None
        The integer coefficients (``energy`` None without an energy model).
    latency_expr, energy_expr, objective_expr : linear expressions or None
    """

    model: Any
    x: list
    latency: IntTerms
    energy: IntTerms | None
    objective: IntTerms
    latency_expr: Any
    energy_expr: Any
    objective_expr: Any
    #: The integer period of a pipelined stream (``latency.units``), when the model has one.
    period_expr: Any = None

    def tiers(self, solver) -> np.ndarray:
        """Tier vector of the solver's current solution."""
        return np.array([sum(int(solver.value(var)) for var in row) for row in self.x], dtype=np.int64)

    def hint(self, tiers: np.ndarray) -> None:
        """Add a solution hint (warm start)."""
        for v, row in enumerate(self.x):
            for b, var in enumerate(row):
                self.model.add_hint(var, int(tiers[v]) > b)

    def forbid(self, tiers: np.ndarray) -> None:
        """Exclude exactly this tier vector (a no-good cut)."""
        lits = []
        for v, row in enumerate(self.x):
            for b, var in enumerate(row):
                lits.append(var.Not() if int(tiers[v]) > b else var)
        self.model.add_bool_or(lits)


def _limit_int(limit: float, units: float) -> int:
    """The integer cap of a float limit (with the evaluator's tolerance): a relaxation."""
    return int(math.floor((limit + TOLERANCE * max(1.0, limit)) * units))


def _expression(problem, x, y, z, terms: IntTerms, clock=None):
    c = terms.costs
    n_bounds = problem.n_tiers - 1
    expr = 0 * x[0][0] + int(c.tier_cost[:, 0].sum())  # a linear expression even when constant
    sinks = problem.topology.sinks.tolist()
    for v in range(problem.n_layers):
        if clock is not None:
            clock.tick(v)
        for bound in range(1, n_bounds + 1):
            coef = int(c.tier_cost[v, bound] - c.tier_cost[v, bound - 1])
            if coef:
                expr += coef * x[v][bound - 1]
    for bound in range(1, n_bounds + 1):
        for (u, b), var in y.items():
            if b == bound and c.up[bound - 1][u]:
                expr += int(c.up[bound - 1][u]) * var
        for v in sinks:
            if c.down[bound - 1][v]:
                expr += int(c.down[bound - 1][v]) * x[v][bound - 1]
        if c.rtt[bound - 1]:
            expr += int(c.rtt[bound - 1]) * z[bound - 1]
    return expr


def _structure(model, problem, clock=None):
    """Variables and the structural constraints (nesting, outward edges, inputs, pins)."""
    n, n_bounds = problem.n_layers, problem.n_tiers - 1
    topo = problem.topology
    x = [[model.new_bool_var(f"x{v}_{b + 1}") for b in range(n_bounds)] for v in range(n)]
    if clock is not None:
        clock.tick(n)
    for v in range(n):
        for b in range(n_bounds - 1):
            model.add(x[v][b + 1] <= x[v][b])
    for v in topo.inputs.tolist():
        model.add(x[v][0] == 0)
    for j, tier in enumerate(problem.tiers):
        for nm in problem.pinned[tier]:
            v = problem.index[nm]
            for b in range(n_bounds):
                model.add(x[v][b] == (1 if j > b else 0))
    y = {}
    for e, (u, w) in enumerate(zip(topo.src.tolist(), topo.dst.tolist())):
        if clock is not None:
            clock.tick(n + e)
        for b in range(n_bounds):
            model.add(x[u][b] <= x[w][b])
            if (u, b + 1) not in y:
                y[(u, b + 1)] = model.new_bool_var(f"y{u}_{b + 1}")
            model.add(y[(u, b + 1)] >= x[w][b] - x[u][b])
    z = [model.new_bool_var(f"z{b + 1}") for b in range(n_bounds)]
    for v in topo.sinks.tolist():
        for b in range(n_bounds):
            model.add(z[b] >= x[v][b])
    add_budget_rows(model, problem, lambda v: 1 - x[v][0])  # a relaxation; plans re-checked in floats
    return x, y, z


class _Offset:
    """A :class:`~formulations.deadline.BuildClock` seen from a later phase of the build (rows counted on)."""

    def __init__(self, clock, offset: int):
        self.clock, self.offset = clock, offset

    def tick(self, done: int) -> None:
        self.clock.tick(self.offset + done)


def build_tier_cpsat(problem, weights=None, *, latency_cap: int | None = None,
                     energy_cap: int | None = None, period_cap: int | None = None, period: bool | None = None,
                     deadline: float | None = None) -> TierModel:
    """Build the CP-SAT model of ``problem`` (see module docstring). O(k (n + m)) variables.

    Parameters
    ----------
    problem : TieredPartitionProblem
    weights : (float, float), optional
        ``(latency, energy)`` weights of the objective; default the instance's.
    latency_cap, energy_cap : int, optional
        Extra caps on the *integer* latency / energy (in their units), for
        the Pareto enumeration.
    period_cap : int, optional
        A cap on the *integer* period of a pipelined stream (in the latency's
        units), for the latency-throughput front.
    period : bool, optional
        Minimize the period (True: the throughput objective) or the
        weighted sum (False); either way the model then has the period
        (``period_expr``). Default None: the period when ``weights`` is None
        and the instance's objective is throughput.
    deadline : float, optional
        Absolute :func:`time.perf_counter` time; building stops with
        :class:`formulations.deadline.BuildTimeout` when it passes (or is
        projected to pass).
    """
    from ortools.sat.python import cp_model

    from ..deadline import BuildClock

    n_rows = problem.n_layers + len(problem.topology.src)
    clock = BuildClock(deadline, 4 * n_rows, "k-tier CP-SAT model", every=512)
    model = cp_model.CpModel()
    x, y, z = _structure(model, problem, clock)
    latency = int_terms(objective_terms(problem, 1.0, 0.0))
    energy = int_terms(objective_terms(problem, 0.0, 1.0)) if problem.energy is not None else None
    given, weights = weights, problem.objective_weights if weights is None else weights
    objective = int_terms(objective_terms(problem, *weights))
    latency_expr = _expression(problem, x, y, z, latency, _Offset(clock, n_rows))
    energy_expr = _expression(problem, x, y, z, energy, _Offset(clock, 2 * n_rows)) if energy is not None else None
    objective_expr = _expression(problem, x, y, z, objective, _Offset(clock, 3 * n_rows))
    limit = problem.constraints.get("latency_max_ms")
    if limit is not None:
        model.add(latency_expr <= _limit_int(limit, latency.units))
    limit = problem.constraints.get("energy_max_mj")
    if limit is not None:
        model.add(energy_expr <= _limit_int(limit, energy.units))  # type: ignore[operator, union-attr]
    if latency_cap is not None:
        model.add(latency_expr <= int(latency_cap))
    if energy_cap is not None:
        model.add(energy_expr <= int(energy_cap))  # type: ignore[operator]
    stream = period is not None or period_cap is not None
    if period is None:
        period = given is None and getattr(problem, "throughput", False)
    period_expr = _period(model, problem, x, y, latency) if period or stream else None
    if period_cap is not None:
        model.add(period_expr <= int(period_cap))  # type: ignore[operator]
    if period:
        objective, objective_expr = latency, period_expr
    model.minimize(objective_expr)
    return TierModel(model, x, latency, energy, objective, latency_expr, energy_expr, objective_expr, period_expr)


def _period(model, problem, x, y, latency: IntTerms):
    """The period of a pipelined stream (integer, in ``latency.units``): at least every stage's load,
    each tier's compute and each link's uplink and downlink, from the floored latency coefficients
    (so the integer optimum bounds the float period from below). O(k (n + m)) terms."""
    c = latency.costs
    n, k = problem.n_layers, problem.n_tiers
    total = int(c.tier_cost.max(axis=1).sum() + c.up.sum() + c.down.sum()) + 1
    period = model.new_int_var(0, total, "period")
    for j in range(k):
        terms = []
        for v in range(n):
            coef = int(c.tier_cost[v, j])
            if not coef:
                continue
            if j == 0:  # on tier 0: 1 - x[v][0]
                terms.append(coef * (1 - x[v][0]))
            elif j == k - 1:
                terms.append(coef * x[v][k - 2])
            else:
                terms.append(coef * (x[v][j - 1] - x[v][j]))
        if terms:
            model.add(period >= sum(terms))
    sinks = problem.topology.sinks.tolist()
    for b in range(k - 1):
        up = [int(c.up[b][u]) * var for (u, bound), var in y.items() if bound == b + 1 and c.up[b][u]]
        if up:
            model.add(period >= sum(up))
        down = [int(c.down[b][v]) * x[v][b] for v in sinks if c.down[b][v]]
        if down:
            model.add(period >= sum(down))
    return period
