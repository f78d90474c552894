"""The exit placement problem as a CP-SAT model.

Variables (all boolean unless said otherwise)::

    x[i][n]   block i runs on node n            (one per block)
    z[e][t]   early exit e kept with threshold T_e[t]  (at most one per exit)
    q[s][e]   sample s stops at exit e
    A_e       integer, samples reaching exit e (N minus those stopped before)
    w         integer products  bool * A_e  (linearized exactly)

Constraints::

    sum_n x[i][n] = 1;  y[i][m] = sum_{n>=m} x[i][n] nondecreasing in i
    pass[s][e] = p[e][t_se] = sum_{t < t_se} z[e][t],  t_se = #{t: T_e[t] <= conf[s][e]}
                 (prefix literals p[e][t] = p[e][t-1] + z[e][t-1], 0/1)
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
scaled to integers by :func:`formulations.scaling.scale_costs` (the one
policy): exact decimals exactly, else ``floor`` (the model relaxes the float
problem, so its optimum bounds it; ``latency_max_ms`` is then relaxed by the
evaluator's tolerance plus one unit, so no float-feasible plan is cut off)
or rounded up (``ceil``: every solution of a ``latency_max_ms`` constraint
holds in floats). Size: O(N E) sample variables, O(sum_e |T_e|) threshold
variables, O(K k^2 + E k) products.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..deadline import BuildClock
from ..scaling import limit_units, scale_costs
from .problem import LATENCY_RTOL

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
    n_terms : int
        Terms of the sample rows (what CP-SAT's presolve works through).
    slack_ms : float
        Most the float mean latency of a plan exceeds its integer one / N
        (``floor`` rounding: one unit per block, crossing and head on a
        sample's path; 0 when exact or ``ceil``).
    """

    model: object
    x: list
    z: list
    thresholds: list
    latency: object
    correct: object
    units_per_ms: float
    n_samples: int
    slack_ms: float = 0.0
    n_terms: int = 0


