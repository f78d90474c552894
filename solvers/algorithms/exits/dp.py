"""Dynamic programs for exit placement: exact under stated conditions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from formulations.deadline import Deadline
from formulations.errors import OptionError

from ...registry import MethodResult, register
from ...solution import Status
from .._stopping import stopped
from ._common import argbest, best_placement, evaluation_details, reach_counts, score
from .rates import estimate_rates, rate_model_shortlist

__all__ = ["dp", "dp_is_exact", "global_threshold_sweep", "is_nested", "nested_dp", "overlap_counts",
           "pass_matrix", "rates_plan"]


def pass_matrix(problem, tau: np.ndarray) -> np.ndarray:
    """(N, E-1) bool: sample passes early exit ``e`` at threshold ``tau[e]``."""
    return problem.confidence[:, :-1] >= np.asarray(tau, dtype=float)[None, :]


def is_nested(passes: np.ndarray) -> bool:
    """True when every sample passing an early exit passes every later one
    (pass sets nested with depth, e.g. confidence never falls with depth).
    O(N E): each row must be of the form 0..01..1."""
    return bool(np.all(passes[:, 1:] >= passes[:, :-1]))


_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)


def overlap_counts(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``A.T @ B`` for boolean matrices (N, a) and (N, b), by bit packing.

    O(a b N / 8), exact integers, no BLAS threads (steady timings).
    """
    pa = np.packbits(A, axis=0)
    pb = np.packbits(B, axis=0)
    return _POPCOUNT[pa[:, :, None] & pb[:, None, :]].sum(axis=0)


def dp_is_exact(problem) -> bool:
    """The condition under which :func:`dp` is exact: every early exit has a
    fixed threshold and the pass sets are nested. O(N E)."""
    fixed = problem.fixed_thresholds
    if len(fixed) != problem.n_exits - 1:
        return False
    tau = np.array([fixed[e] for e in range(problem.n_exits - 1)], dtype=float)
    return is_nested(pass_matrix(problem, tau))


@dataclass
class _Tables:
    """Per-threshold data of :func:`nested_dp` (prev index ``p``: 0 = no early
    exit kept yet, ``e + 1`` for early exit ``e``)."""

    reach: np.ndarray      # (E,) samples reaching the next exit after p
    cc: np.ndarray         # (E, E-1) correct samples stopping at e after p
    ccf: np.ndarray        # (E,) correct samples reaching the final exit after p
    need: int
    track_c: bool
    saturate: bool
    m_lim: int | None
    M1: int
    m0: int
    lo: np.ndarray
    hi: np.ndarray

    @property
    def width(self) -> np.ndarray:
        return self.hi - self.lo + 1


def _tables(problem, tau: np.ndarray) -> _Tables:
    """Reach and correct counts, and the correct-count window per prev p. O(N E^2)."""
    N, n_exits = problem.n_samples, problem.n_exits
    passes = pass_matrix(problem, tau)
    corr_b = problem.correct.astype(bool)
    good = passes & corr_b[:, :-1]
    Bp = np.concatenate([np.zeros((N, 1), bool), passes], axis=1)
    reach = (N - Bp.sum(axis=0)).astype(float)
    both = overlap_counts(Bp, np.concatenate([good, corr_b[:, -1:]], axis=1))
    cc = good.sum(axis=0)[None, :] - both[:, :-1]
    ccf = int(corr_b[:, -1].sum()) - both[:, -1]
    need = problem.min_correct()
    track_c = need > 0 or problem.objective == "accuracy"
    saturate = problem.objective == "latency"
    m_lim = problem.constraints.get("max_exits")
    track_m = m_lim is not None and m_lim < n_exits - 1
    if track_c:
        later = np.flip(np.logical_or.accumulate(np.flip(corr_b, 1), 1), 1)  # correct at e or later
        maxadd = np.r_[later[:, 0].sum(), [(~passes[:, e] & later[:, e + 1]).sum() for e in range(n_exits - 1)]]
        stopped = N - reach
        lo = np.maximum(0, need - maxadd).astype(np.int64)
        hi = np.minimum(stopped, need if saturate else N).astype(np.int64)
        hi[0] = 0
    else:
        lo = np.zeros(n_exits, np.int64)
        hi = np.zeros(n_exits, np.int64)
    return _Tables(reach, cc, ccf, need, track_c, saturate, m_lim, m_lim + 1 if track_m else 1,
                   1 if track_m else 0, lo, hi)


