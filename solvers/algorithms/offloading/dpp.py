"""Drift-plus-penalty (Lyapunov) controller for online offloading."""

from __future__ import annotations

import numpy as np

from formulations.deadline import Deadline
from formulations.errors import OptionError
from formulations.offloading.simulator import SlotView

from ...registry import MethodResult, register
from ...solution import Status
from ._actions import OptionTable, fill_in_order

__all__ = ["DriftPlusPenalty", "slot_objective", "dpp", "guarantee"]


def slot_objective(view: SlotView, local_cost: np.ndarray, v: float, local: np.ndarray, send: np.ndarray) -> float:
    """``V * cost - sum_m Q_m served_m + sum_s H_s arriving_s`` of one slot's decision."""
    cost = float(local_cost @ local + (view.link_cost * send).sum())
    served = local + send.sum(axis=1)
    return v * cost - float(view.queues @ served) + float(view.server_queues @ send.sum(axis=0))


class DriftPlusPenalty:
    """Drift-plus-penalty policy with parameter ``V`` (a :mod:`formulations.offloading.simulator` policy).

    Each slot, with device queues ``Q``, server queues ``H`` and the
    current link states, it chooses whole numbers of tasks that minimize
    exactly::

        V * (sum_m c_m local_m + sum_{m,s} c_{m,s,w} send_{m,s})
            - sum_m Q_m (local_m + sum_s send_{m,s}) + sum_s H_s sum_m send_{m,s}

    subject to ``local_m <= L_m``, ``send_{m,s} <= capacity_{m,s,w}`` and
    ``local_m + sum_s send_{m,s} <= Q_m``. The problem decomposes per
    device into ``min sum_j w_j x_j`` over a box with one cardinality
    constraint, where ``w_local = V c_m - Q_m`` and ``w_s = V c_{m,s,w} -
    Q_m + H_s``; taking options with ``w_j < 0`` in increasing ``w_j``
    until the queue is empty is exact (and integral).

    Guarantee
    ---------
    With i.i.d. arrivals and link states, every ``V > 0``::

        time-average cost    <= p* + B / V
        time-average backlog <= (B + V (p_max - p_min)) / epsilon

    where ``p*`` is the ``stationary_lp`` optimum, ``epsilon > 0`` the
    slack of the LP at the arrival rates (``formulations.offloading.lp``),
    ``p_min = 0`` and ``p_max`` the largest cost one slot can incur
    (``problem.penalty_range``), and ``B = problem.lyapunov_b``::

        B = 1/2 sum_m (E[A_m^2] + b_m^2) + 1/4 sum_m b_m^2 + 1/2 sum_s (C_s^2 + a_s^2)

    with ``b_m`` the most tasks device m can serve in a slot, ``a_s`` the
    most that can reach server s, ``C_s`` its capacity. The first and last
    terms bound the squared queue changes in the one-slot drift
    ``L(t+1) - L(t)`` of ``L = 1/2 (sum Q^2 + sum H^2)``; the middle term
    pays for serving at most ``Q_m``: truncating an LP policy's action to
    the queue raises the per-slot objective by at most ``Q (b - Q) <=
    b_m^2 / 4``. (For Markov or trace link states the same bounds hold up
    to the chain's mixing time; the tests use i.i.d. inputs.)

    Notes
    -----
    O(links x log(links per device)) numpy work per slot, plus O(devices x
    servers) to read the dense slot view.
    """

    name = "dpp"

    def __init__(self, problem, v: float = 50.0, service: str = "fifo"):
        self.v = _positive(v, "v")
        self.service = _service(service)
        self.params = {"v": self.v} if self.service == "fifo" else {"v": self.v, "service": self.service}
        self.local_cost = problem.local_cost
        self.vc_local = self.v * problem.local_cost
        self.options = OptionTable(problem)

    def decide(self, view: SlotView):
        return self.choose(view, view.queues, view.server_queues)

    def choose(self, view: SlotView, queues: np.ndarray, server_queues: np.ndarray):
        """The exact per-slot choice with weights from ``queues``/``server_queues``, serving at most ``view.queues``."""
        opt = self.options
        link_keys = self.v * view.cost_by_link + server_queues[opt.ls]
        keys = opt.table(self.vc_local, link_keys, np.inf, float)
        cap = opt.table(view.local_capacity, view.capacity_by_link, 0, np.int64)
        cap[keys >= queues[:, None]] = 0  # weight key - Q_m >= 0: never worth taking
        return opt.split(fill_in_order(keys, cap, view.queues))


def _positive(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not value > 0 \
            or not np.isfinite(value):
        raise OptionError(f"`{name}` must be a finite number > 0, got {value!r}")
    return float(value)


def _service(service) -> str:
    from formulations.offloading.simulator import SERVICES

    if service not in SERVICES:
        raise OptionError(f"`service` must be one of {sorted(SERVICES)}, got {service!r}")
    return service


def guarantee(problem, v: float, p_star: float | None, epsilon: float | None) -> dict:
    """The bounds of :class:`DriftPlusPenalty` for ``problem`` at ``V = v``."""
    b = problem.lyapunov_b
    pmin, pmax = problem.penalty_range
    out = {"B": b, "B_over_V": b / v, "p_star": p_star, "epsilon": epsilon}
    out["cost_bound"] = None if p_star is None else p_star + b / v
    out["backlog_bound"] = (b + v * (pmax - pmin)) / epsilon if epsilon and epsilon > 0 else None
    return out


@register("offloading", "dpp", exact=False)
def dpp(problem, *, deadline: Deadline | None = None, v: float = 50.0, slots: int = 10_000, seed: int = 0,
        service: str = "fifo") -> MethodResult:
    """Drift-plus-penalty controller simulated once for `slots` slots; cost <= p* + B/V on average.

    Simulates :class:`DriftPlusPenalty` with ``V = v`` once (stopping at
    the ``deadline``, status ``time_limit``) and returns the run: the
    :class:`~formulations.offloading.simulator.SimulationResult` is the
    solution's ``assignment`` and ``evaluation``, its average cost the
    objective, its ``converged`` flag the honest verdict (a run below ``p*``
    has not converged). ``details`` holds ``simulation`` (the run's summary)
    and the bounds of :func:`guarantee` (``p_star`` from the stationary LP,
    never the objective). Status ``feasible``: a finite run proves no bound.
    """
    from .baselines import simulated

    policy = DriftPlusPenalty(problem, v, service)
    optimum = problem.lp_optimum
    p_star = None if optimum is None else optimum.p_star
    return simulated(problem, policy, slots=slots, seed=seed, deadline=deadline,
                     details=guarantee(problem, policy.v, p_star, problem.lp_slack))
