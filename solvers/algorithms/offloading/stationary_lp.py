"""The optimal stationary randomized policy: an LP solved by HiGHS."""

from __future__ import annotations

import numpy as np

from formulations.offloading.lp import build_lp

from ...registry import MethodResult, register
from ...solution import Status

__all__ = ["stationary_lp", "solve_lp", "INFEASIBLE_MESSAGE"]

INFEASIBLE_MESSAGE = "the arrival rates exceed what the devices, links and servers can serve"


def solve_lp(problem, *, time_limit: float | None = None):
    """Run :func:`scipy.optimize.linprog` (HiGHS) on the cost LP; return scipy's result and the LP."""
    from scipy.optimize import linprog

    lp = build_lp(problem)
    options = {"time_limit": float(time_limit)} if time_limit else {}
    res = linprog(lp.c, A_ub=lp.A_ub, b_ub=lp.b_ub, bounds=lp.bounds, method="highs", options=options)
    return res, lp


@register("offloading", "stationary_lp", exact=True, default=True)
def stationary_lp(problem, *, time_limit=None) -> MethodResult:
    """Optimal stationary randomized policy by LP (HiGHS); its value p* bounds every stable policy.

    Minimizes the expected cost per slot over policies that, in each slot,
    run ``local[m]`` tasks on device m and send ``send[l][w]`` over link l
    when it is in state w (in expectation), subject to serving every
    arrival rate and not overloading any server (model in
    :mod:`formulations.offloading.lp`).

    Guarantees
    ----------
    Exact over all stationary randomized policies; with i.i.d. (or ergodic)
    arrivals and link states, ``p*`` is a lower bound on the time-average
    cost of every policy that keeps the queues rate-stable. An infeasible LP
    (status ``infeasible``) means no policy can serve the load.

    Notes
    -----
    HiGHS on ``devices + links x states`` variables and ``devices +
    servers`` rows. ``details`` also holds ``epsilon`` (the slack LP's
    margin, tasks/slot), the drift-plus-penalty constant ``B`` and the
    per-slot cost range.
    """
    res, lp = solve_lp(problem, time_limit=time_limit)
    details = {"B": problem.lyapunov_b, "p_max": problem.penalty_range[1]}
    highs = f"(HiGHS status {res.status}: {res.message})"
    if res.status == 2:
        return MethodResult(Status.INFEASIBLE, message=f"{INFEASIBLE_MESSAGE} {highs}",
                            details={**details, "epsilon": problem.lp_slack})
    if res.status == 1:
        return MethodResult(Status.TIME_LIMIT, message=highs, details=details)
    if res.status != 0:
        raise RuntimeError(f"linprog failed {highs}")
    details["epsilon"] = problem.lp_slack
    return MethodResult(Status.OPTIMAL, lp.decode(res.x), bound=float(res.fun), message=highs, details=details)


def lp_policy_arrays(problem) -> tuple[np.ndarray, np.ndarray] | None:
    """``(local, send)`` arrays of the optimal stationary policy, or None if infeasible."""
    res, lp = solve_lp(problem)
    if res.status != 0:
        return None
    m = problem.n_devices
    z = np.clip(res.x, lp.bounds[:, 0], lp.bounds[:, 1])
    return z[:m], z[m:].reshape(lp.send_shape)
