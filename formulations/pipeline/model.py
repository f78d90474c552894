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

Scaling (see :func:`time_units`): when every time is a multiple of
``1/u`` ms for some ``u`` in 1, 10, ..., 10**6, times are used exactly in
units of ``1/u`` ms; otherwise :func:`formulations.scaling.scale_ms` floors
them to ns. Either way every schedule's integer makespan (or load) is at most
its float one, so the integer optimum is a proven lower bound. Accuracies
are compared in millionths (rounded to the nearest, floor rounded up):
exact for accuracies with at most six decimals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..scaling import UNITS_PER_MS, scale_ms

__all__ = ["PipelineModel", "build_cpsat", "identical_groups", "time_units", "ACC_UNITS"]

#: Integer units per accuracy point (millionths).
ACC_UNITS = 10**6


def time_units(values_ms) -> tuple[np.ndarray, int]:
    """Integer times and units per ms: exact if possible, else floor-scaled to ns.

    Returns ``(ints, units_per_ms)``; ``ints <= values * units_per_ms``.
    """
    values = np.asarray(values_ms, dtype=float)
    u = 1
    while u <= UNITS_PER_MS:
        scaled = values * u
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-9 * np.maximum(1.0, np.abs(scaled))):
            if float(np.round(scaled).sum()) * 4 < 2**60:
                return np.round(scaled).astype(np.int64), u
            break
        u *= 10
    return scale_ms(values, reserve=3)


def accuracy_ints(acc) -> np.ndarray:
    """Accuracies in millionths, rounded to the nearest."""
    return np.round(np.nan_to_num(np.asarray(acc, dtype=float)) * ACC_UNITS).astype(np.int64)


def accuracy_floor_int(n: int, accuracy_min: float) -> int:
    """``n * accuracy_min`` in millionths, rounded up (tolerant of float noise)."""
    return int(math.ceil(n * accuracy_min * ACC_UNITS - 1e-6))


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
    """

    model: object
    y: list
    start: list | None
    units_per_ms: int
    before: dict | None = None

    def order(self, solver) -> list[int]:
        """Task order of a solution: by the number of tasks placed before each."""
        n = len(self.y)
        count = [0] * n
        for (i, j), lit in self.before.items():
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


def build_cpsat(problem, *, lower_bound_ms: float | None = None) -> PipelineModel:
    """Build the CP-SAT model of ``problem`` (see module docstring).

    Redundant constraints that keep every optimum: tasks with identical
    data keep their index order (swapping two of them, with their
    configurations, changes nothing); with ``lower_bound_ms`` (a proven
    bound on the float objective), the integer objective is at least that
    bound in units minus ``n + m + 1`` (the most the floor rounding can lose
    along one path).

    O(n^2 m + n C m) variables and constraints for ``n`` tasks, ``m`` stages,
    ``C`` configurations per task (plus O(z^3) transitivity clauses for the
    ``z`` tasks with an all-zero configuration).
    """
    from ortools.sat.python import cp_model

    n, m = problem.n, problem.m
    counts = problem.n_configs
    flat = np.concatenate([problem.times[j].ravel() for j in range(n)] + [problem.release_ms])
    deadline = problem.deadline_ms
    ints, units = time_units(np.concatenate([flat, [deadline or 0.0]]))
    pos = 0
    p_int = []
    for j in range(n):
        size = counts[j] * m
        p_int.append(ints[pos : pos + size].reshape(counts[j], m))
        pos += size
    rel = ints[pos : pos + n]
    # the deadline is compared with floored times: round it up so no feasible schedule is cut off
    dl = None if deadline is None else int(math.ceil(deadline * units - 1e-9 * max(1.0, deadline * units)))

    model = cp_model.CpModel()
    y = []
    for j in range(n):
        adm = problem.admissible(j)
        row = [model.new_bool_var(f"y{j}_{c}") for c in range(counts[j])]
        for c in range(counts[j]):
            if not adm[c]:
                model.add(row[c] == 0)
        model.add_exactly_one(row)
        y.append(row)
    if problem.accuracy_min is not None:
        acc = [accuracy_ints(problem.accuracy[j]) for j in range(n)]
        model.add(
            sum(int(acc[j][c]) * y[j][c] for j in range(n) for c in range(counts[j]))
            >= accuracy_floor_int(n, problem.accuracy_min)
        )

    def size(j, k):
        return sum(int(p_int[j][c][k]) * y[j][c] for c in range(counts[j]))

    if problem.objective == "rate":
        total = int(sum(int(p.max(axis=0).sum()) for p in p_int)) + 1
        load = model.new_int_var(0, total, "load")
        for k in range(m):
            model.add(load >= sum(size(j, k) for j in range(n)))
        if lower_bound_ms is not None and math.isfinite(lower_bound_ms):
            model.add(load >= int(math.floor(lower_bound_ms * units)) - (n + 1))
        model.minimize(load)
        return PipelineModel(model=model, y=y, start=None, units_per_ms=units)

    horizon = int(rel.max()) + int(sum(int(p.max(axis=0).sum()) for p in p_int)) + 1
    start = [[model.new_int_var(0, horizon, f"s{j}_{k}") for k in range(m)] for j in range(n)]
    end = [[model.new_int_var(0, horizon, f"e{j}_{k}") for k in range(m)] for j in range(n)]
    per_stage: list[list] = [[] for _ in range(m)]
    for j in range(n):
        model.add(start[j][0] >= int(rel[j]))
        for k in range(m):
            model.add(end[j][k] == start[j][k] + size(j, k))
            if k:
                model.add(start[j][k] >= end[j][k - 1])
            for c in range(counts[j]):
                if counts[j] == 1:
                    iv = model.new_interval_var(start[j][k], int(p_int[j][c][k]), end[j][k], f"i{j}_{k}")
                else:
                    iv = model.new_optional_fixed_size_interval_var(
                        start[j][k], int(p_int[j][c][k]), y[j][c], f"i{j}_{c}_{k}"
                    )
                per_stage[k].append(iv)
        if dl is not None:
            model.add(end[j][m - 1] - int(rel[j]) <= dl)
    for k in range(m):
        model.add_no_overlap(per_stage[k])
    before = {(i, j): model.new_bool_var(f"b{i}_{j}") for i in range(n) for j in range(i + 1, n)}
    for (i, j), lit in before.items():
        for k in range(m):
            model.add(start[j][k] >= end[i][k]).only_enforce_if(lit)
            model.add(start[i][k] >= end[j][k]).only_enforce_if(~lit)
    zero = [j for j in range(n) if (p_int[j].sum(axis=1) == 0).any()]

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
    cmax = model.new_int_var(0, horizon, "cmax")
    model.add_max_equality(cmax, [end[j][m - 1] for j in range(n)])
    if lower_bound_ms is not None and math.isfinite(lower_bound_ms):
        model.add(cmax >= int(math.floor(lower_bound_ms * units)) - (n + m + 1))
    model.minimize(cmax)
    return PipelineModel(model=model, y=y, start=start, units_per_ms=units, before=before)