def _advance(V: dict, i: int, reach, bms, cum, n_nodes: int):
    """Place block ``i`` on every node from every state: ``(U, args)``. O(k^2) array ops per p."""
    U, args = {}, {}
    for p, Vp in V.items():
        Up = np.empty_like(Vp)
        arg = np.empty(Vp.shape, dtype=np.int8)
        cand = np.empty_like(Vp[0])
        better = np.empty(cand.shape, dtype=bool)
        for n2 in range(n_nodes):
            best = Up[n2]
            np.add(Vp[n2], reach[p] * bms[i, n2], out=best)  # stay on n2
            a = arg[n2]
            a.fill(n2)
            for n in range(n2):  # move from n to n2: cross links n..n2-1
                np.add(Vp[n], reach[p] * (cum[i, n2] - cum[i, n] + bms[i, n2]), out=cand)
                np.less(cand, best, out=better)
                np.copyto(best, cand, where=better)
                np.copyto(a, n, where=better)
        U[p], args[p] = Up, arg
    return U, args


def _keep_exit(U: dict, e: int, t: _Tables, head_ms: np.ndarray, n_nodes: int):
    """States after keeping early exit ``e`` (new prev ``e + 1``), with their
    sources ``(src_p, src_c)``."""
    best = np.full((n_nodes, t.M1, int(t.width[e + 1])), np.inf)
    src_p = np.zeros(best.shape, dtype=np.int16)
    src_c = np.zeros(best.shape, dtype=np.int64)
    L, H = int(t.lo[e + 1]), int(t.hi[e + 1])
    sat = t.saturate and t.track_c
    M1, m0 = t.M1, t.m0
    for p, Up in U.items():
        s = int(t.cc[p, e]) if t.track_c else 0
        val = Up[:, : M1 - m0] + t.reach[p] * head_ms[:, None, None]  # keep: m -> m + m0, c -> c + s
        c_lo, c_hi = int(t.lo[p]), int(t.hi[p])
        a, b = max(c_lo, L - s), min(c_hi, H - s - (1 if sat else 0))
        if a <= b:  # one source per target
            src = val[..., a - c_lo : b - c_lo + 1]
            dst = best[:, m0:, a + s - L : b + s - L + 1]
            bet = src < dst
            np.copyto(dst, src, where=bet)
            np.copyto(src_p[:, m0:, a + s - L : b + s - L + 1], p, where=bet)
            np.copyto(src_c[:, m0:, a + s - L : b + s - L + 1], np.arange(a, b + 1), where=bet)
        a = max(c_lo, H - s)
        if sat and a <= c_hi:  # every count >= c_min is one saturated state
            sub = val[..., a - c_lo : c_hi - c_lo + 1]
            which = np.argmin(sub, axis=-1)
            v = np.take_along_axis(sub, which[..., None], axis=-1)[..., 0]
            dst = best[:, m0:, H - L]
            bet = v < dst
            best[:, m0:, H - L] = np.where(bet, v, dst)
            src_p[:, m0:, H - L] = np.where(bet, p, src_p[:, m0:, H - L])
            src_c[:, m0:, H - L] = np.where(bet, a + which, src_c[:, m0:, H - L])
    return best, src_p, src_c


def _end_state(problem, V: dict, t: _Tables):
    """Best final state ``(p, j)`` (``j``: index in p's window) meeting the
    constraints, or None. Correct count ``c = lo[p] + j + ccf[p]``."""
    N = problem.n_samples
    cands = []
    for p, Vp in V.items():
        c_end = t.lo[p] + np.arange(int(t.width[p])) + (int(t.ccf[p]) if t.track_c else 0)
        vals = Vp.min(axis=(0, 1))
        for j in np.nonzero(np.isfinite(vals))[0]:
            c = int(c_end[j]) if t.track_c else 0
            if c < t.need or not problem.latency_ok(float(vals[j]) / N):
                continue
            key = (-c, 0.0) if problem.objective == "accuracy" else (float(vals[j]), 0.0)
            cands.append((key, p, j))
    if not cands:
        return None
    _, p, j = min(cands)
    return p, int(j)


