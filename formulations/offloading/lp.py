"""The stationary-policy LP of an offloading instance, as data.

Variables: ``local[m]`` (expected tasks/slot run on device m, in
``[0, local_capacity_m]``) and ``send[l, w]`` (expected tasks sent over link
l in a slot where it is in state w, in ``[0, capacity_{l,w}]``).

Cost LP (``p*``)::

    min  sum_m local_cost_m local[m] + sum_{l,w} pi_{l,w} cost_{l,w} send[l,w]
    s.t. local[m] + sum_{l at m, w} pi_{l,w} send[l,w] >= rate_m        (serve arrivals)
         sum_{l at s, w} pi_{l,w} send[l,w]           <= capacity_s    (servers stable)

Slack LP (``epsilon``): the same constraints with ``+ epsilon`` on the
arrival side and ``- epsilon`` on the capacity side, maximizing
``epsilon``. ``epsilon > 0`` is the strict-feasibility margin in the
drift-plus-penalty backlog bound; ``epsilon < 0`` means no policy can serve
the rates. Because links are independent and every per-slot constraint is
per device or per link, policies that look only at a link's own state
achieve every expected-value vector that joint-state policies achieve, so
this LP is exact over all stationary randomized policies.

Solvers run these with :func:`scipy.optimize.linprog` (HiGHS).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

__all__ = ["OffloadingLP", "LPOptimum", "build_lp", "capacity_slack", "scaled_linprog", "solve_cost_lp", "lp_optimum",
           "LP_TOLERANCES"]

#: HiGHS feasibility tolerances (its defaults are 1e-7): plans the evaluator accepts (relative 1e-7)
#: must not beat the LP's optimum by exploiting the LP's own slack at a tight capacity.
LP_TOLERANCES = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


@dataclass
class OffloadingLP:
    """``min c @ z`` s.t. ``A_ub @ z <= b_ub``, ``bounds`` (scipy ``linprog`` form).

    ``z = [local (n_devices), send (n_links x max_states, row-major), (epsilon)]``.
    """

    c: np.ndarray
    A_ub: sparse.csr_matrix
    b_ub: np.ndarray
    bounds: np.ndarray
    n_devices: int
    send_shape: tuple[int, int]
    n_states: tuple[int, ...]
    slack: bool

    def decode(self, z: np.ndarray) -> dict:
        """The assignment ``{"local": [...], "send": [[...], ...]}`` of a solution vector ``z``."""
        m = self.n_devices
        lo, hi = self.bounds[:, 0], self.bounds[:, 1]
        z = np.clip(np.asarray(z, dtype=float), lo, hi)  # HiGHS may overshoot a bound by ~1e-9
        local = z[:m]
        send = z[m : m + int(np.prod(self.send_shape))].reshape(self.send_shape)
        return {"local": local.tolist(), "send": [send[k, :n].tolist() for k, n in enumerate(self.n_states)]}


def build_lp(problem, *, slack: bool = False) -> OffloadingLP:
    """Build the cost LP (``slack=False``) or the slack LP of ``problem``.

    O(devices + links x states) non-zeros.
    """
    m, nl, w = problem.n_devices, problem.n_links, problem.max_states
    n_send = nl * w
    n = m + n_send + (1 if slack else 0)
    pi = problem.link_pi.ravel()
    link_of = np.repeat(np.arange(nl), w)
    dev_of = problem.link_device[link_of]
    srv_of = problem.link_server[link_of]
    send_cols = m + np.arange(n_send)
    keep = pi > 0
    # serve rows: -(local + sum pi send) (+ eps) <= -rate
    rows = [np.arange(m), dev_of[keep]]
    cols = [np.arange(m), send_cols[keep]]
    vals = [-np.ones(m), -pi[keep]]
    # server rows: sum pi send (+ eps) <= capacity
    rows.append(m + srv_of[keep])
    cols.append(send_cols[keep])
    vals.append(pi[keep])
    if slack:
        rows.append(np.arange(m + problem.n_servers))
        cols.append(np.full(m + problem.n_servers, n - 1))
        vals.append(np.ones(m + problem.n_servers))
    A = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(m + problem.n_servers, n)
    )
    b = np.concatenate([-problem.rates, problem.server_capacity.astype(float)])
    bounds = np.zeros((n, 2))
    bounds[:m, 1] = problem.local_capacity
    bounds[m : m + n_send, 1] = problem.link_capacity.ravel()
    if slack:
        c = np.zeros(n)
        c[-1] = -1.0
        bounds[-1] = (-np.inf, np.inf)
    else:
        c = np.concatenate([problem.local_cost, (problem.link_pi * problem.link_cost).ravel()])
    return OffloadingLP(c, A, b, bounds, m, (nl, w), tuple(l.n_states for l in problem.links), slack)


def capacity_slack(problem) -> float | None:
    """The largest ``epsilon`` of the slack LP (tasks/slot), or None if HiGHS fails.

    ``epsilon >= 0`` iff some stationary policy serves every arrival rate
    without overloading a server.
    """
    from scipy.optimize import linprog

    lp = build_lp(problem, slack=True)
    res = linprog(lp.c, A_ub=lp.A_ub, b_ub=lp.b_ub, bounds=lp.bounds, method="highs")
    if res.status != 0:
        return None
    return float(res.x[-1])


def scaled_linprog(c, **kwargs):
    """:func:`scipy.optimize.linprog` (HiGHS) with the objective scaled to a largest cost of 1.

    HiGHS works to absolute tolerances near 1e-7: costs of 1e13 mJ next to
    1e-3 made it fail (status 4). The solution is the same; ``res.fun`` is
    scaled back (so is ``ineqlin``/``eqlin`` marginals, when present).
    """
    from scipy.optimize import linprog

    c = np.asarray(c, dtype=float)
    bounds = kwargs.get("bounds")
    usable = np.ones(len(c), dtype=bool)
    if isinstance(bounds, np.ndarray) and bounds.ndim == 2:
        usable = bounds[:, 1] > 0  # variables fixed at 0 do not set the scale
    magnitudes = np.abs(c[usable])
    scale = float(magnitudes.max(initial=0.0)) or 1.0
    options = {**LP_TOLERANCES, **(kwargs.pop("options", None) or {})}
    res = linprog(c / scale, method="highs", options=options, **kwargs)
    positive = magnitudes[magnitudes > 0]
    res.cost_range = float(positive.max() / positive.min()) if positive.size else 1.0
    if res.fun is not None:
        res.fun = float(res.fun) * scale
    for key in ("ineqlin", "eqlin"):
        part = getattr(res, key, None)
        if part is not None and getattr(part, "marginals", None) is not None:
            part.marginals = np.asarray(part.marginals) * scale
    return res


def solve_cost_lp(problem, *, time_limit: float | None = None):
    """Run HiGHS on the cost LP (:func:`scaled_linprog`); return scipy's result and the LP."""
    lp = build_lp(problem)
    options = {"time_limit": float(time_limit)} if time_limit else {}
    res = scaled_linprog(lp.c, A_ub=lp.A_ub, b_ub=lp.b_ub, bounds=lp.bounds, options=options)
    return res, lp


