"""The exit placement problem as a CP-SAT model.

Variables (all boolean unless said otherwise)::

    x[i][n]   block i runs on node n            (one per block)
    z[e][t]   early exit e kept with threshold T_e[t]  (at most one per exit)
    q[s][e]   sample s stops at exit e
    A_e       integer, samples reaching exit e (N minus those stopped before)
    w         integer products  bool * A_e  (linearized exactly)

Constraints::

    sum_n x[i][n] = 1;  y[i][m] = sum_{n>=m} x[i][n] nondecreasing in i
    pass[s][e] = sum_{t: T_e[t] <= conf[s][e]} z[e][t]        (linear, 0/1)
    reach[s][e] = 1 - sum_{e' < e} q[s][e']
    q[s][e] = reach[s][e] AND pass[s][e];   q[s][final] = reach[s][final]
    sum_e kept_e <= max_exits;   correct >= min_correct

Cost (N times the mean latency): for the segment of exit ``e`` (blocks after
the previous candidate exit up to e's block), every sample reaching ``e``
pays the blocks on their nodes, the link crossings (first block on a node
``> l`` crosses link ``l``, forward and back), and exit ``e``'s head if kept::

    sum_e  A_e * ( sum_{i in seg(e)} [ sum_n ms[i][n] x[i][n] + sum_l cross(l, i) c[i][l] ]
                   + sum_n exit_ms[e][n] (kept_e AND x[j_e][n]) )

Samples with identical rows are merged with integer weights. Costs are
scaled to integers by :func:`formulations.scaling.scale_ms` (``floor``: the
model relaxes the float problem, so its optimum bounds it) or rounded up
(``ceil``: every solution of a ``latency_max_ms`` constraint holds in floats).
Size: O(N E) sample variables, O(sum_e |T_e|) threshold variables,
O(K k^2 + E k) products.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .problem import LATENCY_RTOL
from ..scaling import scale_ms

__all__ = ["ExitModel", "build_cpsat"]


@dataclass
class ExitModel:
    """A built CP-SAT model and the variables needed to read a plan.

    Attributes
    ----------
    model : cp_model.CpModel
    x : list of list
        ``x[i][n]`` placement booleans.
    z : list of list
        ``z[e][t]`` threshold choice per early exit (``thresholds[e][t]``).
    thresholds : list of ndarray
    latency : linear expression
        Scaled N times mean latency.
    correct : linear expression
        Number of correct samples.
    units_per_ms : int
    n_samples : int
    """

    model: object
    x: list
    z: list
    thresholds: list
    latency: object
    correct: object
    units_per_ms: int
    n_samples: int


def _merge_rows(problem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = np.concatenate([problem.confidence, problem.correct.astype(float)], axis=1)
    uniq, counts = np.unique(rows, axis=0, return_counts=True)
    E = problem.n_exits
    return uniq[:, :E], uniq[:, E:].astype(np.int64), counts.astype(np.int64)


def build_cpsat(problem, *, rounding: str = "floor", objective: str | None = None,
                min_correct: int | None = None) -> ExitModel:
    """Build the CP-SAT model of ``problem`` (see module docstring).

    Parameters
    ----------
    problem : ExitProblem
    rounding : {"floor", "ceil"}
        Scaling of costs to integers.
    objective : {"latency", "accuracy"}, optional
        Defaults to the problem's objective.
    min_correct : int, optional
        Overrides the accuracy floor (in correct samples).
    """
    from ortools.sat.python import cp_model

    objective = objective or problem.objective
    model = cp_model.CpModel()
    K, k, E = problem.n_blocks, problem.n_nodes, problem.n_exits
    conf, corr, weight = _merge_rows(problem)
    S = len(weight)
    N = int(weight.sum())
    bms, cross, ems = problem.block_ms, problem.cross_ms, problem.exit_ms
    flat = np.concatenate([bms.ravel(), cross.ravel(), ems.ravel()])
    ints, units = scale_ms(flat, reserve=max(N, 1) * (E + 1))
    if rounding == "ceil":
        ints = ints + (flat > 0)  # strictly above the float cost: conservative
    elif rounding != "floor":
        raise ValueError(f"`rounding` must be 'floor' or 'ceil', got {rounding!r}")
    bms_i = ints[: K * k].reshape(K, k)
    cross_i = ints[K * k : K * k + cross.size].reshape(cross.shape)
    ems_i = ints[K * k + cross.size :].reshape(E, k)

    # placement
    x = [[model.new_bool_var(f"x{i}_{n}") for n in range(k)] for i in range(K)]
    for i in range(K):
        model.add_exactly_one(x[i])
    y = [[sum(x[i][n] for n in range(m, k)) for m in range(k)] for i in range(K)]
    for i in range(1, K):
        for m in range(1, k):
            model.add(y[i][m] >= y[i - 1][m])
    # c[i][l]: block i is the first on a node > l
    c = []
    for i in range(K):
        row = []
        for l in range(k - 1):
            var = model.new_bool_var(f"c{i}_{l}")
            model.add(var == (y[i][l + 1] - (y[i - 1][l + 1] if i else 0)))
            row.append(var)
        c.append(row)

    # thresholds
    thresholds, z, kept = [], [], []
    for e in range(E - 1):
        T = problem.candidate_thresholds(e)
        thresholds.append(T)
        ze = [model.new_bool_var(f"z{e}_{t}") for t in range(len(T))]
        model.add_at_most_one(ze)
        z.append(ze)
        kept.append(sum(ze))
    if "max_exits" in problem.constraints:
        model.add(sum(kept) <= problem.constraints["max_exits"])

    # samples
    q = [[None] * E for _ in range(S)]
    for s in range(S):
        stopped = 0
        for e in range(E - 1):
            T = thresholds[e]
            upto = int(np.searchsorted(T, conf[s, e], side="right"))
            if upto == 0:
                q[s][e] = 0
                continue
            pass_se = sum(z[e][:upto])
            reach = 1 - stopped
            v = model.new_bool_var(f"q{s}_{e}")
            model.add(v <= reach)
            model.add(v <= pass_se)
            model.add(v >= reach + pass_se - 1)
            q[s][e] = v
            stopped = stopped + v
        q[s][E - 1] = 1 - stopped
    # reach counts
    A = []
    for e in range(E):
        if e == 0:
            A.append(N)
            continue
        var = model.new_int_var(0, N, f"A{e}")
        model.add(var == N - sum(int(weight[s]) * q[s][f] for s in range(S) for f in range(e) if not isinstance(q[s][f], int)))
        A.append(var)

    def times_count(b, e):
        """Integer var equal to bool ``b`` times the reach count of exit ``e``."""
        if isinstance(A[e], int):
            return A[e] * b
        w = model.new_int_var(0, N, "w")
        model.add(w <= N * b)
        model.add(w <= A[e])
        model.add(w >= A[e] - N * (1 - b))
        return w

    eb = problem.exit_block
    seg_start = np.concatenate(([0], eb[:-1] + 1))
    terms = []
    for e in range(E):
        for i in range(int(seg_start[e]), int(eb[e]) + 1):
            for n in range(k):
                if bms_i[i, n]:
                    terms.append(int(bms_i[i, n]) * times_count(x[i][n], e))
            for l in range(k - 1):
                if cross_i[i, l]:
                    terms.append(int(cross_i[i, l]) * times_count(c[i][l], e))
        j = int(eb[e])
        for n in range(k):
            if not ems_i[e, n]:
                continue
            if e == E - 1:
                terms.append(int(ems_i[e, n]) * times_count(x[j][n], e))
            else:
                v = model.new_bool_var(f"v{e}_{n}")
                model.add(v <= kept[e])
                model.add(v <= x[j][n])
                model.add(v >= kept[e] + x[j][n] - 1)
                terms.append(int(ems_i[e, n]) * times_count(v, e))
    latency = sum(terms)
    correct = sum(int(weight[s]) * int(corr[s, e]) * q[s][e] for s in range(S) for e in range(E)
                  if corr[s, e] and not (isinstance(q[s][e], int) and q[s][e] == 0))
    need = problem.min_correct() if min_correct is None else min_correct
    if need:
        model.add(correct >= need)
    lmax = problem.constraints.get("latency_max_ms")
    if lmax is not None:
        if rounding == "floor":  # as lenient as the evaluator: a relaxation
            lmax = lmax + LATENCY_RTOL * max(1.0, lmax)
        model.add(latency <= math.floor(lmax * N * units))
    if objective == "latency":
        model.minimize(latency)
    else:
        model.maximize(correct)
    return ExitModel(model=model, x=x, z=z, thresholds=thresholds, latency=latency, correct=correct,
                     units_per_ms=units, n_samples=N)