def _backtrack(problem, V, p, j, t: _Tables, node_choice, exit_choice, exit_at):
    """Placement and kept set of the state ``(p, j)`` at the end. O(K)."""
    n_blocks, n_nodes, n_exits = problem.n_blocks, problem.n_nodes, problem.n_exits
    n, m = np.unravel_index(int(np.argmin(V[p][..., j])), (n_nodes, t.M1))
    n, m = int(n), int(m)  # type: ignore[assignment]
    place = np.zeros(n_blocks, dtype=np.int64)
    kept = np.zeros(n_exits, dtype=bool)
    kept[-1] = True
    for i in range(n_blocks - 1, -1, -1):
        e = exit_at.get(i)
        if e is not None and e < n_exits - 1 and p == e + 1:
            kept[e] = True
            src_p, src_c = exit_choice[i]
            p_prev, c_prev = int(src_p[n, m, j]), int(src_c[n, m, j])
            m -= t.m0
            p, j = p_prev, c_prev - int(t.lo[p_prev])
        place[i] = n
        n = int(node_choice[i][p][n, m, j])  # type: ignore[assignment]
    return place, kept


def nested_dp(problem, tau: np.ndarray):
    """Best placement and kept set for fixed thresholds ``tau`` (one per early exit).

    States after block ``i``: (node, previous kept exit, kept count, correct
    count). Who reaches an exit is taken to depend only on the previous kept
    exit ``p`` (``N - |pass_p|`` samples), and the samples stopping at ``e``
    are ``pass_e \\ pass_p``: exact when the pass sets are nested
    (:func:`is_nested`), a surrogate otherwise.

    The correct count is kept only when accuracy matters, and only in a
    window per ``p``: at most the samples stopped so far, at least
    ``c_min`` minus the most that the remaining samples can still add, and
    (latency objective) saturated at ``c_min`` since more is not better.

    Returns
    -------
    (placement, kept) or None
        None when no plan meets the constraints (under the model above).

    Notes
    -----
    O(K k^2 E M C) time and O(K k E M C) bytes, with ``C <= N + 1`` the
    window width when accuracy matters (``accuracy_min`` or the accuracy
    objective), else 1, and ``M = max_exits + 1`` when ``max_exits < E - 1``,
    else 1.
    """
    n_exits, n_blocks, n_nodes = problem.n_exits, problem.n_blocks, problem.n_nodes
    t = _tables(problem, tau)
    exit_at = {int(b): e for e, b in enumerate(problem.exit_block)}
    bms, ems = problem.block_ms, problem.exit_ms
    cum = np.concatenate([np.zeros((n_blocks, 1)), np.cumsum(problem.cross_ms, axis=1)], axis=1)
    V = {}
    if t.width[0] > 0:
        V[0] = np.full((n_nodes, t.M1, int(t.width[0])), np.inf)
        V[0][0, 0, 0] = 0.0
    node_choice, exit_choice = [], {}
    for i in range(n_blocks):
        U, args = _advance(V, i, t.reach, bms, cum, n_nodes)
        node_choice.append(args)
        e = exit_at.get(i)
        if e is None:
            V = U
            continue
        if e == n_exits - 1:  # final exit: forced, every remaining sample stops
            V = {p: Up + t.reach[p] * ems[e][:, None, None] for p, Up in U.items()}
            break
        # early exit e: drop (rows unchanged) or keep (new row p = e + 1)
        if t.width[e + 1] > 0 and (t.m_lim is None or t.m_lim > 0):
            best, src_p, src_c = _keep_exit(U, e, t, ems[e], n_nodes)
            U[e + 1] = best
            exit_choice[i] = (src_p, src_c)
        V = U
    end = _end_state(problem, V, t)
    if end is None:
        return None
    return _backtrack(problem, V, end[0], end[1], t, node_choice, exit_choice, exit_at)


