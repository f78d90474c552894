"""Slot-by-slot simulator of an offloading instance: runs any policy once.

A *policy* is any object with ``decide(view) -> (local, send)``: ``local``
an integer array of shape ``(n_devices,)`` and ``send`` an integer array of
shape ``(n_devices, n_servers)`` (0 where there is no link). An optional
``start(problem, rng)`` is called once before slot 0 with the policy's own
random generator. The simulator checks every decision (bounds, current link
capacities, never more than a queue holds) and computes the costs itself.
Which policy to run is the caller's choice: the registry of policies by name
lives in :mod:`solvers.algorithms.offloading` (``make_policy``); this
module never picks an algorithm.

Randomness comes from three independent streams spawned from ``seed``:
arrivals, link states, and the policy. Arrivals and link states do not
depend on the policy, so two policies run with one seed see the same inputs
(common random numbers).

>>> from formulations.offloading.simulator import simulate  # doctest: +SKIP
>>> result = simulate(problem, policy, slots=10_000, seed=1)  # doctest: +SKIP
>>> result.average_penalty, result.mean_delay_ms, result.stable  # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import InfeasibleAssignmentError

__all__ = ["SlotView", "SimulationResult", "simulate", "drift_check", "stability_verdict", "convergence_verdict", "SERVICES"]

#: Slots of arrivals drawn per call to the arrival generator.
_CHUNK = 512
#: The backlog-growth test: growth over the second half at most this share of its mean ...
GROWTH_SHARE = 0.25
#: A run below p* by more than this share of p* is never converged, whatever its standard error.
CONVERGED_RTOL = 0.02
#: Slots between two looks at the clock under a time limit.
TIME_CHECK_SLOTS = 16


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


@dataclass(frozen=True)
class SimulationResult:
    """Outcome of one simulated run (what an online policy is judged by).

    A run is produced once, by :func:`simulate`; it is never re-derived by
    ``OffloadingProblem.evaluate`` (which evaluates stationary policies
    only) and its cost is never mixed with the LP optimum ``p*``.

    Attributes
    ----------
    average_penalty : float
        Time-average cost per slot (the instance's ``metadata.cost_unit``
        per slot, mJ/slot in the shipped scenarios); also :attr:`objective`.
    average_backlog : float
        Time-average of ``sum_m Q_m(t) + sum_s H_s(t)`` (tasks), sampled at
        the start of slots t = 0..T-1.
    mean_delay_ms : float
        Mean delay per task by Little's law: ``average_backlog / (arrivals
        per slot in this run) x slot_ms``. NaN if nothing arrived.
    measured_delay_ms : float
        Mean delay per task measured from arrivals to completions, over the
        ``completed`` tasks: a task arriving in slot a (it joins its device
        queue at the end of slot a) and completing in slot c (run locally,
        or finished by its server, in slot c) has delay ``(c - a) x
        slot_ms``, the number of slot starts at which it is queued: the
        quantity Little's law relates to the sampled backlog. Queues are
        FIFO; tasks that join one queue in the same slot, and tasks that
        leave one device in the same slot (locally or to servers), are
        exchangeable (they carry their group's mean arrival slot), so the
        value is exact whenever every task completes and otherwise differs
        only in which of those tasks are still queued at the end. The
        within-slot service time is not modelled. NaN if no task completed.
    completed : int
        Tasks that completed during the run.
    stable : bool
        The stability verdict (see :func:`stability_verdict`): False
        whenever the stationary LP says no policy can serve the arrival
        rates; otherwise the backlog-growth test: the least-squares growth
        of the total backlog over the second half of the run (slope x
        length) must be at most ``max(0.25 x its mean over that half, 1 +
        number of queues)`` tasks. ``stability_reason`` says which applied.
    backlog_growth : float
        That least-squares growth (tasks).
    penalty_stderr : float
        Standard error of ``average_penalty`` by 20 batch means.
    per_slot : dict of ndarray
        ``penalty``, ``backlog``, ``arrivals``, ``served``, ``local``,
        ``completed`` (totals per slot).
    per_queue : dict of list
        ``device_mean``, ``server_mean`` (time-average of each queue),
        ``device_final``, ``server_final``.
    series : dict of ndarray, optional
        With ``record_queues=True``: ``Q`` (T+1, n_devices), ``H`` (T+1,
        n_servers), ``A`` and ``served`` (T, n_devices), ``to_server`` (T, n_servers).
    checked : bool
        Every decision was checked (``check=True``); also :attr:`feasible`.
    converged : bool
        The convergence verdict (:func:`convergence_verdict`): stable, and
        the average cost not below ``p*`` by more than ``min(penalty_stderr,
        2% of p*)``. A run cheaper than every stable stationary policy has
        not converged: its queues still hold work it has not paid for.
    convergence_reason : str
    slots_needed : int or None
        When the run is below ``p*``: about how many slots a run would need
        for that deficit (if it stops growing) to fall within its standard
        error and within 2% of ``p*``; None otherwise.
    p_star : float or None
        The stationary LP optimum the run is judged against (None: LP infeasible).
    service : {"fifo", "lifo"}
        Queue discipline of every device and server queue (delays only).
    slots_requested : int
        Slots asked for; ``slots`` is how many ran.
    stopped : str or None
        ``"time_limit"`` when the run stopped at its time limit before ``slots_requested``.
    """

    policy: str
    slots: int
    seed: int
    slot_ms: float
    average_penalty: float
    average_backlog: float
    average_device_backlog: float
    average_server_backlog: float
    mean_delay_ms: float
    measured_delay_ms: float
    completed: int
    stable: bool
    stability_reason: str
    backlog_growth: float
    penalty_stderr: float
    per_slot: dict
    per_queue: dict
    elapsed_s: float
    params: dict = field(default_factory=dict)
    series: dict | None = None
    checked: bool = True
    converged: bool = False
    convergence_reason: str = ""
    slots_needed: int | None = None
    p_star: float | None = None
    service: str = "fifo"
    slots_requested: int | None = None
    stopped: str | None = None

    @property
    def objective(self) -> float:
        """The average penalty (cost per slot) of this run."""
        return self.average_penalty

    @property
    def feasible(self) -> bool:
        """True when the simulator checked every decision of the run."""
        return self.checked

    @property
    def final_backlog(self) -> int:
        """Tasks still queued after the last slot (devices and servers)."""
        return int(sum(self.per_queue["device_final"]) + sum(self.per_queue["server_final"]))

    @property
    def slots_per_s(self) -> float:
        return self.slots / max(self.elapsed_s, 1e-12)

    def to_dict(self, *, series: bool = False) -> dict:
        """JSON-ready summary (NaN delays become None); per-slot series only with ``series=True``."""
        out = {
            "policy": self.policy,
            "params": self.params,
            "slots": self.slots,
            "seed": self.seed,
            "slot_ms": self.slot_ms,
            "average_penalty": self.average_penalty,
            "average_backlog": self.average_backlog,
            "average_device_backlog": self.average_device_backlog,
            "average_server_backlog": self.average_server_backlog,
            "final_backlog": self.final_backlog,
            "mean_delay_ms": _json_float(self.mean_delay_ms),
            "measured_delay_ms": _json_float(self.measured_delay_ms),
            "completed": self.completed,
            "penalty_stderr": _json_float(self.penalty_stderr),
            "stable": self.stable,
            "stability_reason": self.stability_reason,
            "converged": self.converged,
            "convergence_reason": self.convergence_reason,
            "slots_needed": self.slots_needed,
            "p_star": self.p_star,
            "service": self.service,
            "slots_requested": self.slots_requested,
            "stopped": self.stopped,
            "backlog_growth": self.backlog_growth,
            "elapsed_s": self.elapsed_s,
            "per_queue": self.per_queue,
        }
        if series:
            out["per_slot"] = {name: values.tolist() for name, values in self.per_slot.items()}
        return out


def _json_float(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


# ------------------------------------------------------------------ inputs
class _Inputs:
    """Arrivals and link states, drawn independently of the policy.

    Arrivals are drawn :data:`_CHUNK` slots at a time (Poisson, or inverse
    CDF sampling of empirical distributions); link states one slot at a time
    (i.i.d. rows of ``pi``, Markov rows of the transition matrix, or the
    trace replayed cyclically).
    """

    def __init__(self, problem, arrival_rng, link_rng):
        self.arrival_rng, self.link_rng = arrival_rng, link_rng
        self._init_arrivals(problem.devices)
        self._init_link_states(problem)
        self._block = np.zeros((0, problem.n_devices), dtype=np.int64)
        self._block_start = 0

    def _init_arrivals(self, devices) -> None:
        self.poisson_rate = np.array([d.arrivals.rate if d.arrivals.rate is not None else 0.0 for d in devices])
        self.empirical = np.array([i for i, d in enumerate(devices) if d.arrivals.rate is None], dtype=np.int64)
        n_values = max((len(devices[i].arrivals.values) for i in self.empirical), default=1)
        self.empirical_cdf = np.ones((len(self.empirical), n_values))
        self.empirical_values = np.zeros((len(self.empirical), n_values), dtype=np.int64)
        for row, device in enumerate(self.empirical):
            arrivals = devices[device].arrivals
            self.empirical_cdf[row, : len(arrivals.probs)] = np.cumsum(arrivals.probs)
            self.empirical_values[row, : len(arrivals.values)] = arrivals.values
        self.empirical_cdf[:, -1] = np.inf

    def _init_link_states(self, problem) -> None:
        links = problem.links
        n_states = problem.max_states
        self.trace_links = np.array([index for index, link in enumerate(links) if link.trace is not None], dtype=np.int64)
        self.random_links = np.array([index for index, link in enumerate(links) if link.trace is None], dtype=np.int64)
        self.last_state = np.array([links[index].n_states - 1 for index in self.random_links], dtype=np.int64)  # rounding guard
        self.all_iid = all(links[index].transition is None for index in self.random_links)  # i.i.d.: every row is pi
        self.transition_cdf = np.ones((len(self.random_links), n_states, n_states))
        for row, k in enumerate(self.random_links):
            n = links[k].n_states
            self.transition_cdf[row, :n, :n] = np.cumsum(links[k].transition_matrix, axis=1)
        self.transition_cdf[:, :, -1] = np.inf
        self.pi_cdf = np.cumsum(problem.link_pi[self.random_links], axis=1)
        if len(self.random_links):
            self.pi_cdf[:, -1] = np.inf
        longest = max((len(links[index].trace) for index in self.trace_links), default=1)
        self.trace_len = np.array([len(links[index].trace) for index in self.trace_links], dtype=np.int64)
        self.traces = np.zeros((len(self.trace_links), longest), dtype=np.int64)
        for row, k in enumerate(self.trace_links):
            self.traces[row, : len(links[k].trace)] = links[k].trace
        self.state = np.zeros(problem.n_links, dtype=np.int64)

    def arrivals(self, t: int) -> np.ndarray:
        """Tasks arriving at each device in slot ``t`` (slots are asked for in order)."""
        row = t - self._block_start
        if row >= len(self._block):
            self._block_start, row = t, 0
            block = self.arrival_rng.poisson(self.poisson_rate, size=(_CHUNK, len(self.poisson_rate)))
            if len(self.empirical):
                draws = self.arrival_rng.random((_CHUNK, len(self.empirical)))
                index = (draws[:, :, None] >= self.empirical_cdf[None]).sum(axis=2)
                values = np.take_along_axis(self.empirical_values[None].repeat(_CHUNK, 0), index[:, :, None], 2)
                block[:, self.empirical] = values[:, :, 0]
            self._block = block
        return self._block[row]

    def link_states(self, t: int) -> np.ndarray:
        """State index of every link in slot ``t`` (slots are asked for in order)."""
        if len(self.random_links):
            draws = self.link_rng.random(len(self.random_links))
            if t == 0 or self.all_iid:
                cdf = self.pi_cdf
            else:
                cdf = self.transition_cdf[np.arange(len(self.random_links)), self.state[self.random_links]]
            self.state[self.random_links] = np.minimum((draws[:, None] >= cdf).sum(axis=1), self.last_state)
        if len(self.trace_links):
            self.state[self.trace_links] = self.traces[np.arange(len(self.trace_links)), t % self.trace_len]
        return self.state


# ------------------------------------------------------------------ FIFO cohorts (delays)
class _FifoDelays:
    """Delays through FIFO queues, computed a chunk of slots at a time.

    Per slot the run records, for every queue, the tasks that join it
    (``enter_count``, and ``enter_sum``: the sum of their *original* arrival
    slots at the device) and the number that leave it (``leave_count``).
    :meth:`flush` then lines up, per queue, the cohorts still queued and the
    chunk's new cohorts in FIFO order, and reads the sum of arrival slots of
    each slot's leavers off the cumulative counts (one ``searchsorted``).
    Tasks of one cohort are exchangeable: a partly served cohort hands out
    its mean arrival slot. O((cohorts + slots x queues) log cohorts) per
    chunk, all vectorized; the per-slot cost is three row writes.
    """

    def __init__(self, n_queues: int, chunk: int, initial=None):
        self.enter_count = np.zeros((chunk, n_queues), dtype=np.int64)
        self.enter_sum = np.zeros((chunk, n_queues))
        self.leave_count = np.zeros((chunk, n_queues), dtype=np.int64)
        initial = np.zeros(n_queues, dtype=np.int64) if initial is None else np.asarray(initial, dtype=np.int64)
        self.pending_queue = np.flatnonzero(initial > 0)
        self.pending_count = initial[self.pending_queue]
        self.pending_sum = -1.0 * self.pending_count  # initial tasks count as arrived in slot -1

    def flush(self, n_slots: int) -> np.ndarray:
        """``(n_slots, n_queues)`` sums of the arrival slots of the tasks leaving each queue in each slot."""
        entering = self.enter_count[:n_slots].T
        new_queue, new_slot = np.nonzero(entering)  # queue-major, oldest first
        queue = np.concatenate([self.pending_queue, new_queue])
        count = np.concatenate([self.pending_count, entering[new_queue, new_slot]])
        total = np.concatenate([self.pending_sum, self.enter_sum[:n_slots].T[new_queue, new_slot]])
        order = np.argsort(queue, kind="stable")  # per queue: still-queued cohorts, then the chunk's
        queue, count, total = queue[order], count[order], total[order]
        end = np.cumsum(count)
        start = end - count
        ends_before = np.concatenate([[0], end])
        base = ends_before[np.searchsorted(queue, np.arange(entering.shape[0]), side="left")]
        departed = np.cumsum(self.leave_count[:n_slots], axis=0)
        positions = base[None, :] + np.vstack([np.zeros((1, len(base)), dtype=np.int64), departed])
        prefix = np.concatenate([[0.0], np.cumsum(total)])
        mean_slot = np.append(total / np.maximum(count, 1), 0.0)
        cohort = np.searchsorted(end, positions, side="right")  # cohorts wholly before each position
        arrival_prefix = prefix[cohort] + (positions - ends_before[cohort]) * mean_slot[cohort]
        cut = positions[-1][queue]
        kept = np.clip(end - np.maximum(start, cut), 0, count)
        keep = kept > 0
        self.pending_queue, self.pending_count = queue[keep], kept[keep]
        self.pending_sum = (total * kept / np.maximum(count, 1))[keep]
        for buffer in (self.enter_count, self.enter_sum, self.leave_count):
            buffer[:n_slots] = 0
        return np.diff(arrival_prefix, axis=0)


class _LifoDelays:
    """Delays through LIFO queues (same buffers and :meth:`flush` as :class:`_FifoDelays`).

    Per queue a stack of cohorts ``[count, mean arrival slot]``; each slot
    first pops the leavers off the top (newest first), then pushes the
    slot's arrivals. Python work O(active queues + cohorts popped) per slot:
    slower than the FIFO bookkeeping, exact per task up to the
    exchangeability of one cohort.
    """

    def __init__(self, n_queues: int, chunk: int, initial=None):
        self.enter_count = np.zeros((chunk, n_queues), dtype=np.int64)
        self.enter_sum = np.zeros((chunk, n_queues))
        self.leave_count = np.zeros((chunk, n_queues), dtype=np.int64)
        initial = np.zeros(n_queues, dtype=np.int64) if initial is None else np.asarray(initial, dtype=np.int64)
        self.stacks = [[[int(c), -1.0]] if c > 0 else [] for c in initial]  # initial tasks arrived in slot -1

    def _pop(self, stack: list, count: int) -> float:
        total = 0.0
        while count > 0:
            top = stack[-1]
            take = min(count, top[0])
            total += take * top[1]
            count -= take
            top[0] -= take
            if top[0] == 0:
                stack.pop()
        return total

    def flush(self, n_slots: int) -> np.ndarray:
        """``(n_slots, n_queues)`` sums of the arrival slots of the tasks leaving each queue in each slot."""
        out = np.zeros((n_slots, self.leave_count.shape[1]))
        leave, enter, enter_sum = self.leave_count[:n_slots], self.enter_count[:n_slots], self.enter_sum[:n_slots]
        for row in range(n_slots):
            for queue in np.flatnonzero(leave[row] | enter[row]).tolist():
                stack = self.stacks[queue]
                if leave[row, queue]:
                    out[row, queue] = self._pop(stack, int(leave[row, queue]))
                if enter[row, queue]:
                    stack.append([int(enter[row, queue]), float(enter_sum[row, queue] / enter[row, queue])])
        for buffer in (self.enter_count, self.enter_sum, self.leave_count):
            buffer[:n_slots] = 0
        return out


#: Queue disciplines of :func:`simulate`: who leaves a queue first.
SERVICES: dict[str, type[_FifoDelays] | type[_LifoDelays]] = {"fifo": _FifoDelays, "lifo": _LifoDelays}


# ------------------------------------------------------------------ one run
class _Run:
    """The state of one run: queues, cohorts for delays, and per-slot statistics."""

    def __init__(self, problem, slots: int, initial_queues, record_queues: bool, service: str = "fifo"):
        n_devices, n_servers = problem.n_devices, problem.n_servers
        self.problem = problem
        self.device_queue = np.zeros(n_devices, dtype=np.int64)
        self.server_queue = np.zeros(n_servers, dtype=np.int64)
        if initial_queues is not None:
            self.device_queue = np.asarray(initial_queues[0], dtype=np.int64).copy()
            self.server_queue = np.asarray(initial_queues[1], dtype=np.int64).copy()
        self.chunk = min(_CHUNK, slots)
        self.device_fifo: _FifoDelays | _LifoDelays = SERVICES[service](n_devices, self.chunk, self.device_queue)
        self.server_fifo: _FifoDelays | _LifoDelays = SERVICES[service](n_servers, self.chunk, self.server_queue)
        self.local_rows = np.zeros((self.chunk, n_devices), dtype=np.int64)
        self.sent_rows = np.zeros((self.chunk, problem.n_links))
        self.link_to_server = np.zeros((problem.n_links, n_servers))
        self.link_to_server[np.arange(problem.n_links), problem.link_server] = 1.0
        self.dense_capacity = np.zeros((n_devices, n_servers), dtype=np.int64)
        self.dense_cost = np.zeros((n_devices, n_servers))
        self.link_rows = np.arange(problem.n_links)
        self.penalty = np.empty(slots)
        self.device_backlog = np.empty(slots)
        self.server_backlog = np.empty(slots)
        self.arrivals = np.empty(slots, dtype=np.int64)
        self.served = np.empty(slots, dtype=np.int64)
        self.local = np.empty(slots, dtype=np.int64)
        self.completions = np.empty(slots, dtype=np.int64)
        self.device_sum = np.zeros(n_devices)
        self.server_sum = np.zeros(n_servers)
        self.delay_slots_sum = 0.0
        self.series = None
        if record_queues:
            self.series = {
                "Q": np.zeros((slots + 1, n_devices), dtype=np.int64),
                "H": np.zeros((slots + 1, n_servers), dtype=np.int64),
                "A": np.zeros((slots, n_devices), dtype=np.int64),
                "served": np.zeros((slots, n_devices), dtype=np.int64),
                "to_server": np.zeros((slots, n_servers), dtype=np.int64),
                "penalty": self.penalty,
            }

    def view(self, t: int, state: np.ndarray) -> SlotView:
        """The policy's view at the start of slot ``t`` with link states ``state``."""
        problem = self.problem
        capacity_now = problem.link_capacity[self.link_rows, state]
        cost_now = problem.link_cost[self.link_rows, state]
        self.dense_capacity[problem.link_device, problem.link_server] = capacity_now
        self.dense_cost[problem.link_device, problem.link_server] = cost_now
        return SlotView(t, self.device_queue, self.server_queue, problem.local_capacity, self.dense_capacity,
                        self.dense_cost, state, capacity_now, cost_now)

    def step(self, t: int, view: SlotView, local: np.ndarray, send: np.ndarray, arrivals: np.ndarray) -> None:
        """Apply one slot's (checked) decision, then the slot's arrivals; record the statistics."""
        problem = self.problem
        sent_by_link = send[problem.link_device, problem.link_server].astype(float)
        served = local + np.bincount(problem.link_device, weights=sent_by_link, minlength=problem.n_devices).astype(np.int64)
        to_server = np.bincount(problem.link_server, weights=sent_by_link, minlength=problem.n_servers).astype(np.int64)
        finished_at_server = np.minimum(self.server_queue, problem.server_capacity)
        self._record(t, view, local, served, to_server, sent_by_link, arrivals)
        self._track_delays(t, local, served, sent_by_link, to_server, finished_at_server, arrivals)
        self.device_queue = self.device_queue - served + arrivals
        self.server_queue = self.server_queue - finished_at_server + to_server

    def _record(self, t, view, local, served, to_server, sent_by_link, arrivals) -> None:
        self.penalty[t] = float(self.problem.local_cost @ local + view.cost_by_link @ sent_by_link)
        self.device_backlog[t] = self.device_queue.sum()
        self.server_backlog[t] = self.server_queue.sum()
        self.device_sum += self.device_queue
        self.server_sum += self.server_queue
        self.arrivals[t] = arrivals.sum()
        self.served[t] = served.sum()
        self.local[t] = local.sum()
        if self.series is not None:
            self.series["Q"][t], self.series["H"][t] = self.device_queue, self.server_queue
            self.series["A"][t], self.series["served"][t], self.series["to_server"][t] = arrivals, served, to_server

    def _track_delays(self, t, local, served, sent_by_link, to_server, finished_at_server, arrivals) -> None:
        """Record who joins and leaves each FIFO queue this slot; every chunk, the delays of the tasks completing."""
        row = t % self.chunk
        self.device_fifo.leave_count[row] = served
        self.device_fifo.enter_count[row] = arrivals
        self.device_fifo.enter_sum[row] = float(t) * arrivals
        self.server_fifo.leave_count[row] = finished_at_server
        self.server_fifo.enter_count[row] = to_server
        self.local_rows[row] = local
        self.sent_rows[row] = sent_by_link
        self.completions[t] = int(local.sum()) + int(finished_at_server.sum())
        if row == self.chunk - 1 or t == len(self.penalty) - 1:
            self._flush_delays(t - row, row + 1)

    def _flush_delays(self, first_slot: int, n_slots: int) -> None:
        """Delays of the tasks completing in slots ``first_slot .. first_slot + n_slots - 1``.

        The tasks leaving a device in one slot (locally or to servers) are
        exchangeable: each carries the mean arrival slot of that group.
        """
        problem = self.problem
        served = self.device_fifo.leave_count[:n_slots].copy()
        left_sum = self.device_fifo.flush(n_slots)
        mean_arrival = np.divide(left_sum, served, out=np.zeros(left_sum.shape), where=served > 0)
        sent = self.sent_rows[:n_slots]
        self.server_fifo.enter_sum[:n_slots] = (sent * mean_arrival[:, problem.link_device]) @ self.link_to_server
        finished_sum = self.server_fifo.flush(n_slots)
        local = self.local_rows[:n_slots]
        slots = np.arange(first_slot, first_slot + n_slots, dtype=float)
        self.delay_slots_sum += float(slots @ self.completions[first_slot: first_slot + n_slots]) \
            - float((local * mean_arrival).sum()) - float(finished_sum.sum())

    def truncate(self, done: int) -> None:
        """Stop after ``done`` slots (a time limit): flush the partial chunk, cut the per-slot series."""
        row = (done - 1) % self.chunk
        if row != self.chunk - 1:
            self._flush_delays(done - 1 - row, row + 1)
        for name in ("penalty", "device_backlog", "server_backlog", "arrivals", "served", "local", "completions"):
            setattr(self, name, getattr(self, name)[:done])
        if self.series is not None:
            self.series = {name: values[: done + 1] if name in ("Q", "H") else values[:done]
                           for name, values in self.series.items()}
            self.series["penalty"] = self.penalty

    def result(self, policy, slots: int, seed: int, elapsed_s: float, check: bool, **extra) -> SimulationResult:
        """The :class:`SimulationResult` of the finished run of ``slots`` slots (statistics and verdicts)."""
        problem = self.problem
        if self.series is not None:
            self.series["Q"][slots], self.series["H"][slots] = self.device_queue, self.server_queue
        backlog = self.device_backlog + self.server_backlog
        growth, stable, reason = stability_verdict(problem, backlog)
        stderr = _batch_stderr(self.penalty)
        optimum = problem.lp_optimum
        p_star = None if optimum is None else optimum.p_star
        converged, why, needed = convergence_verdict(float(self.penalty.mean()), stderr, slots, p_star, stable)
        completed = int(self.completions.sum())
        arrival_rate = float(self.arrivals.mean())
        little_ms = float(backlog.mean()) / arrival_rate * problem.slot_ms if arrival_rate > 0 else float("nan")
        measured_ms = self.delay_slots_sum / completed * problem.slot_ms if completed else float("nan")
        return SimulationResult(
            policy=getattr(policy, "name", type(policy).__name__),
            params=dict(getattr(policy, "params", {}) or {}),
            slots=int(slots),
            seed=int(seed),
            slot_ms=float(problem.slot_ms),
            average_penalty=float(self.penalty.mean()),
            average_backlog=float(backlog.mean()),
            average_device_backlog=float(self.device_backlog.mean()),
            average_server_backlog=float(self.server_backlog.mean()),
            mean_delay_ms=little_ms,
            measured_delay_ms=measured_ms,
            completed=completed,
            stable=stable,
            stability_reason=reason,
            backlog_growth=growth,
            penalty_stderr=stderr,
            per_slot={"penalty": self.penalty, "backlog": backlog, "arrivals": self.arrivals, "served": self.served,
                      "local": self.local, "completed": self.completions},
            per_queue={
                "device_mean": (self.device_sum / slots).tolist(),
                "server_mean": (self.server_sum / slots).tolist(),
                "device_final": self.device_queue.tolist(),
                "server_final": self.server_queue.tolist(),
            },
            elapsed_s=elapsed_s,
            series=self.series,
            checked=bool(check),
            converged=converged,
            convergence_reason=why,
            slots_needed=needed,
            p_star=p_star,
            **extra,
        )


def _as_int(values, shape, what: str, t: int) -> np.ndarray:
    array = np.asarray(values)
    if array.shape != shape:
        raise InfeasibleAssignmentError(f"slot {t}: `{what}` has shape {array.shape}, expected {shape}")
    if array.dtype.kind not in "iu":
        if array.dtype.kind != "f" or not np.all(array == np.floor(array)):
            raise InfeasibleAssignmentError(f"slot {t}: `{what}` must hold whole numbers of tasks")
        array = array.astype(np.int64)
    return array


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
    time_limit: float | None = None,
    service: str | None = None,
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
        ``(Q(0), H(0))``; zeros by default. Initial tasks count as arrived in slot -1.
    record_queues : bool
        Keep every queue's full series (memory O(T x (devices + servers))).
    check : bool
        Check every decision; a violation raises
        :class:`~formulations.errors.InfeasibleAssignmentError` naming the slot.
    progress : callable, optional
        ``progress(done_slots, slots)``, called about 100 times.
    time_limit : float, optional
        Seconds; the run stops after the first slot that ends past it
        (checked every :data:`TIME_CHECK_SLOTS` slots) and reports the slots
        it simulated (``slots``), ``slots_requested`` and ``stopped =
        "time_limit"``.
    service : {"fifo", "lifo"}, optional
        Queue discipline for the measured delays (default: the policy's
        ``service`` attribute, else ``"fifo"``). The queue lengths, costs
        and decisions do not depend on it; which tasks wait does.

    Returns
    -------
    SimulationResult

    Notes
    -----
    Each slot: link states, the policy's view, its decision (checked), then
    the queue updates and the FIFO cohort bookkeeping for delays.
    O(T x (devices x servers)) time plus the policy's own work, plus one
    HiGHS LP for the stability verdict.
    """
    if isinstance(slots, bool) or not isinstance(slots, (int, np.integer)) or slots <= 0:
        raise ValueError(f"`slots` must be a positive integer, got {slots!r}")
    service = getattr(policy, "service", "fifo") if service is None else service
    if service not in SERVICES:
        raise ValueError(f"`service` must be one of {sorted(SERVICES)}, got {service!r}")
    if time_limit is not None and not time_limit > 0:
        raise ValueError(f"`time_limit` must be a number of seconds > 0, got {time_limit!r}")
    arrival_rng, link_rng, policy_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(3))
    inputs = _Inputs(problem, arrival_rng, link_rng)
    if hasattr(policy, "start"):
        policy.start(problem, policy_rng)
    run = _Run(problem, slots, initial_queues, record_queues, service)
    shape_local, shape_send = (problem.n_devices,), (problem.n_devices, problem.n_servers)
    progress_every = max(1, slots // 100)
    start = time.perf_counter()
    deadline = None if time_limit is None else start + float(time_limit)
    done, stopped = slots, None
    for t in range(slots):
        if deadline is not None and t % TIME_CHECK_SLOTS == 0 and t > 0 and time.perf_counter() >= deadline:
            done, stopped = t, "time_limit"
            run.truncate(done)
            break
        view = run.view(t, inputs.link_states(t))
        local, send = policy.decide(view)
        if check:
            local = _as_int(local, shape_local, "local", t)
            send = _as_int(send, shape_send, "send", t)
            _check(problem, t, view.queues, local, send, view.link_capacity)
        run.step(t, view, local, send, inputs.arrivals(t))
        if progress is not None and (t + 1) % progress_every == 0:
            progress(t + 1, slots)
    return run.result(policy, done, seed, time.perf_counter() - start, check, service=service,
                      slots_requested=int(slots), stopped=stopped)


def _check(problem, t, queues, local, send, capacity) -> None:
    if (local >= 0).all() and (local <= problem.local_capacity).all() and (send >= 0).all() \
            and (send <= capacity).all() and (local + send.sum(axis=1) <= queues).all():
        return
    bad = np.flatnonzero((local < 0) | (local > problem.local_capacity))
    if bad.size:
        device = int(bad[0])
        raise InfeasibleAssignmentError(
            f"slot {t}: device {problem.devices[device].name!r} runs {local[device]} tasks, capacity {problem.local_capacity[device]}"
        )
    bad_pairs = np.argwhere((send < 0) | (send > capacity))
    if bad_pairs.size:
        device, server = (int(x) for x in bad_pairs[0])
        raise InfeasibleAssignmentError(
            f"slot {t}: {send[device, server]} tasks sent {problem.devices[device].name!r} -> server {server}, "
            f"link carries {capacity[device, server]} this slot"
        )
    over = np.flatnonzero(local + send.sum(axis=1) > queues)
    if over.size:
        device = int(over[0])
        raise InfeasibleAssignmentError(f"slot {t}: device {problem.devices[device].name!r} serves more than its {queues[device]} queued tasks")


def stability_verdict(problem, backlog: np.ndarray) -> tuple[float, bool, str]:
    """``(growth, stable, reason)`` of a run with total backlog series ``backlog``.

    1. If the stationary LP says no policy can serve the arrival rates
       (:meth:`OffloadingProblem.infeasibility_reason`, from
       :func:`formulations.offloading.lp.capacity_slack`), the run is
       unstable whatever its backlog did: the queues grow linearly in
       expectation, however slowly.
    2. Otherwise the backlog-growth test: with ``growth`` = least-squares
       slope of the backlog over the second half of the run times that
       half's length (tasks), the run is stable iff ``growth <= max(0.25 x
       mean backlog over the second half, 1 + number of queues)``. A queue
       growing linearly at any rate fails it (its growth over the half is
       2/3 of its mean there); one growing like sqrt(t) fails it too (ratio
       0.29/0.85 > 0.25); a stationary backlog passes up to noise.

    O(T) plus one LP.
    """
    half = backlog[len(backlog) // 2 :]
    growth = 0.0
    if len(half) >= 2:
        growth = float(np.polyfit(np.arange(len(half), dtype=float), half, 1)[0]) * len(half)
    reason = problem.infeasibility_reason()
    if reason is not None:
        return growth, False, f"unstable: {reason}"
    n_queues = problem.n_devices + problem.n_servers
    limit = max(GROWTH_SHARE * float(half.mean()) if len(half) else 0.0, 1.0 + n_queues)
    if growth <= limit:
        return growth, True, f"stable: backlog grew {growth:.4g} tasks over the 2nd half (limit {limit:.4g})"
    return growth, False, f"unstable: backlog grew {growth:.4g} tasks over the 2nd half (limit {limit:.4g})"


def convergence_verdict(average: float, stderr: float, slots: int, p_star: float | None,
                        stable: bool) -> tuple[bool, str, int | None]:
    """``(converged, reason, slots_needed)`` of a run with average cost ``average`` per slot.

    No stable policy averages below ``p*`` in the long run, so a run that
    does (by more than ``tol = min(stderr, CONVERGED_RTOL x |p*|)``; a NaN
    standard error counts as 0) has not converged: its queues hold work it
    has not paid for yet (drift-plus-penalty fills its queues to about ``V``
    times the LP multipliers). An unstable run, or one without a ``p*``
    (LP infeasible), is not converged either.

    ``slots_needed``: if the total deficit ``D = (p* - average) x slots``
    stops growing, a run of ``T'`` slots is ``D / T'`` below ``p*``, its
    standard error about ``stderr x sqrt(slots / T')``; the estimate is the
    least ``T'`` with ``D / T' <= stderr x sqrt(slots / T')`` and ``D / T'
    <= CONVERGED_RTOL x |p*|``: ``slots x max((deficit / stderr)^2, deficit
    / (CONVERGED_RTOL |p*|))``. A lower estimate while the queues still fill.
    """
    if not stable:
        return False, "not converged: the run is not stable", None
    if p_star is None:
        return False, "not converged: no p* (the stationary LP has no optimum)", None
    s = float(stderr) if np.isfinite(stderr) else 0.0
    limit = CONVERGED_RTOL * abs(p_star)
    tol = min(s, limit)
    deficit = p_star - average
    if deficit <= tol:
        return True, f"converged: average cost {average:.6g} is not below p* = {p_star:.6g} by more than {tol:.3g}", None
    factor = deficit / limit if limit > 0 else np.inf
    if s > 0:
        factor = max(factor, (deficit / s) ** 2)
    needed = int(min(np.ceil(slots * factor), np.iinfo(np.int64).max)) if np.isfinite(factor) else None
    return False, (f"not converged: average cost {average:.6g} is {deficit:.4g} ({100 * deficit / abs(p_star):.3g}%) below "
                   f"p* = {p_star:.6g}, more than {tol:.3g} (s.e. {s:.3g}); the queues still hold unpaid work"), needed


def _batch_stderr(values: np.ndarray, batches: int = 20) -> float:
    batch_len = len(values) // batches
    if batch_len < 1:
        return float("nan")
    means = values[: batch_len * batches].reshape(batches, batch_len).mean(axis=1)
    return float(means.std(ddof=1) / np.sqrt(batches))


def drift_check(problem, result: SimulationResult) -> np.ndarray:
    """Per-slot slack of the one-slot Lyapunov drift inequality (>= 0 when it holds).

    With ``L = 1/2 (sum Q^2 + sum H^2)``, every slot satisfies::

        L(t+1) - L(t) <= 1/2 sum_m (A_m - b_m)^2 + 1/2 sum_s (C_s^2 + a_s^2)
                         + sum_m Q_m (A_m - b_m) + sum_s H_s (a_s - C_s)

    (``b`` served, ``a`` arriving at servers). Needs ``record_queues=True``.
    Returns right-hand side minus left-hand side per slot.
    """
    series = result.series
    if series is None:
        raise ValueError("`result` needs record_queues=True")
    Q, H, A, served, to_server = (series[name].astype(float) for name in ("Q", "H", "A", "served", "to_server"))
    capacity = problem.server_capacity.astype(float)
    lyapunov = 0.5 * ((Q**2).sum(axis=1) + (H**2).sum(axis=1))
    lhs = lyapunov[1:] - lyapunov[:-1]
    excess = A - served
    rhs = (0.5 * (excess**2).sum(axis=1) + 0.5 * ((capacity**2).sum() + (to_server**2).sum(axis=1))
           + (Q[:-1] * excess).sum(axis=1) + (H[:-1] * (to_server - capacity)).sum(axis=1))
    return rhs - lhs
