"""Lower bounds for the pipeline problem and the Lagrangian of the accuracy floor.

Every bound here is a relaxation, so it never exceeds the optimum (never
falls below it for the rate, a maximization).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from formulations.pipeline import ACCURACY_TOL, rate_from_load


__all__ = ["Lagrangian", "choice_lagrangian", "LoadBound", "stage_load_bound", "makespan_bound", "bound_and_prices", "objective_bound"]


@dataclass
class Lagrangian:
    """Result of :func:`choice_lagrangian`.

    Attributes
    ----------
    bound : float
        ``max_lambda g(lambda) <= min sum_j w[j][c_j]`` over choices meeting
        the accuracy target (the LP relaxation's value).
    lam : float
        The maximizing multiplier.
    choice : list of int or None
        A choice meeting the target (None if none exists), with
        ``sum_j w[j][choice_j] <= bound + max_j (max_c w[j][c] - min_c w[j][c])``.
    """

    bound: float
    lam: float
    choice: list[int] | None


def choice_lagrangian(w, acc, target, allowed=None) -> Lagrangian:
    """Minimize ``sum_j w[j][c_j]`` s.t. ``sum_j acc[j][c_j] >= target``, by Lagrangian relaxation.

    The dual ``g(lam) = lam * target + sum_j min_c (w[j][c] - lam * acc[j][c])``
    is concave and piecewise linear; its maximum lies at ``lam = 0`` or where
    two configurations of one task tie, so every such breakpoint is tried.
    The primal choice starts from the minimizers of lowest accuracy at the
    best ``lam`` and switches tied tasks, one at a time, to their
    highest-accuracy minimizer until the target is met; every switch keeps
    the Lagrangian value, so the result is within the largest single-task
    spread of ``w`` above the bound.

    Parameters
    ----------
    w, acc : list of 1-D arrays
        Cost and accuracy of each task's configurations.
    target : float or None
        ``n * accuracy_min``; None means no floor (then the choice is the
        per-task minimum and the bound is exact).
    allowed : list of boolean arrays, optional
        Admissible configurations per task (others are never chosen).

    Notes
    -----
    O(B n C) for ``B <= n C^2`` breakpoints (vectorized).
    """
    n = len(w)
    C = max(len(x) for x in w)
    W = np.full((n, C), np.inf)
    A = np.full((n, C), -np.inf)
    for j in range(n):
        ok = np.ones(len(w[j]), dtype=bool) if allowed is None else np.asarray(allowed[j], dtype=bool)
        W[j, : len(w[j])] = np.where(ok, w[j], np.inf)
        A[j, : len(w[j])] = np.where(ok, np.nan_to_num(acc[j], nan=0.0) if acc is not None else 0.0, -np.inf)
    if np.isinf(W.min(axis=1)).any():
        return Lagrangian(math.inf, 0.0, None)
    finite = np.isfinite(W)
    if target is None:
        choice = _pick(W - 0.0, A, finite, highest=True)
        return Lagrangian(float(W[np.arange(n), choice].sum()), 0.0, list(map(int, choice)))
    best_acc = np.where(finite, A, -np.inf).max(axis=1).sum()
    if best_acc < target - ACCURACY_TOL * n:
        return Lagrangian(math.inf, 0.0, None)
    # breakpoints: lam where two configurations of a task have equal w - lam a
    lams = [0.0]
    for j in range(n):
        idx = np.flatnonzero(finite[j])
        wj, aj = W[j, idx], A[j, idx]
        dw = wj[:, None] - wj[None, :]
        da = aj[:, None] - aj[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            cand = dw / da
        lams.extend(cand[(da > 0) & (cand > 0)].tolist())
    lams = np.unique(np.asarray(lams))  # type: ignore[assignment]
    Wf = np.where(finite, W, 0.0)
    Af = np.where(finite, A, 0.0)
    red = Wf[None, :, :] - lams[:, None, None] * Af[None, :, :]  # type: ignore[call-overload]
    red = np.where(finite[None, :, :], red, np.inf)
    g = lams * target + red.min(axis=2).sum(axis=1)
    b = int(np.argmax(g))
    lam = float(lams[b])
    bound = float(g[b])
    reduced = np.where(finite, W - lam * Af, np.inf)
    low = _pick(reduced, A, finite, highest=False)
    high = _pick(reduced, A, finite, highest=True)
    choice = low.copy()
    total = float(A[np.arange(n), choice].sum())
    gains = A[np.arange(n), high] - A[np.arange(n), low]
    for j in np.argsort(-gains, kind="stable"):
        if total >= target - ACCURACY_TOL * n:
            break
        if gains[j] > 0:
            choice[j] = high[j]
            total += gains[j]
    if total < target - ACCURACY_TOL * n:  # numerical ties missed: repair greedily by accuracy per cost
        choice = _greedy_repair(W, A, finite, choice, target)
    return Lagrangian(bound, lam, list(map(int, choice)))


def _pick(reduced, A, finite, *, highest: bool) -> np.ndarray:
    """Per task, a minimizer of ``reduced`` (within a relative 1e-12), with the
    highest (or lowest) accuracy among the tied ones."""
    mins = reduced.min(axis=1, keepdims=True)
    scale = np.maximum(1.0, np.abs(mins))
    tied = finite & (reduced <= mins + 1e-12 * scale)
    key = np.where(tied, A if highest else -A, -np.inf)
    return np.argmax(key, axis=1)


def _greedy_repair(W, A, finite, choice, target) -> np.ndarray:
    choice = choice.copy()
    n = len(choice)
    rows = np.arange(n)
    while A[rows, choice].sum() < target - ACCURACY_TOL * n:
        cur_w, cur_a = W[rows, choice], A[rows, choice]
        dA = np.where(finite, A - cur_a[:, None], -np.inf)
        dW = np.where(finite, W - cur_w[:, None], np.inf)
        ratio = np.where(dA > 0, np.maximum(dW, 0.0) / np.where(dA > 0, dA, 1.0), np.inf)
        j, c = np.unravel_index(int(np.argmin(ratio)), ratio.shape)
        if not np.isfinite(ratio[j, c]):
            break
        choice[j] = c
    return choice


def _allowed(problem):
    return [problem.admissible(j) for j in range(problem.n)]


def _target(problem):
    return None if problem.accuracy_min is None else problem.n * problem.accuracy_min


@dataclass
class LoadBound:
    """Certified lower bound on ``min max_k (const_k + L_k)`` over feasible choices.

    Attributes
    ----------
    bound : float
        ``g(mu, lam)`` of :func:`stage_load_bound` (a valid bound for any
        multipliers; here HiGHS's LP duals).
    mu : ndarray, shape (m,)
        Stage weights on the simplex.
    lam : float
        Multiplier of the accuracy floor.
    """

    bound: float
    mu: np.ndarray
    lam: float


def stage_load_bound(problem, const=None) -> LoadBound:
    """Lower bound on ``min_x max_k (const[k] + L_k(x))`` with configuration choice and accuracy floor.

    Solves the LP relaxation (fractional choices ``x[j][c]``) with HiGHS and
    turns its duals into the Lagrangian bound::

        g(mu, lam) = sum_k mu_k const_k + lam * n * accuracy_min
                     + sum_j min_c (sum_k mu_k ms[j][c][k] - lam * acc[j][c])

    which is a lower bound for *any* ``mu`` on the simplex and ``lam >= 0``
    (``max_k z_k >= sum_k mu_k z_k``; the floor term is >= 0 on feasible
    choices), so the result is certified, not trusting LP tolerances.
    Deadline-inadmissible configurations are excluded. O(LP(n C, m + n)).
    """
    from scipy.optimize import linprog

    n, m = problem.n, problem.m
    const = np.zeros(m) if const is None else np.asarray(const, dtype=float)
    allowed = _allowed(problem)
    cols = [(j, c) for j in range(n) for c in np.flatnonzero(allowed[j]).tolist()]
    P = np.array([problem.times[j][c] for j, c in cols])  # (V, m)
    # the LP only supplies prices; scale times to O(1) so HiGHS stays well conditioned
    scale = max(float(np.abs(P).max(initial=0.0)), float(np.abs(const).max(initial=0.0)), 1e-300)
    P = P / scale
    target = _target(problem)
    nv = len(cols) + 1  # x..., Z
    cost = np.zeros(nv)
    cost[-1] = 1.0
    a_ub = np.zeros((m + (target is not None), nv))
    a_ub[:m, :-1] = P.T
    a_ub[:m, -1] = -1.0
    b_ub = list(-const / scale)
    if target is not None:
        acc = np.array([problem.accuracy[j][c] for j, c in cols])
        a_ub[m, :-1] = -acc
        b_ub.append(-target)
    a_eq = np.zeros((n, nv))
    for v, (j, _) in enumerate(cols):
        a_eq[j, v] = 1.0
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=np.ones(n),
                  bounds=[(0, 1)] * (nv - 1) + [(None, None)], method="highs")
    no_choice = any(not allowed[j].any() for j in range(n))
    if no_choice or (res.status == 2 and target is not None and _best_accuracy_total(problem, allowed) < target - 1e-9):
        # infeasible, confirmed directly: a task without an admissible choice, or none meets the floor
        return LoadBound(math.inf, np.full(m, 1.0 / m), 0.0)
    if res.status != 0:
        mu, lam = np.full(m, 1.0 / m), 0.0
    else:
        duals = -np.asarray(res.ineqlin.marginals)
        mu = np.clip(duals[:m], 0.0, None)
        mu = mu / mu.sum() if mu.sum() > 0 else np.full(m, 1.0 / m)
        lam = float(max(duals[m], 0.0)) if target is not None else 0.0
    return LoadBound(_dual_value(problem, const, mu, lam, allowed), mu, lam)


def _best_accuracy_total(problem, allowed) -> float:
    """Largest sum of accuracies over admissible choices (one per task). O(n C)."""
    return float(sum(np.nan_to_num(problem.accuracy[j])[allowed[j]].max(initial=-math.inf) for j in range(problem.n)))


def _dual_value(problem, const, mu, lam, allowed) -> float:
    total = float(mu @ const) + (lam * _target(problem) if problem.accuracy_min is not None else 0.0)
    for j in range(problem.n):
        red = problem.times[j] @ mu - lam * np.nan_to_num(problem.accuracy[j])
        total += float(red[allowed[j]].min())
    return total


def makespan_bound(problem) -> tuple[float, str]:
    """Best of the stage-load and task-length bounds on the makespan (ms); see :func:`bound_and_prices`."""
    bound, which, _ = _makespan_bound(problem)
    return bound, which


def stage_constants(problem):
    """``(const, length)``: per stage ``k``, ``min_j (r_j + head_jk) + min_j tail_jk`` (ms; least
    time before stage ``k`` can start plus least time after its last operation), and per task
    ``r_j + min_c sum_k ms[j][c][k]``; None if a task has no admissible configuration. O(n C m)."""
    m, n = problem.m, problem.n
    heads = np.full((n, m), np.inf)
    tails = np.full((n, m), np.inf)
    length = np.full(n, np.inf)
    for j in range(n):
        T = problem.times[j][problem.admissible(j)]
        if len(T) == 0:
            return None
        cum = np.cumsum(T, axis=1)
        heads[j] = (cum - T).min(axis=0)
        tails[j] = (cum[:, -1:] - cum).min(axis=0)
        length[j] = problem.release_ms[j] + T.sum(axis=1).min()
    return (problem.release_ms[:, None] + heads).min(axis=0) + tails.min(axis=0), length


def _makespan_bound(problem) -> tuple[float, str, np.ndarray]:
    """Best of the stage-load and task-length bounds on the makespan (ms).

    - stage load: ``max_k (min_j (r_j + head_jk) + L_k + min_j tail_jk)``
      minimized over configuration choices meeting the floor (certified by
      :func:`stage_load_bound`); ``head_jk`` / ``tail_jk`` are the least
      times of task ``j`` before / after stage ``k``. Stage ``k`` cannot
      start before some task reaches it, then works ``L_k``, and the last
      task it serves still needs its tail.
    - task length: ``max_j (r_j + min_c sum_k ms[j][c][k])``.

    Returns ``(bound, which, stage prices mu)``.
    """
    parts = stage_constants(problem)
    if parts is None:
        return math.inf, "no admissible configuration", _uniform_prices(problem)
    const, length = parts
    load = stage_load_bound(problem, const)
    value, which = _task_length(problem, length)
    if value > load.bound:
        return value, which, load.mu
    return load.bound, "stage-load bound", load.mu


def _uniform_prices(problem) -> np.ndarray:
    return np.full(problem.m, 1.0 / problem.m)


def _task_length(problem, length: np.ndarray) -> tuple[float, str]:
    """``max_j length[j]`` (ms) and its name."""
    j = int(np.argmax(length))
    return float(length[j]), f"task-length bound of {problem.tasks[j].name}"


def task_length_bound_and_prices(problem) -> tuple[float, str, np.ndarray]:
    """The task-length bound alone (no LP) and uniform stage prices, as :func:`bound_and_prices` returns
    them; for callers that cannot afford the LP (``joint`` in a cold process with little time). O(n C m)."""
    parts = stage_constants(problem)
    if parts is None:
        return math.inf, "no admissible configuration", _uniform_prices(problem)
    return (*_task_length(problem, parts[1]), _uniform_prices(problem))


def bound_and_prices(problem) -> tuple[float, str, np.ndarray]:
    """``(bound, which, mu)``: the proven bound on the objective (a lower bound
    on the makespan in ms, or an upper bound on the rate in tasks/s), what
    it comes from, and the LP's stage prices ``mu`` (reused by the
    Lagrangian configuration choice, so one LP serves both)."""
    if problem.objective == "makespan":
        return _makespan_bound(problem)
    load = stage_load_bound(problem)
    return rate_from_load(problem.n, load.bound), "bottleneck stage-load bound", load.mu


def objective_bound(problem) -> tuple[float, str]:
    """The proven bound on the objective (see :func:`bound_and_prices`)."""
    bound, which, _ = bound_and_prices(problem)
    return bound, which