def global_threshold_sweep(problem, place: np.ndarray, kept: np.ndarray, tau: np.ndarray):
    """Best single threshold shared by the kept exits without a fixed one.

    Placement, kept set and fixed thresholds stay; every breakpoint (a
    confidence where some sample's stop exit changes) is tried.

    Returns
    -------
    tau : (E,) thresholds (the shared value filled in)

    Notes
    -----
    Exact for that restricted choice. O(N E log(N E)): a sample's stop exit
    for threshold ``t`` is the first free kept exit with ``conf >= t`` before
    its fixed fallback, so it changes only at prefix maxima of its free
    confidences; events are sorted once and totals kept by prefix sums.
    """
    n_exits, N = problem.n_exits, problem.n_samples
    fixed = problem.fixed_thresholds
    free = np.array([kept[e] and e not in fixed for e in range(n_exits - 1)] + [False])
    tau = np.array(tau, dtype=float)
    if not free.any():
        return tau
    conf = problem.confidence
    corr = problem.correct.astype(np.int64)
    lat = problem.exit_latency_ms(place, kept)
    # fallback stop: first kept fixed exit passed, else final
    fb_pass = np.zeros((N, n_exits), dtype=bool)
    for e, t in fixed.items():
        if kept[e]:
            fb_pass[:, e] = conf[:, e] >= t
    fb_pass[:, -1] = True
    fallback = np.argmax(fb_pass, axis=1)
    # records: free exits before the fallback whose conf beats all earlier free ones
    cols = np.nonzero(free)[0]
    vals = conf[:, cols]
    before = cols[None, :] < fallback[:, None]
    vals = np.where(before, vals, -np.inf)
    prefix = np.maximum.accumulate(np.concatenate([np.full((N, 1), -np.inf), vals[:, :-1]], axis=1), axis=1)
    record = before & (vals > prefix)
    # for each record, the stop it replaces: the next record in exit order, else fallback
    nxt = np.tile(fallback[:, None], (1, len(cols)))
    for j in range(len(cols) - 2, -1, -1):
        nxt[:, j] = np.where(record[:, j + 1], cols[j + 1], nxt[:, j + 1])
    s_idx, j_idx = np.nonzero(record)
    v = vals[s_idx, j_idx]
    to = cols[j_idx]
    frm = nxt[s_idx, j_idx]
    d_lat = lat[to] - lat[frm]
    d_cor = corr[s_idx, to] - corr[s_idx, frm]
    order = np.argsort(-v, kind="stable")
    v, d_lat, d_cor = v[order], d_lat[order], d_cor[order]
    base_lat = float(lat[fallback].sum())
    base_cor = int(corr[np.arange(N), fallback].sum())
    tot_lat = base_lat + np.cumsum(d_lat)
    tot_cor = base_cor + np.cumsum(d_cor)
    last = np.r_[v[1:] != v[:-1], True] if len(v) else np.zeros(0, bool)
    cand_t = np.r_[np.inf, v[last]]
    cand_lat = np.r_[base_lat, tot_lat[last]]
    cand_cor = np.r_[base_cor, tot_cor[last]]
    viol, obj = score(problem, cand_lat, cand_cor)
    j = argbest(viol, obj)
    t = cand_t[j]
    if not np.isfinite(t):  # nobody stops at a free exit: a threshold above every confidence
        t = float(np.nextafter(conf[:, cols].max(), np.inf))
    tau[cols] = t
    return tau


def rates_plan(problem, tau: np.ndarray, width: int = 8):
    """Placement and kept set from LEIME's rate model with rates and accuracies
    estimated on the samples at thresholds ``tau`` (:func:`~.rates.estimate_rates`).

    The model optimum under the instance's objective and constraints (exact
    for the model, :func:`~.rates.rate_model_plan`) and up to ``width - 1``
    of its neighbours on the model's latency/accuracy front
    (:func:`~.rates.rate_model_shortlist`) are measured on the samples at
    ``tau``; the best there wins (feasible first, then objective). A
    heuristic on sample data. O(N E width + K k^2 M P log P).
    """
    rates, accuracies = estimate_rates(problem, tau)
    c = problem.constraints
    plans = rate_model_shortlist(problem, rates, accuracies, objective=problem.objective,
                                 accuracy_min=c.get("accuracy_min"), latency_max_ms=c.get("latency_max_ms"),
                                 max_exits=c.get("max_exits"), width=width)
    sign = 1.0 if problem.sense == "min" else -1.0

    def key(plan):
        full_tau = np.r_[np.where(plan.kept[:-1], tau, np.inf), -np.inf]
        res = problem.measure(problem.assignment(plan.placement, plan.kept, full_tau))
        return (not res.feasible, sign * res.objective)

    best = min(plans, key=key)
    return best.placement, best.kept


def _grid(problem, size: int = 8) -> np.ndarray:
    free = [e for e in range(problem.n_exits - 1) if problem.exits[e].threshold is None]
    if not free:
        return np.array([np.nan])
    vals = problem.confidence[:, free].ravel()
    return np.unique(np.quantile(vals, np.linspace(0.3, 0.95, size), method="inverted_cdf"))


