"""Slot-by-slot simulator of an offloading instance; replays any policy.

A *policy* is any object with ``decide(view) -> (local, send)``: ``local``
an integer array of shape ``(n_devices,)`` and ``send`` an integer array of
shape ``(n_devices, n_servers)`` (0 where there is no link). An optional
``start(problem, rng)`` is called once before slot 0 with the policy's own
random generator. The simulator checks every decision (bounds, current link
capacities, never more than a queue holds) and computes the costs itself.

Randomness comes from three independent streams spawned from ``seed``:
arrivals, link states, and the policy. Arrivals and link states do not
depend on the policy, so two policies run with one seed see the same inputs
(common random numbers).

>>> from formulations.offloading.simulator import simulate  # doctest: +SKIP
>>> result = simulate(problem, policy, slots=10_000, seed=1)  # doctest: +SKIP
>>> result.average_penalty, result.average_backlog, result.stable  # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from ..errors import InfeasibleAssignmentError

__all__ = ["SlotView", "SimulationResult", "simulate", "replay", "register_policy", "POLICIES", "drift_check"]

#: policy name -> factory ``f(problem, **params) -> policy``; filled by
#: :mod:`solvers.algorithms.offloading` on import (the formulation never picks an algorithm).
POLICIES: dict[str, Callable[..., Any]] = {}

_CHUNK = 512


def register_policy(name: str, factory: Callable[..., Any]) -> None:
    """Make ``factory(problem, **params)`` available to :func:`replay` as ``name``."""
    POLICIES[name] = factory


@dataclass
class SlotView:
    """What a policy sees at the start of slot ``t`` (read-only arrays).

    Attributes
    ----------
    t : int
    queues : ndarray (n_devices,)
        ``Q_m(t)``, tasks waiting at each device.
    server_queues : ndarray (n_servers,)
        ``H_s(t)``, tasks waiting at each server.
    local_capacity : ndarray (n_devices,)
    link_capacity : ndarray (n_devices, n_servers)
        Tasks each link can carry this slot (0 without a link).
    link_cost : ndarray (n_devices, n_servers)
        Cost per task sent this slot.
    link_state : ndarray (n_links,)
        Current state index of each link (instance order).
    capacity_by_link, cost_by_link : ndarray (n_links,)
        ``link_capacity`` and ``link_cost`` per link, in instance order.
    """

    t: int
    queues: np.ndarray
    server_queues: np.ndarray
    local_capacity: np.ndarray
    link_capacity: np.ndarray
    link_cost: np.ndarray
    link_state: np.ndarray
    capacity_by_link: np.ndarray
    cost_by_link: np.ndarray


@dataclass
class SimulationResult:
    """Outcome of one simulated run.

    Attributes
    ----------
    average_penalty : float
        Time-average cost per slot.
    average_backlog : float
        Time-average of ``sum_m Q_m(t) + sum_s H_s(t)`` (tasks), t = 0..T-1.
    stable : bool
        Whether the queues look stable: the least-squares growth of the total
        backlog over the second half of the run is at most
        ``max(0.25 x its mean, 1 + number of queues)`` tasks.
    penalty_stderr : float
        Standard error of ``average_penalty`` by 20 batch means.
    per_slot : dict of ndarray
        ``penalty``, ``backlog``, ``arrivals``, ``served``, ``local`` (totals per slot).
    per_queue : dict of list
        ``device_mean``, ``server_mean`` (time-average of each queue),
        ``device_final``, ``server_final``.
    series : dict of ndarray, optional
        With ``record_queues=True``: ``Q`` (T+1, n_devices), ``H`` (T+1,
        n_servers), ``A`` and ``served`` (T, n_devices), ``to_server`` (T, n_servers).
    """

    policy: str
    slots: int
    seed: int
    average_penalty: float
    average_backlog: float
    average_device_backlog: float
    average_server_backlog: float
    stable: bool
    backlog_growth: float
    penalty_stderr: float
    per_slot: dict
    per_queue: dict
    elapsed_s: float
    params: dict = field(default_factory=dict)
    series: dict | None = None

    @property
    def objective(self) -> float:
        """The average penalty (what :meth:`OffloadingProblem.evaluate` reports)."""
        return self.average_penalty

    @property
    def final_backlog(self) -> int:
        """Tasks still queued after the last slot (devices and servers)."""
        return int(sum(self.per_queue["device_final"]) + sum(self.per_queue["server_final"]))

    @property
    def slots_per_s(self) -> float:
        return self.slots / max(self.elapsed_s, 1e-12)

    def to_dict(self, *, series: bool = False) -> dict:
        """JSON-ready summary; per-slot series only with ``series=True``."""
        out = {
            "policy": self.policy,
            "params": self.params,
            "slots": self.slots,
            "seed": self.seed,
            "average_penalty": self.average_penalty,
            "average_backlog": self.average_backlog,
            "average_device_backlog": self.average_device_backlog,
            "average_server_backlog": self.average_server_backlog,
            "final_backlog": self.final_backlog,
            "penalty_stderr": self.penalty_stderr,
            "stable": self.stable,
            "backlog_growth": self.backlog_growth,
            "elapsed_s": self.elapsed_s,
            "per_queue": self.per_queue,
        }
        if series:
            out["per_slot"] = {k: v.tolist() for k, v in self.per_slot.items()}
        return out


class _Inputs:
    """Arrivals and link states, drawn independently of the policy."""

    def __init__(self, problem, arrival_rng, link_rng):
        self.p = problem
        self.arng, self.lrng = arrival_rng, link_rng
        devs = problem.devices
        self.rate = np.array([d.arrivals.rate if d.arrivals.rate is not None else 0.0 for d in devs])
        self.emp = np.array([i for i, d in enumerate(devs) if d.arrivals.rate is None], dtype=np.int64)
        k = max((len(devs[i].arrivals.values) for i in self.emp), default=1)
        self.emp_cum = np.ones((len(self.emp), k))
        self.emp_val = np.zeros((len(self.emp), k), dtype=np.int64)
        for r, i in enumerate(self.emp):
            a = devs[i].arrivals
            self.emp_cum[r, : len(a.probs)] = np.cumsum(a.probs)
            self.emp_val[r, : len(a.values)] = a.values
        self.emp_cum[:, -1] = np.inf
        links = problem.links
        self.trace_idx = np.array([k for k, l in enumerate(links) if l.trace is not None], dtype=np.int64)
        self.markov_idx = np.array([k for k, l in enumerate(links) if l.trace is None], dtype=np.int64)
        self.last_state = np.array([links[k].n_states - 1 for k in self.markov_idx], dtype=np.int64)  # rounding guard
        self.all_iid = all(links[k].transition is None for k in self.markov_idx)  # i.i.d.: every row is pi
        w = problem.max_states
        self.cum = np.ones((len(self.markov_idx), w, w))
        for r, k in enumerate(self.markov_idx):
            n = links[k].n_states
            self.cum[r, :n, :n] = np.cumsum(links[k].transition_matrix, axis=1)
        self.cum[:, :, -1] = np.inf
        self.pi_cum = np.cumsum(problem.link_pi[self.markov_idx], axis=1) if len(self.markov_idx) else np.zeros((0, w))
        if len(self.markov_idx):
            self.pi_cum[:, -1] = np.inf
        tl = max((len(links[k].trace) for k in self.trace_idx), default=1)
        self.trace_len = np.array([len(links[k].trace) for k in self.trace_idx], dtype=np.int64)
        self.trace = np.zeros((len(self.trace_idx), tl), dtype=np.int64)
        for r, k in enumerate(self.trace_idx):
            self.trace[r, : len(links[k].trace)] = links[k].trace
        self.state = np.zeros(problem.n_links, dtype=np.int64)
        self._block = np.zeros((0, problem.n_devices), dtype=np.int64)
        self._start = 0

    def arrivals(self, t: int) -> np.ndarray:
        r = t - self._start
        if r >= len(self._block):
            self._start, r = t, 0
            block = self.arng.poisson(self.rate, size=(_CHUNK, len(self.rate)))
            if len(self.emp):
                u = self.arng.random((_CHUNK, len(self.emp)))
                idx = (u[:, :, None] >= self.emp_cum[None]).sum(axis=2)
                block[:, self.emp] = np.take_along_axis(self.emp_val[None].repeat(_CHUNK, 0), idx[:, :, None], 2)[:, :, 0]
            self._block = block
        return self._block[r]

    def link_states(self, t: int) -> np.ndarray:
        if len(self.markov_idx):
            u = self.lrng.random(len(self.markov_idx))
            if t == 0 or self.all_iid:
                rows = self.pi_cum
            else:
                rows = self.cum[np.arange(len(self.markov_idx)), self.state[self.markov_idx]]
            self.state[self.markov_idx] = np.minimum((u[:, None] >= rows).sum(axis=1), self.last_state)
        if len(self.trace_idx):
            self.state[self.trace_idx] = self.trace[np.arange(len(self.trace_idx)), t % self.trace_len]
        return self.state


def _as_int(x, shape, what: str, t: int) -> np.ndarray:
    arr = np.asarray(x)
    if arr.shape != shape:
        raise InfeasibleAssignmentError(f"slot {t}: `{what}` has shape {arr.shape}, expected {shape}")
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind != "f" or not np.all(arr == np.floor(arr)):
            raise InfeasibleAssignmentError(f"slot {t}: `{what}` must hold whole numbers of tasks")
        arr = arr.astype(np.int64)
    return arr


def simulate(
    problem,
    policy,
    *,
    slots: int,
    seed: int = 0,
    initial_queues=None,
    record_queues: bool = False,
    check: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Run ``policy`` on ``problem`` for ``slots`` slots with a fixed ``seed``.

    Parameters
    ----------
    problem : OffloadingProblem
    policy
        An object with ``decide(view) -> (local, send)`` (see module doc).
    slots : int
        Number of slots T (> 0).
    seed : int
        Same seed, same inputs: arrivals and link states do not depend on the policy.
    initial_queues : (array, array), optional
        ``(Q(0), H(0))``; zeros by default.
    record_queues : bool
        Keep every queue's full series (memory O(T x (devices + servers))).
    check : bool
        Check every decision; a violation raises
        :class:`~formulations.errors.InfeasibleAssignmentError` naming the slot.
    progress : callable, optional
        ``progress(done_slots, slots)``, called about 100 times.

    Returns
    -------
    SimulationResult

    Notes
    -----
    O(T x (devices x servers)) time plus the policy's own work.
    """
    if isinstance(slots, bool) or not isinstance(slots, (int, np.integer)) or slots <= 0:
        raise ValueError(f"`slots` must be a positive integer, got {slots!r}")
    p = problem
    m_n, s_n = p.n_devices, p.n_servers
    ss = np.random.SeedSequence(int(seed))
    a_rng, l_rng, p_rng = (np.random.default_rng(s) for s in ss.spawn(3))
    inputs = _Inputs(p, a_rng, l_rng)
    if hasattr(policy, "start"):
        policy.start(p, p_rng)
    Q = np.zeros(m_n, dtype=np.int64)
    H = np.zeros(s_n, dtype=np.int64)
    if initial_queues is not None:
        Q = np.asarray(initial_queues[0], dtype=np.int64).copy()
        H = np.asarray(initial_queues[1], dtype=np.int64).copy()
    ld, ls = p.link_device, p.link_server
    lcap, lcost = p.link_capacity, p.link_cost
    rows = np.arange(p.n_links)
    cap_dense = np.zeros((m_n, s_n), dtype=np.int64)
    cost_dense = np.zeros((m_n, s_n))
    C = p.server_capacity
    pen = np.empty(slots)
    backlog_q = np.empty(slots)
    backlog_h = np.empty(slots)
    arr_tot = np.empty(slots, dtype=np.int64)
    srv_tot = np.empty(slots, dtype=np.int64)
    loc_tot = np.empty(slots, dtype=np.int64)
    q_sum = np.zeros(m_n)
    h_sum = np.zeros(s_n)
    series = None
    if record_queues:
        series = {
            "Q": np.zeros((slots + 1, m_n), dtype=np.int64),
            "H": np.zeros((slots + 1, s_n), dtype=np.int64),
            "A": np.zeros((slots, m_n), dtype=np.int64),
            "served": np.zeros((slots, m_n), dtype=np.int64),
            "to_server": np.zeros((slots, s_n), dtype=np.int64),
            "penalty": pen,
        }
    step = max(1, slots // 100)
    start = time.perf_counter()
    for t in range(slots):
        state = inputs.link_states(t)
        cap_now = lcap[rows, state]
        cost_now = lcost[rows, state]
        cap_dense[ld, ls] = cap_now
        cost_dense[ld, ls] = cost_now
        view = SlotView(t, Q, H, p.local_capacity, cap_dense, cost_dense, state, cap_now, cost_now)
        local, send = policy.decide(view)
        if check:
            local = _as_int(local, (m_n,), "local", t)
            send = _as_int(send, (m_n, s_n), "send", t)
            _check(p, t, Q, local, send, cap_dense)
        send_l = send[ld, ls].astype(float)  # per link; with check=True nothing is sent elsewhere
        served = local + np.bincount(ld, weights=send_l, minlength=m_n).astype(np.int64)
        to_server = np.bincount(ls, weights=send_l, minlength=s_n).astype(np.int64)
        A = inputs.arrivals(t)
        pen[t] = float(p.local_cost @ local + cost_now @ send_l)
        backlog_q[t] = Q.sum()
        backlog_h[t] = H.sum()
        q_sum += Q
        h_sum += H
        arr_tot[t] = A.sum()
        srv_tot[t] = served.sum()
        loc_tot[t] = local.sum()
        if series is not None:
            series["Q"][t], series["H"][t] = Q, H
            series["A"][t], series["served"][t], series["to_server"][t] = A, served, to_server
        Q = Q - served + A
        H = np.maximum(H - C, 0) + to_server
        if progress is not None and (t + 1) % step == 0:
            progress(t + 1, slots)
    elapsed = time.perf_counter() - start
    if series is not None:
        series["Q"][slots], series["H"][slots] = Q, H
    backlog = backlog_q + backlog_h
    growth, stable = _stability(backlog, m_n + s_n)
    return SimulationResult(
        policy=getattr(policy, "name", type(policy).__name__),
        params=dict(getattr(policy, "params", {}) or {}),
        slots=int(slots),
        seed=int(seed),
        average_penalty=float(pen.mean()),
        average_backlog=float(backlog.mean()),
        average_device_backlog=float(backlog_q.mean()),
        average_server_backlog=float(backlog_h.mean()),
        stable=stable,
        backlog_growth=growth,
        penalty_stderr=_batch_stderr(pen),
        per_slot={"penalty": pen, "backlog": backlog, "arrivals": arr_tot, "served": srv_tot, "local": loc_tot},
        per_queue={
            "device_mean": (q_sum / slots).tolist(),
            "server_mean": (h_sum / slots).tolist(),
            "device_final": Q.tolist(),
            "server_final": H.tolist(),
        },
        elapsed_s=elapsed,
        series=series,
    )


def _check(p, t, Q, local, send, cap_dense) -> None:
    if (local >= 0).all() and (local <= p.local_capacity).all() and (send >= 0).all() and (send <= cap_dense).all() \
            and (local + send.sum(axis=1) <= Q).all():
        return
    bad = np.flatnonzero((local < 0) | (local > p.local_capacity))
    if bad.size:
        m = int(bad[0])
        raise InfeasibleAssignmentError(f"slot {t}: device {p.devices[m].name!r} runs {local[m]} tasks, capacity {p.local_capacity[m]}")
    bad = np.argwhere((send < 0) | (send > cap_dense))
    if bad.size:
        m, s = (int(x) for x in bad[0])
        raise InfeasibleAssignmentError(
            f"slot {t}: {send[m, s]} tasks sent {p.devices[m].name!r} -> server {s}, link carries {cap_dense[m, s]} this slot"
        )
    over = np.flatnonzero(local + send.sum(axis=1) > Q)
    if over.size:
        m = int(over[0])
        raise InfeasibleAssignmentError(f"slot {t}: device {p.devices[m].name!r} serves more than its {Q[m]} queued tasks")


def _stability(backlog: np.ndarray, n_queues: int) -> tuple[float, bool]:
    half = backlog[len(backlog) // 2 :]
    if len(half) < 2:
        return 0.0, True
    x = np.arange(len(half), dtype=float)
    slope = float(np.polyfit(x, half, 1)[0])
    growth = slope * len(half)
    return growth, bool(growth <= max(0.25 * float(half.mean()), 1.0 + n_queues))


def _batch_stderr(values: np.ndarray, batches: int = 20) -> float:
    n = len(values) // batches
    if n < 1:
        return float("nan")
    means = values[: n * batches].reshape(batches, n).mean(axis=1)
    return float(means.std(ddof=1) / np.sqrt(batches))


def replay(problem, spec: Mapping[str, Any]) -> SimulationResult:
    """Replay an online run ``{"policy": name, "params": {...}, "slots": T, "seed": s}``.

    The policy is built by the factory registered under ``name`` (see
    :func:`register_policy`). Used by ``OffloadingProblem.evaluate``.
    """
    name = spec.get("policy")
    if name not in POLICIES:
        raise InfeasibleAssignmentError(f"unknown policy {name!r}; registered: {sorted(POLICIES)} (import solvers.algorithms.offloading)")
    policy = POLICIES[name](problem, **dict(spec.get("params") or {}))
    return simulate(problem, policy, slots=int(spec.get("slots", 10_000)), seed=int(spec.get("seed", 0)))


def drift_check(problem, result: SimulationResult) -> np.ndarray:
    """Per-slot slack of the one-slot Lyapunov drift inequality (>= 0 when it holds).

    With ``L = 1/2 (sum Q^2 + sum H^2)``, every slot satisfies::

        L(t+1) - L(t) <= 1/2 sum_m (A_m - b_m)^2 + 1/2 sum_s (C_s^2 + a_s^2)
                         + sum_m Q_m (A_m - b_m) + sum_s H_s (a_s - C_s)

    (``b`` served, ``a`` arriving at servers). Needs ``record_queues=True``.
    Returns right-hand side minus left-hand side per slot.
    """
    s = result.series
    if s is None:
        raise ValueError("`result` needs record_queues=True")
    Q, H, A, b, a = (s[k].astype(float) for k in ("Q", "H", "A", "served", "to_server"))
    C = problem.server_capacity.astype(float)
    L = 0.5 * ((Q**2).sum(axis=1) + (H**2).sum(axis=1))
    lhs = L[1:] - L[:-1]
    d = A - b
    rhs = 0.5 * (d**2).sum(axis=1) + 0.5 * ((C**2).sum() + (a**2).sum(axis=1)) + (Q[:-1] * d).sum(axis=1) + (H[:-1] * (a - C)).sum(axis=1)
    return rhs - lhs
