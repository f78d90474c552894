"""The optimal stationary randomized policy: an LP solved by HiGHS."""

from __future__ import annotations

import numpy as np

from formulations.deadline import Deadline
from formulations.offloading.lp import LP_TOLERANCES, scaled_linprog, solve_cost_lp  # noqa: F401  (re-exported)

from ...registry import MethodResult, register
from ...solution import Status
from .._stopping import stopped

__all__ = ["stationary_lp", "solve_lp", "scaled_linprog", "INFEASIBLE_MESSAGE", "MAX_COST_RANGE"]

INFEASIBLE_MESSAGE = "the arrival rates exceed what the devices, links and servers can serve"


#: Largest ratio of usable per-task costs for which the LP optimum is claimed optimal: beyond it,
#: HiGHS (double precision, tolerances near 1e-9 after scaling) cannot tell the cheap costs apart.
MAX_COST_RANGE = 1e9
ILL_CONDITIONED = (f"costs span more than {MAX_COST_RANGE:.0e}x: the LP plan is feasible but not proven "
                   "optimal")


#: Run HiGHS on the cost LP; returns scipy's result and the LP (``formulations.offloading.lp.solve_cost_lp``).
solve_lp = solve_cost_lp


@register("offloading", "stationary_lp", exact=True, default=True)
def stationary_lp(problem, *, deadline: Deadline | None = None) -> MethodResult:
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
    per-slot cost range. HiGHS gets the seconds left to the ``deadline``.
    """
    left = Deadline.of(deadline).remaining()
    if left is not None and left <= 0:
        return stopped("before the LP")
    res, lp = solve_lp(problem, time_limit=left)
    details = {"B": problem.lyapunov_b, "p_max": problem.penalty_range[1]}
    highs = f"(HiGHS status {res.status}: {res.message})"
    if res.status == 2:
        return MethodResult(Status.INFEASIBLE, message=f"{INFEASIBLE_MESSAGE} {highs}",
                            details={**details, "epsilon": problem.lp_slack})
    if res.status == 1:
        return MethodResult(Status.TIME_LIMIT, message=highs, details=details)
    if res.status != 0:  # a numerical failure of HiGHS: an answer, not an exception
        return MethodResult(Status.UNKNOWN, message=f"the LP solver failed {highs}", details=details)
    details["epsilon"] = problem.lp_slack
    if res.cost_range > MAX_COST_RANGE:  # HiGHS cannot resolve the cheap costs next to the dear ones
        return MethodResult(Status.FEASIBLE, lp.decode(res.x), message=f"{highs}; {ILL_CONDITIONED}", details=details)
    return MethodResult(Status.OPTIMAL, lp.decode(res.x), bound=float(res.fun), message=highs, details=details)


def lp_policy_arrays(problem) -> tuple[np.ndarray, np.ndarray] | None:
    """``(local, send)`` arrays of the optimal stationary policy, or None if infeasible."""
    res, lp = solve_lp(problem)
    if res.status != 0:
        return None
    m = problem.n_devices
    z = np.clip(res.x, lp.bounds[:, 0], lp.bounds[:, 1])
    return z[:m], z[m:].reshape(lp.send_shape)