@dataclass(frozen=True)
class LPOptimum:
    """The cost LP's optimum ``p*`` and its Lagrange multipliers.

    Attributes
    ----------
    p_star : float
        Optimal expected cost per slot (``metadata.cost_unit`` per slot).
    device_multipliers : ndarray (n_devices,)
        ``nu_m >= 0``: the dual of device m's serve row (cost units per
        task/slot): what one more task/slot of arrivals at m would cost.
    server_multipliers : ndarray (n_servers,)
        ``mu_s >= 0``: the dual of server s's capacity row.

    Notes
    -----
    The drift-plus-penalty queues concentrate around ``V nu`` and ``V mu``
    (the per-slot problem with ``Q = V nu``, ``H = V mu`` is the LP's
    Lagrangian); ``fqla`` uses them as queue offsets.
    """

    p_star: float
    device_multipliers: np.ndarray
    server_multipliers: np.ndarray


def lp_optimum(problem) -> LPOptimum | None:
    """``p*`` and the multipliers of ``problem``'s cost LP, or None when HiGHS finds no optimum.

    One HiGHS solve (``O(devices + links x states)`` non-zeros); the
    multipliers are ``-marginals`` of the ``<=`` rows (scipy's sign
    convention), clipped at 0 against round-off.
    """
    res, _ = solve_cost_lp(problem)
    if res.status != 0:
        return None
    duals = np.clip(-np.asarray(res.ineqlin.marginals, dtype=float), 0.0, None)
    m = problem.n_devices
    return LPOptimum(float(res.fun), duals[:m], duals[m:])
