"""The pipeline problem as a CP-SAT model (interval variables).

For every task ``j`` and stage ``k`` an operation with integer ``start`` and
``end``; for every configuration ``c`` a boolean ``y[j][c]`` (exactly one per
task) and an optional fixed-size interval of length ``ms[j][c][k]`` present
iff ``y[j][c]``, sharing the operation's start and end. Constraints::

    start[j][0] >= release[j];   start[j][k] >= end[j][k-1]
    NoOverlap(optional intervals of stage k)                 every stage k
    b[i][j] (i < j) means i precedes j:  b => start[j][k] >= end[i][k],
        not b => start[i][k] >= end[j][k], on every stage (one order shared by
        all stages); b[i][l] >= b[i][j] + b[j][l] - 1 (transitivity) among
        tasks that have an all-zero configuration, the only ones that could
        otherwise form a cycle (every task on a cycle would take 0 on every stage)
    sum_{j,c} acc[j][c] y[j][c] >= n * accuracy_min          (accuracy floor)
    end[j][m-1] - release[j] <= deadline                      ("makespan")
    y[j][c] = 0 if sum_k ms[j][c][k] > deadline               (both objectives)

Objective: ``"makespan"`` minimizes ``Cmax >= end[j][m-1]``. ``"rate"``
minimizes the bottleneck load ``L >= sum_j ms[j][c_j][k]`` (no intervals are
needed; rate = ``n * 1000 / L``).

Scaling (:mod:`formulations.scaling`, the one policy): times and releases
are scaled exactly when they are exact decimals (``u = 10**d <= 10**6``
units per ms), else floored to ns; either way every schedule's integer
makespan (or load) is at most its float one, so the integer optimum is a
proven lower bound. The deadline is rounded **up** with the evaluator's
tolerance (plus one unit for the floored release and one for float
summation when inexact), so no float-feasible schedule is cut off: an
integer ``infeasible`` is a proof. Accuracies are used exactly when they
are decimals with at most six places, else rounded up (and the floor
down): a relaxation again. Callers re-check plans in floats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..deadline import BuildClock
from ..scaling import Scaled, limit_units, scale_at_least, scale_costs
from .problem import ACCURACY_TOL, DEADLINE_TOL

__all__ = ["PipelineModel", "build_cpsat", "identical_groups", "time_units", "ACC_UNITS"]

#: Finest integer units per accuracy point (millionths).
ACC_UNITS = 10**6


def time_units(values_ms) -> tuple[np.ndarray, float]:
    """Integer times and units per ms by :func:`formulations.scaling.scale_costs`
    (exact decimals exactly, else floored to ns); ``ints <= values * units``."""
    scaled = scale_costs(values_ms, reserve=3)
    return scaled.ints, scaled.units


def deadline_units(deadline_ms: float, scaled: Scaled, n_terms: int, top_ms: float) -> int:
    """The deadline in integer units, rounded so the model is a relaxation
    (:func:`formulations.scaling.limit_units`): exact data with a deadline on
    the unit grid use the float test itself; otherwise one extra unit covers
    the floored release subtracted from a task's end."""
    u = scaled.units
    on_grid = scaled.exact and float(deadline_ms * u) == round(deadline_ms * u) and DEADLINE_TOL * u < 1
    return limit_units(deadline_ms, u, exact=on_grid, atol=DEADLINE_TOL, n_terms=n_terms, top=top_ms, extra=1)


def accuracy_rows(problem) -> tuple[list[np.ndarray], int]:
    """Integer accuracies per task and the integer floor of their sum
    (:func:`formulations.scaling.scale_at_least`: exact for decimals with at
    most six places, else a relaxation)."""
    n = problem.n
    sizes = [len(problem.accuracy[j]) for j in range(n)]
    flat = np.concatenate([np.asarray(problem.accuracy[j], dtype=float) for j in range(n)]) if n else np.zeros(0)
    ints, need = scale_at_least(flat, n * (problem.accuracy_min - ACCURACY_TOL), max_units=ACC_UNITS)
    rows = np.split(ints, np.cumsum(sizes)[:-1]) if n else []
    return list(rows), need


