"""FQLA: drift-plus-penalty on queues offset by the LP's Lagrange multipliers (Huang and Neely 2011)."""

from __future__ import annotations

import numpy as np

from formulations.deadline import Deadline
from formulations.errors import OptionError

from ...registry import MethodResult, register
from .dpp import DriftPlusPenalty, _positive

__all__ = ["FQLA", "default_slack", "default_server_slack", "fqla"]


def default_slack(v: float) -> float:
    """The default slack (tasks) at ``V = v``: ``log(1 + v)^2``, FQLA's ``O(log^2 V)`` backlog scale."""
    return float(np.log1p(v)) ** 2


def default_server_slack(problem, slack: float) -> np.ndarray:
    """Per server, the default slack (tasks): ``slack x C_s / mean_m lambda_m``.

    The device slack measured in slots of the mean device's arrivals, applied
    to the server's capacity ``C_s`` (tasks/slot); 0 when no task arrives.
    """
    mean_rate = float(np.mean(problem.rates)) if problem.n_devices else 0.0
    capacity = problem.server_capacity.astype(float)
    return slack * capacity / mean_rate if mean_rate > 0 else np.zeros_like(capacity)


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
    backlog *virtually*: each slot it makes the exact drift-plus-penalty
    choice with weights from the virtual queues::

        Q~_m = max(Q_m + V nu_m - slack_m, 0),   H~_s = max(H_s + V mu_s - server_slack, 0)

    serving at most the real ``Q_m`` tasks. The real queues then hover
    around the slack instead of ``V nu``: a device's marginal options
    (Lagrangian price ``nu_m``) are used only while ``Q_m > slack_m``,
    options priced below ``nu_m`` whenever possible, dearer ones only when
    ``Q_m`` exceeds ``slack_m + V x (their extra price)``. An option's
    Lagrangian price is its cost, plus the server's multiplier ``mu_s``
    when it sends to server s (the shadow price of that server's capacity).
    The slack is there to arbitrate the LP's optimal mix: a device with
    two or more options priced at most ``nu_m`` (one cheaper option to
    wait for, or a tie the queues must split) holds ``slack_m = slack``
    tasks so that those options find work when they come; a device with a
    single such option has nothing to arbitrate and holds none
    (``slack_m = 0``: its queue empties onto that option). A server's
    queue weighs in only above ``server_slack_s - V mu_s``, where by
    default ``server_slack_s = slack x C_s / mean(lambda)`` (:func:`default_server_slack`):
    a server holds as many slots of its own work (``C_s`` tasks/slot) as a
    device's slack holds of the mean device's arrivals. Where a server's
    capacity binds (``mu_s > 0``) its queue is the buffer that keeps it
    busy: devices send only while ``H_s < Q_m - slack_m + server_slack_s``,
    so a server buffer sized to the server, not to one device, keeps it fed
    from bursts of few devices. (Measured on ``vgg16_edge``, where both servers bind:
    at equal cost the former ``2 x slack`` held 30% more tasks; see
    ``docs/offloading.md``.) Unlike the paper's FQLA this version drops no tasks.

    Parameters
    ----------
    problem : OffloadingProblem
    v : float
        Cost weight ``V`` (> 0). With the default slack, V alone sets the
        trade-off (the paper's rates, cost ``O(1/V)`` above ``p*`` and
        backlog ``O(log^2 V)``, are not proven for this variant).
    slack : float, optional
        Tasks a device with two or more options at price <= ``nu_m`` holds (>= 0);
        default :func:`default_slack` ``= log(1 + V)^2``.
    service : {"fifo", "lifo"}
        Queue discipline for the measured delays (see
        :func:`formulations.offloading.simulator.simulate`).
    server_slack : float, optional
        Every server's slack in tasks (>= 0); default per server
        :func:`default_server_slack` ``= slack x C_s / mean arrival rate``.

    Guarantee
    ---------
    None proven here for this drop-free variant: the paper's bounds
    (cost within ``O(1/V)`` of ``p*``, backlog ``O(log^2 V)``) assume
    i.i.d. inputs, a unique multiplier and packet dropping; the shipped
    scenarios have Markov link states and tied multipliers. What is checked
    is the per-slot choice, exact for the virtual queues (tests); cost and
    delay against drift-plus-penalty are *measured*
    (``benchmarks/bench_fqla.py``, ``benchmarks/results/fqla.md``): within
    1% of ``p*`` fqla's delay is 0.136 x dpp's on ``vgg16_edge`` and 0.237 x
    on ``resnet18_exits_edge``, where no policy can do better than 0.210 x
    (:func:`formulations.offloading.delay_bound.delay_lower_bound`; see
    ``docs/offloading.md``).

    Notes
    -----
    One HiGHS solve (cached on the problem), then the per-slot work of
    :class:`DriftPlusPenalty`.
    """

    name = "fqla"

    def __init__(self, problem, v: float = 1000.0, slack: float | None = None, service: str = "fifo",
                 server_slack: float | None = None):
        super().__init__(problem, v, service)
        self.slack = default_slack(self.v) if slack is None else _nonnegative(slack, "slack")
        self.server_slack = (default_server_slack(problem, self.slack) if server_slack is None
                             else np.full(problem.n_servers, _nonnegative(server_slack, "server_slack")))
        optimum = problem.lp_optimum
        if optimum is None:
            raise OptionError("`problem` has no stationary LP optimum (its rates cannot be served): fqla needs its "
                              "Lagrange multipliers")
        nu = optimum.device_multipliers
        waits = _options_at_or_below(problem, nu, optimum.server_multipliers) >= 2  # a mix to arbitrate
        self.device_offset = self.v * nu - np.where(waits, self.slack, 0.0)
        self.server_offset = self.v * optimum.server_multipliers - self.server_slack
        self.params = {"v": self.v, "slack": self.slack, "server_slack": [float(x) for x in self.server_slack],
                       **({"service": self.service} if self.service != "fifo" else {})}

    def decide(self, view):
        queues = np.maximum(view.queues + self.device_offset, 0.0)
        server_queues = np.maximum(view.server_queues + self.server_offset, 0.0)
        return self.choose(view, queues, server_queues)


def _nonnegative(value, name: str) -> float:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and value == 0:
        return 0.0
    return _positive(value, name)


def _options_at_or_below(problem, nu: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Per device, how many options have a Lagrangian price <= ``nu_m``: local, or one (link, state) at cost + ``mu_s``.

    Sending to server s costs ``c_{m,s,w}`` plus the shadow price ``mu_s``
    of its capacity in the LP's Lagrangian; the options priced at most
    ``nu_m`` are the ones the LP's optimal mix can use.
    """
    tol = 1e-9 * np.maximum(1.0, np.abs(nu))
    out = ((problem.local_capacity > 0) & (problem.local_cost <= nu + tol)).astype(np.int64)
    usable = (problem.link_capacity > 0) & (problem.link_pi > 0)
    priced = problem.link_cost + np.asarray(mu, float)[problem.link_server][:, None]
    per_link = (usable & (priced <= (nu + tol)[problem.link_device][:, None])).sum(axis=1)
    np.add.at(out, problem.link_device, per_link)
    return out


@register("offloading", "fqla", exact=False)
def fqla(problem, *, deadline: Deadline | None = None, v: float = 1000.0, slack: float | None = None, server_slack: float | None = None,
         slots: int = 10_000, seed: int = 0, service: str = "fifo") -> MethodResult:
    """FQLA (drift-plus-penalty on LP-multiplier-offset queues) simulated once; small delay near p*.

    Simulates :class:`FQLA` once (stopping at the ``deadline``, status
    ``time_limit``) and returns the run as ``assignment`` and
    ``evaluation`` (its average cost the objective), like ``dpp``.
    ``details["simulation"]`` holds the run's summary (cost, delays in ms,
    ``stable``, ``converged``). No bound is claimed (see :class:`FQLA`).
    """
    from .baselines import simulated

    return simulated(problem, FQLA(problem, v, slack, service, server_slack), slots=slots, seed=seed,
                     deadline=deadline)
