"""FQLA: drift-plus-penalty on queues offset by the LP's Lagrange multipliers (Huang and Neely 2011)."""

from __future__ import annotations

import numpy as np

from formulations.errors import OptionError

from .dpp import DriftPlusPenalty, _positive

__all__ = ["FQLA", "default_slack"]


def default_slack(v: float) -> float:
    """The default slack (tasks) at ``V = v``: ``max(2, log(1 + v)^2)`` (the ``O(log^2 V)`` of FQLA)."""
    return max(2.0, float(np.log1p(v)) ** 2)


class FQLA(DriftPlusPenalty):
    """Fast quadratic Lyapunov algorithm: drift-plus-penalty whose queues start at ``V x`` the LP multipliers.

    Drift-plus-penalty's queues drift to about ``theta = V nu`` (device m)
    and ``V mu`` (server s), with ``nu``, ``mu`` the Lagrange multipliers
    of the stationary LP (:func:`formulations.offloading.lp.lp_optimum`):
    there the per-slot choice is the LP's Lagrangian, so it mixes the
    cheapest options in the LP's proportions. Filling the queues to
    ``theta`` takes ``O(V)`` slots and makes every task wait ``O(V)``.
    FQLA (Huang and Neely, "Delay reduction via Lagrange multipliers in
    stochastic network optimization", IEEE TAC 56(4), 2011) places that
    backlog *virtually*: each slot it makes the drift-plus-penalty choice
    with weights from the virtual queues::

        Q~_m = Q_m + max(V nu_m - slack, 0),    H~_s = H_s + max(V mu_s - slack, 0)

    serving at most the real ``Q_m`` tasks. The real queues then fluctuate
    around ``slack`` instead of ``V nu``; the ``- slack`` keeps them from
    running empty while the virtual queue sits below ``theta`` (an empty
    queue wastes a cheap service opportunity, paid for later at a higher
    cost). Unlike the paper's FQLA this version drops no tasks: a slot
    whose real queue is short simply serves fewer.

    Parameters
    ----------
    problem : OffloadingProblem
    v : float
        Cost weight ``V`` (> 0), as for ``dpp``.
    slack : float, optional
        Tasks the real queues are meant to hold (>= 0); default
        :func:`default_slack` (``max(2, log(1 + V)^2)``).
    service : {"fifo", "lifo"}
        Queue discipline for the measured delays (see
        :func:`formulations.offloading.simulator.simulate`).

    Guarantee
    ---------
    None proven here for this drop-free variant: the paper's bounds
    (cost within ``O(1/V)`` of ``p*``, backlog ``O(log^2 V)``) need
    i.i.d. inputs, a unique multiplier and the packet dropping left out.
    What the tests and ``benchmarks/bench_fqla.py`` check is measured: the
    per-slot choice is exact for the virtual queues, and on the shipped
    scenarios the cost comes within 1% of ``p*`` at a fifth of
    drift-plus-penalty's delay.

    Notes
    -----
    One HiGHS solve at construction (cached on the problem), then the
    per-slot work of :class:`DriftPlusPenalty`.
    """

    name = "fqla"

    def __init__(self, problem, v: float = 50.0, slack: float | None = None, service: str = "fifo", server_slack=None):
        super().__init__(problem, v, service)
        self.slack = default_slack(self.v) if slack is None else _nonnegative(slack)
        optimum = problem.lp_optimum
        if optimum is None:
            raise OptionError("`problem` has no stationary LP optimum (its rates cannot be served): fqla needs its "
                              "Lagrange multipliers")
        nu = optimum.device_multipliers
        cheapest = _cheapest_option(problem)
        waits = nu > cheapest + 1e-9 * np.maximum(1.0, np.abs(nu))  # a cheaper option is worth waiting for
        self.device_offset = self.v * nu - np.where(waits, self.slack, 0.0)
        self.server_offset = self.v * optimum.server_multipliers - (self.slack if server_slack is None else server_slack)
        self.params = {"v": self.v, "slack": self.slack, **({"service": self.service} if self.service != "fifo" else {})}

    def decide(self, view):
        return self.choose(view, np.maximum(view.queues + self.device_offset, 0.0),
                           np.maximum(view.server_queues + self.server_offset, 0.0))


def _nonnegative(value) -> float:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and value == 0:
        return 0.0
    return _positive(value, "slack")


def _cheapest_option(problem) -> np.ndarray:
    """Per device, the least cost per task of running it locally or sending it in any usable link state."""
    out = np.where(problem.local_capacity > 0, problem.local_cost, np.inf).astype(float)
    usable = (problem.link_capacity > 0) & (problem.link_pi > 0)
    per_link = np.where(usable, problem.link_cost, np.inf).min(axis=1, initial=np.inf)
    np.minimum.at(out, problem.link_device, per_link)
    return out