@dataclass
class PipelineModel:
    """A CP-SAT model of a :class:`~formulations.pipeline.PipelineProblem`.

    Attributes
    ----------
    model : cp_model.CpModel
    y : list of list
        ``y[j][c]``: configuration ``c`` chosen for task ``j``.
    start : list of list or None
        ``start[j][k]`` (``"makespan"`` only).
    before : dict
        ``(i, j) -> literal`` for ``i < j``: task ``i`` precedes task ``j``.
    units_per_ms : int
        Divide the objective and bound by this for ms.
    slack_ms : float
        Most a plan's float objective (ms) exceeds its integer one: one unit
        per rounded term on a path; 0 when the times are exact (and when the
        unit was coarsened: no claim is made then).
    """

    model: object
    y: list
    start: list | None
    units_per_ms: float
    before: dict | None = None
    slack_ms: float = 0.0

    def order(self, solver) -> list[int]:
        """Task order of a solution: by the number of tasks placed before each."""
        n = len(self.y)
        count = [0] * n
        for (i, j), lit in self.before.items():  # type: ignore[union-attr]
            if solver.boolean_value(lit):
                count[j] += 1
            else:
                count[i] += 1
        return sorted(range(n), key=lambda j: (count[j], j))


def identical_groups(problem) -> list[list[int]]:
    """Groups (size >= 2) of tasks with identical release and configurations
    (same times and accuracies); their relative order can be fixed."""
    groups: dict[tuple, list[int]] = {}
    for j in range(problem.n):
        key = (float(problem.release_ms[j]), problem.times[j].tobytes(), np.nan_to_num(problem.accuracy[j], nan=-1).tobytes())
        groups.setdefault(key, []).append(j)
    return [g for g in groups.values() if len(g) > 1]


@dataclass
class _Data:
    """Scaled data shared by the build steps."""

    p_int: list
    rel: np.ndarray
    units: float
    slack_ms: float
    deadline: int | None


def _scale(problem) -> _Data:
    n, m = problem.n, problem.m
    counts = problem.n_configs
    flat = np.concatenate([problem.times[j].ravel() for j in range(n)] + [problem.release_ms])
    scaled = scale_costs(flat, reserve=3)
    ints, pos, p_int = scaled.ints, 0, []
    for j in range(n):
        size = counts[j] * m
        p_int.append(ints[pos : pos + size].reshape(counts[j], m))
        pos += size
    rel = ints[pos : pos + n]
    longest = float(problem.release_ms.max(initial=0.0)) + float(sum(t.max(axis=0).sum() for t in problem.times))
    dl = None
    if problem.deadline_ms is not None:
        dl = deadline_units(problem.deadline_ms, scaled, n + m + 1, longest)
    # the float makespan (or load) of a plan exceeds its integer one by < 1 unit per term on a path
    terms = n + m + 1 if problem.objective == "makespan" else n
    slack = 0.0 if scaled.coarse else scaled.slack(terms)
    return _Data(p_int, rel, scaled.units, slack, dl)


def _choices(model, problem, data: _Data, clock: BuildClock) -> list:
    """Configuration booleans (exactly one per task, inadmissible ones fixed to 0)
    and the accuracy floor."""
    n, counts = problem.n, problem.n_configs
    y = []
    for j in range(n):
        clock.tick(j)
        adm = problem.admissible(j)
        row = [model.new_bool_var(f"y{j}_{c}") for c in range(counts[j])]
        for c in range(counts[j]):
            if not adm[c]:
                model.add(row[c] == 0)
        model.add_exactly_one(row)
        y.append(row)
    if problem.accuracy_min is not None:
        acc, need = accuracy_rows(problem)
        model.add(sum(int(acc[j][c]) * y[j][c] for j in range(n) for c in range(counts[j])) >= need)
    return y


def _size(data: _Data, y, j: int, k: int):
    return sum(int(data.p_int[j][c][k]) * y[j][c] for c in range(len(y[j])))


def _rate_objective(model, problem, data: _Data, y, lower_bound_ms) -> None:
    n, m = problem.n, problem.m
    total = int(sum(int(p.max(axis=0).sum()) for p in data.p_int)) + 1
    load = model.new_int_var(0, total, "load")
    for k in range(m):
        model.add(load >= sum(_size(data, y, j, k) for j in range(n)))
    if lower_bound_ms is not None and math.isfinite(lower_bound_ms):
        model.add(load >= int(math.floor(lower_bound_ms * data.units)) - (n + 1))
    model.minimize(load)


