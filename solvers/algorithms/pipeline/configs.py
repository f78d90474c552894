"""Configuration choice: Lagrangian relaxation of the accuracy floor, bottleneck relief.

Both choose one configuration per task meeting the accuracy floor and the
per-configuration deadline filter; the order is then built by NEH
(``"makespan"``) or is irrelevant (``"rate"``).
"""

from __future__ import annotations

import numpy as np

from formulations.errors import OptionError

from ...registry import MethodResult
from ...solution import Status
from .bounds import Lagrangian, bound_and_prices, choice_lagrangian, stage_load_bound

__all__ = ["lagrangian_choice", "bottleneck_relief", "choose_configs", "prepare"]


def lagrangian_choice(problem, mu=None) -> Lagrangian:
    """Configurations minimizing stage-weighted work ``sum_j sum_k mu_k ms[j][c_j][k]``
    under the accuracy floor, by :func:`~.bounds.choice_lagrangian`.

    ``mu`` defaults to the stage weights of :func:`~.bounds.stage_load_bound`
    (the LP duals of the bottleneck constraints), so the relaxed problem
    prices the bottleneck stages. Guarantee: ``W_mu(choice) <= W_mu_LP +
    max_j spread_j`` where ``W_mu_LP`` is the LP optimum of the weighted work
    (<= the least feasible weighted work) and ``spread_j`` the difference
    between task ``j``'s largest and smallest weighted work.
    """
    if mu is None:
        mu = stage_load_bound(problem).mu
    w = [problem.times[j] @ np.asarray(mu, dtype=float) for j in range(problem.n)]
    target = None if problem.accuracy_min is None else problem.n * problem.accuracy_min
    allowed = [problem.admissible(j) for j in range(problem.n)]
    return choice_lagrangian(w, problem.accuracy, target, allowed)


def bottleneck_relief(problem, start, *, max_moves: int | None = None) -> list[int]:
    """Greedy relief of the bottleneck stage, starting from ``start``.

    Repeatedly applies the single-task configuration change that most lowers
    ``(max_k L_k, sum_k L_k)`` lexicographically while keeping the accuracy
    floor and the deadline filter; stops when no change lowers the
    bottleneck load. Guarantee: the bottleneck load never exceeds that of
    ``start``. Each move costs O(n C m); at most ``n C`` moves by default.
    """
    n = problem.n
    config = list(start)
    allowed = [problem.admissible(j) for j in range(n)]
    acc = [np.nan_to_num(a) for a in problem.accuracy]
    floor = None if problem.accuracy_min is None else n * problem.accuracy_min - 1e-9 * n
    loads = sum(problem.times[j][config[j]] for j in range(n))
    total_acc = float(sum(acc[j][config[j]] for j in range(n)))
    limit = max_moves if max_moves is not None else n * max(problem.n_configs)
    for _ in range(limit):
        best = (float(loads.max()), float(loads.sum()))
        move = None
        for j in range(n):
            cur = problem.times[j][config[j]]
            for c in np.flatnonzero(allowed[j]):
                if c == config[j]:
                    continue
                new_acc = total_acc - acc[j][config[j]] + acc[j][c]
                if floor is not None and new_acc < floor:
                    continue
                trial = loads - cur + problem.times[j][c]
                key = (float(trial.max()), float(trial.sum()))
                if key[0] < best[0] - 1e-12 * max(1.0, best[0]) or (key[0] <= best[0] and key[1] < best[1] - 1e-12 * max(1.0, best[1])):
                    best, move = key, (j, int(c), trial, new_acc)
        if move is None or best[0] > float(loads.max()):
            break
        j, c, loads, total_acc = move  # type: ignore[assignment]
        config[j] = c
    return config


def choose_configs(problem, how: str = "lagrangian", mu=None):
    """A feasible configuration choice by ``how`` (``"lagrangian"``,
    ``"bottleneck"``, ``"first"``); None if the floor is unreachable.
    ``mu``: stage prices for the Lagrangian choice (default: from the LP)."""
    if how not in ("lagrangian", "bottleneck", "first"):
        raise OptionError(f"unknown `configs` {how!r}; use 'lagrangian', 'bottleneck' or 'first'")
    if how == "first" or not problem.has_choice:
        return [0] * problem.n
    base = lagrangian_choice(problem, mu).choice
    if base is None or how == "lagrangian":
        return base
    return bottleneck_relief(problem, base)


def prepare(problem, configs: str):
    """Shared start of the heuristics: an early :class:`MethodResult` (the
    instance is evidently infeasible), or ``(config, bound, which)`` with a
    configuration choice by ``configs`` and the proven objective bound."""
    reason = problem.infeasibility_reason()
    if reason:
        return MethodResult(Status.INFEASIBLE, message=reason)
    bound, which, mu = bound_and_prices(problem)
    config = choose_configs(problem, configs, mu)
    if config is None:
        return MethodResult(Status.INFEASIBLE, message="the accuracy floor cannot be met")
    return config, bound, which