def _merge_rows(problem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = np.concatenate([problem.confidence, problem.correct.astype(float)], axis=1)
    uniq, counts = np.unique(rows, axis=0, return_counts=True)
    n_exits = problem.n_exits
    return uniq[:, :n_exits], uniq[:, n_exits:].astype(np.int64), counts.astype(np.int64)


@dataclass
class _Costs:
    block: np.ndarray
    cross: np.ndarray
    head: np.ndarray
    units: float
    exact: bool
    slack_ms: float


def _scaled_costs(problem, rounding: str, reserve: int) -> _Costs:
    n_blocks, n_nodes, n_exits = problem.n_blocks, problem.n_nodes, problem.n_exits
    bms, cross, ems = problem.block_ms, problem.cross_ms, problem.exit_ms
    flat = np.concatenate([bms.ravel(), cross.ravel(), ems.ravel()])
    scaled = scale_costs(flat, reserve=reserve, rounding=rounding)
    ints = scaled.ints
    # floor: a sample's path has K blocks, <= K(k-1) link crossings and <= E heads
    slack = 0.0 if rounding == "ceil" or scaled.coarse else scaled.slack(n_blocks * n_nodes + n_exits)
    return _Costs(ints[: n_blocks * n_nodes].reshape(n_blocks, n_nodes), ints[n_blocks * n_nodes : n_blocks * n_nodes + cross.size].reshape(cross.shape),
                  ints[n_blocks * n_nodes + cross.size :].reshape(n_exits, n_nodes), scaled.units, scaled.exact, slack)


def _placement(model, n_blocks: int, n_nodes: int):
    """``x[i][n]`` (one node per block, nondecreasing) and ``c[i][l]`` (block
    ``i`` is the first on a node ``> l``)."""
    x = [[model.new_bool_var(f"x{i}_{n}") for n in range(n_nodes)] for i in range(n_blocks)]
    for i in range(n_blocks):
        model.add_exactly_one(x[i])
    y = [[sum(x[i][n] for n in range(m, n_nodes)) for m in range(n_nodes)] for i in range(n_blocks)]
    for i in range(1, n_blocks):
        for m in range(1, n_nodes):
            model.add(y[i][m] >= y[i - 1][m])
    c = []
    for i in range(n_blocks):
        row = []
        for l in range(n_nodes - 1):
            var = model.new_bool_var(f"c{i}_{l}")
            model.add(var == (y[i][l + 1] - (y[i - 1][l + 1] if i else 0)))
            row.append(var)
        c.append(row)
    return x, c


def _thresholds(model, problem):
    """``z[e][t]`` (at most one threshold per early exit), ``kept[e]``, and
    ``passing[e][t] = sum(z[e][:t])`` (a sample whose confidence is at least
    ``T_e[t-1]`` passes exit ``e``), one literal per prefix so that each
    sample row needs one literal per exit instead of a long sum."""
    thresholds, z, kept, passing = [], [], [], []
    for e in range(problem.n_exits - 1):
        T = problem.candidate_thresholds(e)
        thresholds.append(T)
        ze = [model.new_bool_var(f"z{e}_{t}") for t in range(len(T))]
        model.add_at_most_one(ze)
        z.append(ze)
        kept.append(sum(ze))
        prefix = [0]
        for t in range(1, len(T) + 1):
            var = model.new_bool_var(f"p{e}_{t}")
            model.add(var == prefix[-1] + ze[t - 1])
            prefix.append(var)
        passing.append(prefix)
    if "max_exits" in problem.constraints:
        model.add(sum(kept) <= problem.constraints["max_exits"])
    return thresholds, z, kept, passing


def _samples(model, conf, weight, thresholds, passing, n_exits: int, clock: BuildClock):
    """``q[s][e]`` (merged sample row ``s`` stops at exit ``e``) and the reach
    counts ``A[e]``."""
    n_patterns, n_samples = len(weight), int(weight.sum())
    q = [[None] * n_exits for _ in range(n_patterns)]
    n_terms = 0
    for s in range(n_patterns):
        clock.tick(s * n_exits)
        stopped = 0
        for e in range(n_exits - 1):
            upto = int(np.searchsorted(thresholds[e], conf[s, e], side="right"))
            if upto == 0:
                q[s][e] = 0  # type: ignore[call-overload]
                continue
            pass_se = passing[e][upto]
            n_terms += e + 4
            reach = 1 - stopped
            v = model.new_bool_var(f"q{s}_{e}")
            model.add(v <= reach)
            model.add(v <= pass_se)
            model.add(v >= reach + pass_se - 1)
            q[s][e] = v
            stopped = stopped + v
        q[s][n_exits - 1] = 1 - stopped  # type: ignore[call-overload]
    A = [n_samples]
    for e in range(1, n_exits):
        var = model.new_int_var(0, n_samples, f"A{e}")
        model.add(var == n_samples - sum(int(weight[s]) * q[s][f] for s in range(n_patterns) for f in range(e) if not isinstance(q[s][f], int)))  # type: ignore[misc, operator]
        A.append(var)
    return q, A, n_terms


def _latency(model, problem, costs: _Costs, x, c, kept, A, n_samples: int):
    """Scaled N times the mean latency (module docstring), products linearized exactly."""
    n_nodes, n_exits = problem.n_nodes, problem.n_exits

    def times_count(b, e):
        """Integer var equal to bool ``b`` times the reach count of exit ``e``."""
        if isinstance(A[e], int):
            return A[e] * b
        w = model.new_int_var(0, n_samples, "w")
        model.add(w <= n_samples * b)
        model.add(w <= A[e])
        model.add(w >= A[e] - n_samples * (1 - b))
        return w

    eb = problem.exit_block
    seg_start = np.concatenate(([0], eb[:-1] + 1))
    terms = []
    for e in range(n_exits):
        for i in range(int(seg_start[e]), int(eb[e]) + 1):
            for n in range(n_nodes):
                if costs.block[i, n]:
                    terms.append(int(costs.block[i, n]) * times_count(x[i][n], e))
            for l in range(n_nodes - 1):
                if costs.cross[i, l]:
                    terms.append(int(costs.cross[i, l]) * times_count(c[i][l], e))
        j = int(eb[e])
        for n in range(n_nodes):
            if not costs.head[e, n]:
                continue
            if e == n_exits - 1:
                terms.append(int(costs.head[e, n]) * times_count(x[j][n], e))
            else:
                v = model.new_bool_var(f"v{e}_{n}")
                model.add(v <= kept[e])
                model.add(v <= x[j][n])
                model.add(v >= kept[e] + x[j][n] - 1)
                terms.append(int(costs.head[e, n]) * times_count(v, e))
    return sum(terms)


def _latency_cap_units(lmax: float, costs: _Costs, rounding: str, n_samples: int, n_terms: int) -> int:
    """``latency_max_ms`` times N in units (:func:`formulations.scaling.limit_units`):
    a relaxation for ``floor`` (evaluator tolerance, summation error, one
    unit of margin unless exact), the plain cap for ``ceil`` (a restriction)."""
    return limit_units(lmax * n_samples, costs.units, exact=costs.exact, atol=LATENCY_RTOL * max(1.0, lmax) * n_samples,
                       n_terms=n_terms, restrict=rounding == "ceil")


def build_cpsat(problem, *, rounding: str = "floor", objective: str | None = None,
                min_correct: int | None = None, deadline: float | None = None) -> ExitModel:
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
    deadline : float, optional
        Absolute :func:`time.perf_counter` time; building stops with
        :class:`formulations.deadline.BuildTimeout` after it.
    """
    from ortools.sat.python import cp_model

    objective = objective or problem.objective
    model = cp_model.CpModel()
    n_blocks, n_nodes, n_exits = problem.n_blocks, problem.n_nodes, problem.n_exits
    conf, corr, weight = _merge_rows(problem)
    n_patterns = len(weight)
    n_samples = int(weight.sum())
    clock = BuildClock(deadline, n_patterns * n_exits + n_blocks * n_nodes * n_nodes + 1, "exits CP-SAT model")
    costs = _scaled_costs(problem, rounding, max(n_samples, 1) * (n_exits + 1))
    x, c = _placement(model, n_blocks, n_nodes)
    thresholds, z, kept, passing = _thresholds(model, problem)
    q, A, n_terms = _samples(model, conf, weight, thresholds, passing, n_exits, clock)
    latency = _latency(model, problem, costs, x, c, kept, A, n_samples)
    clock.tick(n_patterns * n_exits)
    correct = sum(int(weight[s]) * int(corr[s, e]) * q[s][e] for s in range(n_patterns) for e in range(n_exits)
                  if corr[s, e] and not (isinstance(q[s][e], int) and q[s][e] == 0))
    need = problem.min_correct() if min_correct is None else min_correct
    if need:
        model.add(correct >= need)
    lmax = problem.constraints.get("latency_max_ms")
    if lmax is not None:
        model.add(latency <= _latency_cap_units(lmax, costs, rounding, n_samples, n_samples * (n_blocks * n_nodes + n_exits)))
    if objective == "latency":
        model.minimize(latency)
    else:
        model.maximize(correct)
    clock.tick(clock.total)
    return ExitModel(model=model, x=x, z=z, thresholds=thresholds, latency=latency, correct=correct,
                     units_per_ms=costs.units, n_samples=n_samples, slack_ms=costs.slack_ms if objective == "latency" else 0.0,
                     n_terms=n_terms)