def _operations(model, problem, data: _Data, y, clock: BuildClock):
    """Start/end variables, optional intervals, releases, deadlines and no-overlap."""
    n, m, counts = problem.n, problem.m, problem.n_configs
    horizon = int(data.rel.max(initial=0)) + int(sum(int(p.max(axis=0).sum()) for p in data.p_int)) + 1
    start = [[model.new_int_var(0, horizon, f"s{j}_{k}") for k in range(m)] for j in range(n)]
    end = [[model.new_int_var(0, horizon, f"e{j}_{k}") for k in range(m)] for j in range(n)]
    per_stage: list[list] = [[] for _ in range(m)]
    for j in range(n):
        clock.tick(n + j * m * max(counts[j], 1))
        model.add(start[j][0] >= int(data.rel[j]))
        for k in range(m):
            model.add(end[j][k] == start[j][k] + _size(data, y, j, k))
            if k:
                model.add(start[j][k] >= end[j][k - 1])
            for c in range(counts[j]):
                if counts[j] == 1:
                    iv = model.new_interval_var(start[j][k], int(data.p_int[j][c][k]), end[j][k], f"i{j}_{k}")
                else:
                    iv = model.new_optional_fixed_size_interval_var(
                        start[j][k], int(data.p_int[j][c][k]), y[j][c], f"i{j}_{c}_{k}"
                    )
                per_stage[k].append(iv)
        if data.deadline is not None:
            model.add(end[j][m - 1] - int(data.rel[j]) <= data.deadline)
    for k in range(m):
        model.add_no_overlap(per_stage[k])
    return start, end, horizon


def _precedences(model, problem, data: _Data, start, end, clock: BuildClock, offset: int) -> dict:
    """One task order shared by all stages; transitivity among zero-time tasks;
    identical tasks keep their index order."""
    n, m = problem.n, problem.m
    before = {}
    row = offset
    for i in range(n):
        for j in range(i + 1, n):
            clock.tick(row)
            row += m
            lit = model.new_bool_var(f"b{i}_{j}")
            before[i, j] = lit
            for k in range(m):
                model.add(start[j][k] >= end[i][k]).only_enforce_if(lit)
                model.add(start[i][k] >= end[j][k]).only_enforce_if(~lit)
    zero = [j for j in range(n) if (data.p_int[j].sum(axis=1) == 0).any()]

    def prec(a, b):
        return before[a, b] if a < b else ~before[b, a]

    for a in zero:
        for b in zero:
            for c in zero:
                if len({a, b, c}) == 3:
                    model.add_bool_or([~prec(a, b), ~prec(b, c), prec(a, c)])
    for group in identical_groups(problem):
        for i, j in zip(group, group[1:]):
            model.add(before[i, j] == 1)
    return before


def build_cpsat(problem, *, lower_bound_ms: float | None = None, deadline: float | None = None) -> PipelineModel:
    """Build the CP-SAT model of ``problem`` (see module docstring).

    Redundant constraints that keep every optimum: tasks with identical
    data keep their index order (swapping two of them, with their
    configurations, changes nothing); with ``lower_bound_ms`` (a proven
    bound on the float objective), the integer objective is at least that
    bound in units minus ``n + m + 1`` (the most the floor rounding can lose
    along one path). ``deadline`` (absolute :func:`time.perf_counter` time)
    stops building with :class:`formulations.deadline.BuildTimeout`.

    O(n^2 m + n C m) variables and constraints for ``n`` tasks, ``m`` stages,
    ``C`` configurations per task (plus O(z^3) transitivity clauses for the
    ``z`` tasks with an all-zero configuration).
    """
    from ortools.sat.python import cp_model

    n, m = problem.n, problem.m
    data = _scale(problem)
    model = cp_model.CpModel()
    rows_ops = n + sum(m * max(c, 1) for c in problem.n_configs)
    total_rows = rows_ops + (n * (n - 1) // 2) * m if problem.objective == "makespan" else n
    clock = BuildClock(deadline, total_rows, "pipeline CP-SAT model")
    y = _choices(model, problem, data, clock)
    if problem.objective == "rate":
        _rate_objective(model, problem, data, y, lower_bound_ms)
        return PipelineModel(model=model, y=y, start=None, units_per_ms=data.units, slack_ms=data.slack_ms)
    start, end, horizon = _operations(model, problem, data, y, clock)
    before = _precedences(model, problem, data, start, end, clock, rows_ops)
    cmax = model.new_int_var(0, horizon, "cmax")
    model.add_max_equality(cmax, [end[j][m - 1] for j in range(n)])
    if lower_bound_ms is not None and math.isfinite(lower_bound_ms):
        model.add(cmax >= int(math.floor(lower_bound_ms * data.units)) - (n + m + 1))
    model.minimize(cmax)
    clock.tick(total_rows)
    return PipelineModel(model=model, y=y, start=start, units_per_ms=data.units, before=before,
                         slack_ms=data.slack_ms)