@register("exits", "dp", exact=False, default=True)
def dp(problem, *, deadline: Deadline | None = None, grid: int = 8, model: str = "samples") -> MethodResult:
    """Dynamic program over (block, node, last kept exit); exact for fixed nested thresholds.

    Exactness condition: every early exit has a fixed ``threshold`` in the
    instance and the pass sets are nested (every sample passing an early
    exit passes every later one; e.g. confidence never falls with depth).
    Then who reaches an exit depends only on the previous kept exit, and
    placement, kept exits and split are a shortest path over (block, node,
    last exit) states, with the accuracy floor handled exactly by a correct-
    count dimension and ``max_exits`` by a kept-count dimension
    (:func:`nested_dp`; O(K k^2 E M C)). Status ``optimal``, bound = value.

    The default method of the kind: it answers in milliseconds where
    ``exact`` (CP-SAT, on request) may take a minute on 1000 samples.

    Otherwise a heuristic (status ``feasible``, with the Lagrangian bound
    of :func:`~.bound.lagrangian_bound`): free thresholds
    are set to one global value from ``grid`` quantiles of the confidences,
    the DP runs with pairwise (surrogate) reach counts, the plan is
    re-measured exactly, and the shared threshold of the best plan is then
    optimized over all its breakpoints by :func:`global_threshold_sweep`
    (O(N E log(N E))), exact for that kept set and placement.

    With ``model="rates"`` the plan comes from LEIME's rate model instead
    (:func:`rates_plan`): each exit's exit rate is its pass fraction on the
    samples and its accuracy the fraction correct among those passing, taken
    as independent of earlier exits; the model optimum under the instance's
    objective, accuracy floor, latency limit and ``max_exits``
    (:func:`~.rates.rate_model_plan`, a Pareto DP, O(K k^2 M P log P), exact
    for the model) and its neighbours on the model's front are measured on
    the samples and the best kept. On the samples a heuristic (``feasible``).

    Parameters
    ----------
    grid : int
        Number of global threshold values tried (heuristic mode).
    model : {"samples", "rates"}
    deadline : Deadline, optional
        Checked before each grid value: past it, status ``time_limit`` with
        the best plan so far (no bound).
    """
    deadline = Deadline.of(deadline)
    reason = problem.infeasibility_reason()
    if reason:
        return MethodResult(Status.INFEASIBLE, message=reason)
    n_exits = problem.n_exits
    fixed = problem.fixed_thresholds
    all_fixed = len(fixed) == n_exits - 1
    best: tuple | None = None
    best_key = None
    nested = False
    for g in _grid(problem, grid):
        if deadline.expired():
            plan = None if best is None or not best[3].feasible else problem.assignment(*best[:3])
            return stopped("between grid values", plan)
        tau = np.array([fixed.get(e, g) for e in range(n_exits - 1)], dtype=float)
        if all_fixed:
            nested = is_nested(pass_matrix(problem, tau))
        if model == "rates":
            out = rates_plan(problem, tau)
            nested = False
        elif model == "samples":
            out = nested_dp(problem, tau)
        else:
            raise OptionError(f"`model` must be 'samples' or 'rates', got {model!r}")
        if out is None:
            if all_fixed and nested and model == "samples":
                return MethodResult(Status.INFEASIBLE, message="no plan meets the constraints (exact DP: fixed nested thresholds)")
            continue
        place, kept = out
        full_tau = np.r_[np.where(kept[:-1], tau, np.inf), -np.inf]
        if not all_fixed:
            full_tau = global_threshold_sweep(problem, place, kept, full_tau)
            full_tau = np.where(kept, full_tau, np.inf)
            full_tau[-1] = -np.inf
            stop = problem.stop_exits(kept, full_tau)
            place, _ = best_placement(problem, kept, reach_counts(problem, stop))
        res = problem.measure(problem.assignment(place, kept, full_tau))
        key = (not res.feasible, res.objective if problem.sense == "min" else -res.objective)
        if best_key is None or key < best_key:
            best_key, best = key, (place, kept, full_tau, res)
    if best is None or not best[3].feasible:
        return MethodResult(Status.UNKNOWN, message="heuristic DP found no feasible plan (no proof of infeasibility)")
    place, kept, full_tau, res = best
    assignment = problem.assignment(place, kept, full_tau)
    if all_fixed and nested and model == "samples":
        return MethodResult(Status.OPTIMAL, assignment, bound=res.objective,
                            message="exact DP: fixed thresholds with nested exit sets",
                            details=evaluation_details(problem, assignment))
    why = ("rate model (independent exit rates)" if model == "rates" else
           "pass sets not nested" if all_fixed else "free thresholds (global-threshold heuristic)")
    from .bound import lagrangian_bound  # the proven bound a heuristic reports (O(P N E))

    return MethodResult(Status.FEASIBLE, assignment, bound=lagrangian_bound(problem),
                        message=f"heuristic DP: {why}; bound: Lagrangian relaxation",
                        details=evaluation_details(problem, assignment))
