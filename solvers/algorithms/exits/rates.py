"""LEIME's rate model: per-exit exit rates and accuracies, independent of earlier exits.

Under the model a kept early exit ``e`` stops a fraction ``rates[e]`` of the
samples that reach it, and the samples it stops are correct with probability
``accuracies[e]``; the final exit stops every sample reaching it, correct with
probability ``accuracies[-1]``. Both are assumed independent of which exits
come before. The fraction reaching exit ``e`` is then
``R_e = prod(1 - rates[f] for kept f < e)``, and for a placement and kept set

* expected latency (ms) = ``sum_e stop_e * latency_e`` with ``stop_e = R_e rates[e]``
  at kept early exits and ``R_final`` at the final exit;
* expected accuracy = ``sum_e stop_e * accuracies[e]``.

:func:`rate_model_plan` optimizes either objective exactly under the model,
with the accuracy floor, ``max_exits`` and ``latency_max_ms``;
:func:`rate_model_dp` is its fast special case without accuracies.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from formulations.errors import OptionError
from formulations.exits import LATENCY_RTOL

from ._common import placements

__all__ = [
    "ACCURACY_ATOL",
    "RatePlan",
    "estimate_rates",
    "rate_model_accuracy",
    "rate_model_brute_force",
    "rate_model_dp",
    "rate_model_enumerate",
    "rate_model_front",
    "rate_model_latency",
    "rate_model_plan",
    "rate_model_shortlist",
]

#: Absolute tolerance of the expected-accuracy floor under the model (float
#: summation order differs between the DP and a direct evaluation).
ACCURACY_ATOL = 1e-9


@dataclass(frozen=True)
class RatePlan:
    """A plan with its expected latency (ms) and accuracy under the rate model."""

    placement: np.ndarray
    kept: np.ndarray
    latency_ms: float
    accuracy: float


def _reach(kept: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """(E,) fraction of samples reaching each exit: product of (1 - rate) over kept exits before."""
    stay = np.where(kept[:-1], 1.0 - rates, 1.0)
    return np.concatenate(([1.0], np.cumprod(stay)))


def _stop(kept: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """(E,) fraction of samples stopping at each exit under the rate model."""
    reach = _reach(kept, rates)
    stop = reach * np.where(kept, np.r_[rates, 1.0], 0.0)
    stop[-1] = reach[-1]
    return stop


def rate_model_latency(problem, rates, placement, kept) -> float:
    """Expected latency (ms) of a plan under the rate model.

    A sample reaching kept early exit ``e`` stops there with probability
    ``rates[e]``, independently of the exits before; so the fraction reaching
    exit ``e`` is the product of ``1 - rates[f]`` over kept ``f < e``. O(K k + E).
    """
    kept = np.asarray(kept, dtype=bool)
    stop = _stop(kept, np.asarray(rates, dtype=float))
    return float(stop @ problem.exit_latency_ms(np.asarray(placement), kept))


def rate_model_accuracy(rates, accuracies, kept) -> float:
    """Expected accuracy of a kept set under the rate model (independent of placement).

    ``sum_e stop_e * accuracies[e]`` with the stop fractions of
    :func:`rate_model_latency`. O(E).
    """
    kept = np.asarray(kept, dtype=bool)
    return float(_stop(kept, np.asarray(rates, dtype=float)) @ np.asarray(accuracies, dtype=float))


def _check_model(problem, rates, accuracies) -> tuple[np.ndarray, np.ndarray]:
    E = problem.n_exits
    rates = np.asarray(rates, dtype=float)
    accuracies = np.zeros(E) if accuracies is None else np.asarray(accuracies, dtype=float)
    if rates.shape != (E - 1,) or not np.all((rates >= 0) & (rates <= 1)):
        raise OptionError(f"`rates` must hold {E - 1} values in [0, 1] (one per early exit), got {rates.tolist()}")
    if accuracies.shape != (E,) or not np.all((accuracies >= 0) & (accuracies <= 1)):
        raise OptionError(f"`accuracies` must hold {E} values in [0, 1] (one per exit, final last), "
                         f"got {accuracies.tolist()}")
    return rates, accuracies


def estimate_rates(problem, tau) -> tuple[np.ndarray, np.ndarray]:
    """Rates and accuracies of the rate model, estimated from the samples.

    Parameters
    ----------
    tau : (E - 1,) or (E,) float
        Threshold per early exit (a trailing final-exit entry is ignored).

    Returns
    -------
    rates : (E - 1,) float
        Fraction of all samples with ``confidence >= tau[e]`` at exit ``e``.
    accuracies : (E,) float
        Fraction correct among those samples (0 when none pass), and the
        accuracy of the final exit over all samples.

    Notes
    -----
    O(N E). Each exit is measured on all samples, as if it were the only
    one: the model's independence assumption, not a property of the data.
    """
    E = problem.n_exits
    tau = np.asarray(tau, dtype=float)[: E - 1]
    passes = problem.confidence[:, :-1] >= tau[None, :]
    corr = problem.correct.astype(bool)
    n_pass = passes.sum(axis=0)
    good = (passes & corr[:, :-1]).sum(axis=0)
    acc = np.divide(good, n_pass, out=np.zeros(E - 1), where=n_pass > 0)
    return passes.mean(axis=0), np.r_[acc, corr[:, -1].mean()]


def _meets(latency_ms: float, accuracy: float, accuracy_min, latency_max_ms) -> bool:
    ok_acc = accuracy_min is None or accuracy >= accuracy_min - ACCURACY_ATOL
    ok_lat = latency_max_ms is None or latency_ms <= latency_max_ms + LATENCY_RTOL * max(1.0, latency_max_ms)
    return ok_acc and ok_lat


def _pick(candidates, objective: str, accuracy_min, latency_max_ms):
    """The best (latency_ms, accuracy, payload) meeting the constraints, or None."""
    if objective not in ("latency", "accuracy"):
        raise OptionError(f"`objective` must be 'latency' or 'accuracy', got {objective!r}")
    ok = [c for c in candidates if _meets(c[0], c[1], accuracy_min, latency_max_ms)]
    if not ok:
        return None
    key = (lambda c: (c[0], -c[1])) if objective == "latency" else (lambda c: (-c[1], c[0]))
    return min(ok, key=key)


def _prune(points: list) -> list:
    """Pareto front of (latency, accuracy, trace) points: lower latency, higher accuracy."""
    points.sort(key=lambda p: (p[0], -p[1]))
    out, best_acc = [], -np.inf
    for p in points:
        if p[1] > best_acc:
            out.append(p)
            best_acc = p[1]
    return out


def rate_model_front(problem, rates, accuracies, *, max_exits: int | None = None) -> list[RatePlan]:
    """Every Pareto-optimal (expected latency, expected accuracy) plan under the rate model.

    Backward DP over (block, node, exits still allowed) whose states hold
    Pareto fronts of per-unit (cost to go, accuracy to come) pairs for the
    samples still running: moving to node ``n' >= n`` and running block
    ``i`` adds ``cross + ms(i, n')`` to the cost; at an early exit ``e`` on
    ``n'`` a pair ``(V, A)`` is kept as is (exit dropped) or becomes
    ``(ms_e(n') + (1 - r_e) V, r_e a_e + (1 - r_e) A)`` (kept, one allowance
    used); the final exit starts the pair ``(ms_final(n'), a_final)``.

    Returns
    -------
    list of RatePlan
        Sorted by latency; each plan's accuracy is strictly higher than
        that of every faster one.

    Notes
    -----
    Exact for the rate model, for any rates and accuracies: both maps above
    are nondecreasing in ``V`` and in ``A`` (``1 - r_e >= 0``), so a pair
    dominated at a state stays dominated in every completion and pruning
    it loses no Pareto-optimal plan. O(K k^2 M P log P) time, ``M =
    max_exits + 1`` when ``max_exits < E - 1`` (else 1), ``P`` the largest front, at most
    the number of kept subsets ``2^(E - 1)`` but in practice small; with
    all accuracies equal (or omitted) ``P = 1`` and this is
    :func:`rate_model_dp`.
    """
    rates, accuracies = _check_model(problem, rates, accuracies)
    K, k, E = problem.n_blocks, problem.n_nodes, problem.n_exits
    track = max_exits is not None and max_exits < E - 1  # else no allowance dimension
    M1 = max(0, max_exits) + 1 if track else 1  # type: ignore[operator, type-var]
    step = 1 if track else 0
    exit_at = {int(b): e for e, b in enumerate(problem.exit_block)}
    bms, ems = problem.block_ms, problem.exit_ms
    cum = np.concatenate([np.zeros((K, 1)), np.cumsum(problem.cross_ms, axis=1)], axis=1)
    # F[n][m]: front after block i - 1 on node n, m exits still allowed; a trace
    # is (node of block i, exit after block i kept, trace of block i + 1)
    F = [[[] for _ in range(M1)] for _ in range(k)]  # type: ignore[var-annotated]
    for i in range(K - 1, -1, -1):
        e = exit_at.get(i)
        W = [[None] * M1 for _ in range(k)]  # (V, A, keep) pairs from block i's exit on
        for n2 in range(k):
            for m in range(M1):
                if e == E - 1:
                    W[n2][m] = [(ems[e, n2], accuracies[e], False, None)]  # type: ignore[call-overload]
                    continue
                pts = [(V, A, False, tr) for V, A, tr in F[n2][m]]
                if e is not None and m >= step:
                    r = rates[e]
                    pts += [(ems[e, n2] + (1 - r) * V, r * accuracies[e] + (1 - r) * A, True, tr)
                            for V, A, tr in F[n2][m - step]]
                W[n2][m] = pts  # type: ignore[call-overload]
        F = [[_prune([(cum[i, n2] - cum[i, n] + bms[i, n2] + V, A, (n2, keep, tr))
                      for n2 in range(n, k) for V, A, keep, tr in W[n2][m]])  # type: ignore[attr-defined]
              for m in range(M1)] for n in range(k)]
    plans = []
    for V, A, tr in F[0][M1 - 1]:
        place = np.zeros(K, dtype=np.int64)
        kept = np.zeros(E, dtype=bool)
        kept[-1] = True
        for i in range(K):
            place[i], keep, tr = tr
            if keep:
                kept[exit_at[i]] = True
        plans.append(RatePlan(place, kept, float(V), float(A)))
    return plans


def rate_model_plan(problem, rates, accuracies=None, *, objective: str = "latency",
                    accuracy_min: float | None = None, latency_max_ms: float | None = None,
                    max_exits: int | None = None) -> RatePlan | None:
    """Optimal placement and kept exits under the rate model.

    Objective ``"latency"``: minimize expected latency subject to expected
    accuracy ``>= accuracy_min`` (within :data:`ACCURACY_ATOL`); objective
    ``"accuracy"``: maximize expected accuracy subject to expected latency
    ``<= latency_max_ms``; both with at most ``max_exits`` early exits.
    Either constraint may be given with either objective.

    Parameters
    ----------
    rates : (E - 1,) float in [0, 1]
        Exit rate of each early exit (fraction of the samples reaching it that stop).
    accuracies : (E,) float in [0, 1], optional
        Accuracy of each exit among the samples it stops, final exit last;
        required for an accuracy floor or objective (without them the
        returned plan's ``accuracy`` is NaN).

    Returns
    -------
    RatePlan or None
        None when no plan meets the constraints under the model (a proof,
        for the model).

    Notes
    -----
    Exact for the rate model: the optimum is a point of the Pareto front
    (a plan off the front is beaten in both measures by one on it), and
    :func:`rate_model_front` returns the whole front exactly. Without an
    accuracy floor and with the latency objective it runs
    :func:`rate_model_dp`, O(K k^2 M); otherwise O(K k^2 M P log P) with
    ``P`` the front size (see :func:`rate_model_front`). On sample data the
    model's independence rarely holds, so a plan from estimated rates
    (:func:`estimate_rates`) is a heuristic there.
    """
    if accuracies is None and (objective == "accuracy" or accuracy_min is not None):
        raise OptionError("`accuracies` are needed for an accuracy floor or the accuracy objective")
    if objective == "latency" and accuracy_min is None and latency_max_ms is None:
        rates, acc = _check_model(problem, rates, accuracies)
        place, kept, value = rate_model_dp(problem, rates, max_exits=max_exits)
        accuracy = float("nan") if accuracies is None else rate_model_accuracy(rates, acc, kept)
        return RatePlan(place, kept, value, accuracy)
    front = rate_model_front(problem, rates, accuracies, max_exits=max_exits)
    best = _pick([(p.latency_ms, p.accuracy, p) for p in front], objective, accuracy_min, latency_max_ms)
    return None if best is None else best[2]


def rate_model_shortlist(problem, rates, accuracies, *, objective: str = "latency",
                         accuracy_min: float | None = None, latency_max_ms: float | None = None,
                         max_exits: int | None = None, width: int = 8) -> list[RatePlan]:
    """The model optimum and its nearest neighbours on the Pareto front, for the samples to judge.

    Same arguments as :func:`rate_model_plan`. The first plan is the model
    optimum (when no plan meets the constraints under the model: the most
    accurate plan for the latency objective, the fastest for the accuracy
    objective); then front points by distance along the front, up to
    ``width`` plans. Without an accuracy floor or limit under the latency
    objective there is one plan (:func:`rate_model_dp`). Cost as
    :func:`rate_model_front`.
    """
    if objective == "latency" and accuracy_min is None and latency_max_ms is None:
        return [rate_model_plan(problem, rates, accuracies, max_exits=max_exits)]  # type: ignore[list-item]
    front = rate_model_front(problem, rates, accuracies, max_exits=max_exits)
    best = _pick([(p.latency_ms, p.accuracy, j) for j, p in enumerate(front)], objective, accuracy_min, latency_max_ms)
    j = best[2] if best is not None else (len(front) - 1 if objective == "latency" else 0)
    order = sorted(range(len(front)), key=lambda i: (abs(i - j), i))
    return [front[i] for i in order[: max(1, width)]]


def rate_model_dp(problem, rates, *, max_exits: int | None = None):
    """Placement and kept exits minimizing expected latency under the rate model.

    Backward DP over (block, node[, kept count]): the cost still to come is
    proportional to the fraction of samples still running, so per unit of
    that fraction ``V(i, n) = min_{n' >= n} [cross + ms(i+1, n') + W]`` where
    at an exit ``W = min(V(i+1, n'), head(n') + (1 - r) V(i+1, n'))`` (drop or
    keep) and at the final exit ``W = head(n')``.

    Exact for the rate model (LEIME's exit setting with given per-exit exit
    rates, latency objective, optional ``max_exits``, no accuracy floor: see
    :func:`rate_model_plan` for that); on sample data whose exits are not
    independent it is a heuristic. O(K k^2 M) time.

    Returns
    -------
    placement : (K,) int
    kept : (E,) bool
    expected_ms : float
    """
    rates = np.asarray(rates, dtype=float)
    K, k, E = problem.n_blocks, problem.n_nodes, problem.n_exits
    M1 = (E - 1 if max_exits is None else min(max_exits, E - 1)) + 1
    eb = problem.exit_block
    exit_at = {int(eb[e]): e for e in range(E)}
    bms, ems = problem.block_ms, problem.exit_ms
    cum = np.concatenate([np.zeros((K, 1)), np.cumsum(problem.cross_ms, axis=1)], axis=1)
    # V[n, m]: per-unit cost to go after block i on node n with m exits still allowed
    V = np.zeros((k, M1))
    choice_node = np.zeros((K, k, M1), dtype=np.int64)
    choice_keep = np.zeros((K, k, M1), dtype=bool)
    for i in range(K - 1, -1, -1):
        e = exit_at.get(i)
        W = np.full((k, M1), np.inf)  # cost from "block i placed on n'" onward
        keep = np.zeros((k, M1), dtype=bool)
        for n2 in range(k):
            if e == E - 1:
                W[n2] = ems[e, n2]
            elif e is None:
                W[n2] = V[n2]
            else:
                W[n2] = V[n2]
                kept_val = ems[e, n2] + (1 - rates[e]) * V[n2, :-1]  # uses one allowance
                better = kept_val < W[n2, 1:]
                W[n2, 1:] = np.where(better, kept_val, W[n2, 1:])
                keep[n2, 1:] = better
        newV = np.full((k, M1), np.inf)
        for n in range(k):
            for n2 in range(n, k):
                cand = cum[i, n2] - cum[i, n] + bms[i, n2] + W[n2]
                better = cand < newV[n]
                newV[n] = np.where(better, cand, newV[n])
                choice_node[i, n] = np.where(better, n2, choice_node[i, n])
        choice_keep[i] = keep
        V = newV
    n, m = 0, M1 - 1
    place = np.zeros(K, dtype=np.int64)
    kept = np.zeros(E, dtype=bool)
    kept[-1] = True
    for i in range(K):
        n2 = int(choice_node[i, n, m])
        place[i] = n2
        if choice_keep[i, n2, m]:
            kept[exit_at[i]] = True
            m -= 1
        n = n2
    return place, kept, float(V[0, M1 - 1])


def _all_plans(problem, max_exits: int | None):
    """Yield (placement, kept) for every kept set within ``max_exits`` x every placement."""
    E = problem.n_exits
    limit = E - 1 if max_exits is None else max_exits
    for r in range(max(0, min(limit, E - 1)) + 1):
        for subset in itertools.combinations(range(E - 1), r):
            kept = np.zeros(E, dtype=bool)
            kept[list(subset)] = True
            kept[-1] = True
            for p in placements(problem):
                yield np.array(p), kept


def rate_model_enumerate(problem, rates, *, max_exits: int | None = None):
    """Every kept set x every placement under the rate model (the test oracle of :func:`rate_model_dp`)."""
    best = None
    for p, kept in _all_plans(problem, max_exits):
        v = rate_model_latency(problem, rates, p, kept)
        if best is None or v < best[2]:
            best = (p, kept, v)
    return best


def rate_model_brute_force(problem, rates, accuracies, *, objective: str = "latency",
                           accuracy_min: float | None = None, latency_max_ms: float | None = None,
                           max_exits: int | None = None) -> RatePlan | None:
    """:func:`rate_model_plan` by enumerating every (kept set, placement): the test oracle.

    O(2^(E-1) C(K + k - 1, k - 1) (K k + E)).
    """
    cands = []
    for p, kept in _all_plans(problem, max_exits):
        lat, acc = rate_model_latency(problem, rates, p, kept), rate_model_accuracy(rates, accuracies, kept)
        cands.append((lat, acc, RatePlan(p, kept, lat, acc)))
    best = _pick(cands, objective, accuracy_min, latency_max_ms)
    return None if best is None else best[2]
