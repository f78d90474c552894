"""A lower bound on the mean delay of ANY online policy whose average cost is within a factor of ``p*``.

:func:`delay_lower_bound` answers "how little delay can any policy have at
this cost?" for an offloading instance: a property of the instance, not of
a policy, against which ``dpp`` and ``fqla`` are judged
(``benchmarks/bound_offloading_delay.py``, ``docs/offloading.md``).

Method (a relaxation, then weak duality)
----------------------------------------
1. *Decouple the devices.* Drop the servers' capacities (a relaxation: any
   policy of the real system is a policy of the relaxed one). A device's queue
   then depends only on its own arrivals, its own links' Markov states and its
   own decisions, and its cost is its own; other devices' states are
   independent of them, so a joint policy acts on device ``m`` as a (randomized,
   history-dependent) single-device policy.
2. *Lagrangian per device.* For a price ``eta >= 0`` (tasks per mJ), solve the
   single-device average-cost MDP ``g_m(eta) = min E[Q_m] + eta E[cost_m]``
   over states (queue length, joint link state). Serving ``k`` tasks in a slot
   is done cheapest option first (local runs and the links' current states,
   each up to its capacity), so the action is ``k``. Arrivals are the device's
   distribution; tasks above ``Q_max`` are discarded for free and the Poisson
   tail beyond ``a_max`` is moved onto ``a_max`` (both only lower backlog and
   cost: still a relaxation). Relative value iteration gives, at every
   iterate ``h``, ``min(Th - h) <= g_m(eta)`` (the standard bracket); that
   lower end is what is used, so stopping early never overstates the bound.
   The objective also counts the server backlog a device causes: the
   simulator records queues at the start of a slot, so a task sent in slot
   ``t`` is in its server's queue at ``t + 1``: at least one task-slot of
   server backlog per task sent (exact while the server keeps up).
   So ``g_m(eta) = min E[Q_m] + E[sent_m] + eta E[cost_m]``.
3. *Weak duality.* Any policy with total cost ``C <= (1 + within) p*`` has
   ``sum_m E[Q_m] + E[H] >= sum_m g_m(eta) - eta (1 + within) p*`` for every
   ``eta``; the best ``eta`` on a grid is kept.
4. *Little's law* (the simulator's ``mean_delay_ms``): mean delay per task
   ``>= (sum_m E[Q_m] + E[H]) / sum_m lambda_m x slot_ms``.

The bound is for the stationary regime; the benchmark's runs start from empty
queues (their 20,000-slot averages include the fill-up, which lowers the
measured backlog slightly below the stationary one). ``E[Q]`` is the queue at
decision time, which has the same stationary mean as the backlog the simulator
records after each slot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product

import numpy as np

__all__ = ["DelayBound", "delay_lower_bound", "Q_MAX"]

#: Queue cap of the per-device MDP (tasks above it are discarded for free: a relaxation).
Q_MAX = 2000
#: Relative value iteration stops when the bracket on g is this tight (relative) or after MAX_ITER.
TOL = 1e-4
MAX_ITER = 20_000


@dataclass(frozen=True)
class DelayBound:
    """What :func:`delay_lower_bound` proves.

    Attributes
    ----------
    backlog : float
        Lower bound on the long-run mean number of tasks queued (devices + servers, tasks).
    delay_ms : float
        Lower bound on the mean delay per task (ms), by Little's law.
    eta : float
        The price (tasks per cost unit) at which the bound was found.
    budget : float
        The cost allowed per slot, ``(1 + within) p*``.
    per_eta : dict
        Every price tried and its bound on the backlog (tasks).
    """

    backlog: float
    delay_ms: float
    eta: float
    budget: float
    per_eta: dict


def arrival_pmf(device, tail: float = 1e-12) -> np.ndarray:
    """Arrivals per slot as a pmf over 0..a_max (the tail beyond a_max moved onto a_max)."""
    arr = device.arrivals
    if getattr(arr, "values", None):
        values = np.asarray(arr.values, dtype=int)
        pmf = np.zeros(values.max() + 1)
        np.add.at(pmf, values, np.asarray(arr.probs, dtype=float))
        return pmf
    lam = float(arr.mean)
    a_max = int(lam + 20 * math.sqrt(lam) + 20)
    k = np.arange(a_max + 1)
    logp = -lam + k * math.log(lam) - np.array([math.lgamma(i + 1) for i in k]) if lam > 0 else np.where(k == 0, 0.0, -np.inf)
    pmf = np.exp(logp)
    pmf[-1] += max(0.0, 1.0 - pmf.sum())
    return pmf / pmf.sum() if pmf.sum() > 1 else pmf


def device_model(problem, m: int):
    """(joint transition matrix, per joint state the options ``(cost, capacity, is_link)`` with capacity > 0)."""
    device = problem.devices[m]
    links = [link for link in problem.links if link.device == device.name]
    P = np.ones((1, 1))
    for link in links:
        P = np.kron(P, link.transition_matrix)
    options = []
    for states in product(*[range(link.n_states) for link in links]):
        here = [(device.local_cost, device.local_capacity, 0)]
        here += [(link.costs[s], link.capacities[s], 1) for link, s in zip(links, states)]
        options.append(tuple(o for o in here if o[1] > 0))
    return P, tuple(options)


def serve_costs(options, eta: float) -> list[np.ndarray]:
    """Per state, the least ``eta x cost + tasks sent to a server`` of serving k = 0, 1, ... tasks.

    A task sent in slot t is in its server's queue when slot t+1 is recorded
    (the simulator records queues at the start of a slot), so each sent task
    adds at least one task-slot of server backlog: the ``+ 1`` of a link.
    Cheapest first is optimal for a separable linear cost with capacities.
    """
    out = []
    for here in options:
        costs = [0.0]
        for unit, cap in sorted((eta * c + is_link, cap) for c, cap, is_link in here):
            costs += [costs[-1] + unit * (i + 1) for i in range(cap)]
        out.append(np.array(costs))
    return out


def device_value(P, options, pmf, eta: float, q_max: int = Q_MAX) -> tuple[float, float, int]:
    """Bracket ``(lo, hi)`` of ``g(eta) = min E[Q] + E[sent] + eta E[cost]`` by relative value iteration, and iterations."""
    cum = serve_costs(options, eta)
    n_s = len(cum)
    q = np.arange(q_max + 1, dtype=float)
    h = np.zeros((n_s, q_max + 1))
    a_max = len(pmf) - 1
    lo = hi = 0.0
    for it in range(1, MAX_ITER + 1):
        padded = np.concatenate([h, np.repeat(h[:, -1:], a_max, axis=1)], axis=1)
        after = sum(pmf[a] * padded[:, a:a + q_max + 1] for a in range(a_max + 1) if pmf[a] > 0)
        W = P @ after  # W[s, r]: expected value after serving down to r, given state s now
        Th = np.empty_like(h)
        for s in range(n_s):
            best = W[s].copy()  # k = 0
            for k in range(1, len(cum[s])):
                cand = cum[s][k] + W[s, :-k] if k <= q_max else None
                if cand is None:
                    break
                np.minimum(best[k:], cand, out=best[k:])
            Th[s] = q + best
        diff = Th - h
        lo, hi = float(diff.min()), float(diff.max())
        h = Th - Th[0, 0]
        if hi - lo <= TOL * max(1.0, abs(hi)):
            break
    return lo, hi, it


def delay_lower_bound(problem, within: float = 0.01, etas=None, progress=None, q_max: int = Q_MAX) -> DelayBound:
    """Lower bound on the mean delay of every policy with average cost ``<= (1 + within) p*``.

    Parameters
    ----------
    problem : OffloadingProblem
    within : float
        Cost allowance over the stationary LP's ``p*`` (0.01 = 1%).
    etas : sequence of float, optional
        Prices (tasks per cost unit) to try; default nine a log grid around
        ``n_devices / p*``. Any price gives a valid bound; the best is kept.
    progress : callable, optional
        Called as ``progress(eta, backlog_bound, iterations)`` after each price.
    q_max : int
        Queue cap of the per-device MDP (tasks beyond it are discarded for
        free, so any cap gives a valid bound; a larger cap a tighter one at
        high prices).

    Returns
    -------
    DelayBound

    Notes
    -----
    Per price and per distinct device: relative value iteration on
    ``(Q_MAX + 1) x (joint link states)`` states, O(iterations x states x
    (arrival support + capacity)). Seconds to minutes for the shipped scenarios.
    """
    budget = (1.0 + within) * problem.lp_optimum.p_star
    if etas is None:
        scale = max(len(problem.devices), 1) / max(problem.lp_optimum.p_star, 1e-9)
        etas = [scale * f for f in np.geomspace(0.1, 1000, 9)]
    budget = (1.0 + within) * problem.lp_optimum.p_star
    groups: dict = {}  # identical devices share one MDP
    for m, device in enumerate(problem.devices):
        P, options = device_model(problem, m)
        pmf = arrival_pmf(device)
        key = (P.tobytes(), options, pmf.tobytes())
        groups.setdefault(key, [P, options, pmf, 0])[3] += 1
    best = {"backlog": -math.inf, "eta": float("nan")}
    tried = {}
    for eta in etas:
        total, iters = 0.0, 0
        for P, options, pmf, count in groups.values():
            lo, _, it = device_value(P, options, pmf, eta, q_max)
            total += count * lo
            iters = max(iters, it)
        value = total - eta * budget
        tried[float(eta)] = value
        if progress is not None:
            progress(eta, value, iters)
        if value > best["backlog"]:
            best = {"backlog": value, "eta": float(eta)}
    backlog = max(best["backlog"], 0.0)
    rate = float(problem.rates.sum())
    delay = backlog / rate * problem.slot_ms if rate > 0 else 0.0
    return DelayBound(backlog=backlog, delay_ms=delay, eta=best["eta"], budget=budget, per_eta=tried)


