"""Test oracle: mix every deterministic stationary policy (tiny instances)."""

from __future__ import annotations

import itertools

import numpy as np

from formulations.deadline import Deadline
from formulations.errors import OptionError

from ...registry import MethodResult, register
from ...solution import Status
from .._stopping import stopped
from .stationary_lp import ILL_CONDITIONED, INFEASIBLE_MESSAGE, MAX_COST_RANGE, scaled_linprog

__all__ = ["brute_force", "deterministic_policies", "MAX_POLICIES"]

#: Refuse instances with more deterministic policies than this.
MAX_POLICIES = 50_000


def deterministic_policies(problem):
    """Yield ``(local, send)`` for every deterministic stationary policy.

    A deterministic policy runs a fixed whole number of tasks locally on
    each device and sends a fixed whole number over each link in each of its
    states: ``prod_m (L_m + 1) x prod_{l,w} (c_{l,w} + 1)`` policies.
    """
    local_choices = [range(int(c) + 1) for c in problem.local_capacity]
    cap = problem.link_capacity
    send_cells = [(k, w) for k, link in enumerate(problem.links) for w in range(link.n_states)]
    send_choices = [range(int(cap[k, w]) + 1) for k, w in send_cells]
    for loc in itertools.product(*local_choices):
        for snd in itertools.product(*send_choices):
            send = np.zeros(cap.shape)
            for (k, w), v in zip(send_cells, snd):
                send[k, w] = v
            yield np.array(loc, dtype=float), send


@register("offloading", "brute_force", exact=True, oracle=True)
def brute_force(problem, *, deadline: Deadline | None = None) -> MethodResult:
    """Enumerate deterministic stationary policies and mix them optimally (tiny instances; test oracle).

    Each deterministic policy ``k`` has a cost ``c_k``, a service vector
    (tasks/slot per device) and a server-load vector. A randomized
    stationary policy is a time-sharing ``theta`` of them, so the optimum is
    ``min sum_k theta_k c_k`` s.t. ``sum_k theta_k serve_k >= rates``,
    ``sum_k theta_k load_k <= capacities``, ``sum_k theta_k = 1``,
    ``theta >= 0``: an LP over the enumerated policies, independent of the
    per-state LP of ``stationary_lp``.

    Notes
    -----
    O(P) policies, ``P = prod_m (L_m + 1) prod_{l,w} (c_{l,w} + 1)``.
    Without a time limit, raises ``OptionError`` when ``P`` exceeds
    :data:`MAX_POLICIES`; with one, enumerates for half the time left to
    the ``deadline``, mixes the policies found (HiGHS gets the rest) and
    returns status ``time_limit`` with that mix (no bound) if the
    enumeration was cut.
    """
    deadline = Deadline.of(deadline)
    count = int(np.prod([int(c) + 1 for c in problem.local_capacity], dtype=float) * np.prod(
        [int(problem.link_capacity[k, w]) + 1 for k, l in enumerate(problem.links) for w in range(l.n_states)], dtype=float
    ))
    if count > MAX_POLICIES and not deadline.limited:
        raise OptionError(f"`problem` has {count} deterministic policies; brute_force takes at most {MAX_POLICIES} "
                          "without a time limit")
    listing, cut = deadline.share(0.5), False
    policies: list[tuple[np.ndarray, np.ndarray]] = []
    costs, serve, load = [], [], []
    for local, send in deterministic_policies(problem):
        if len(policies) % 256 == 0 and listing.expired():
            cut = True
            break
        policies.append((local, send))
        s, l = problem.served_rates(local, send)
        costs.append(float(problem.local_cost @ local + (problem.link_pi * problem.link_cost * send).sum()))
        serve.append(s)
        load.append(l)
    if not policies:
        return stopped("before the first policy")
    serve_m = np.array(serve).T
    load_m = np.array(load).T.reshape(problem.n_servers, len(policies))
    A_ub = np.vstack([-serve_m, load_m])
    b_ub = np.concatenate([-problem.rates, problem.server_capacity.astype(float)])
    left = deadline.remaining()
    options = {} if left is None else {"time_limit": max(left, 1e-3)}
    res = scaled_linprog(costs, A_ub=A_ub, b_ub=b_ub, A_eq=np.ones((1, len(policies))), b_eq=[1.0], bounds=(0, None),
                         options=options)
    if cut or res.status == 1:  # a mix of the policies enumerated in time proves nothing about the rest
        where = f"after {len(policies)} of {count} deterministic policies"
        return stopped(where, _mix(problem, res, policies) if res.status == 0 else None)
    if res.status == 2:
        return MethodResult(Status.INFEASIBLE, message=INFEASIBLE_MESSAGE)
    if res.status != 0:  # a numerical failure of HiGHS: an answer, not an exception
        return MethodResult(Status.UNKNOWN, message=f"the LP solver failed (HiGHS status {res.status}: {res.message})")
    assignment = _mix(problem, res, policies)
    ok = [c for c, s, l in zip(costs, serve, load)
          if (s >= problem.rates - 1e-9).all() and (l <= problem.server_capacity + 1e-9).all()]
    best_det = min(ok, default=None)
    if res.cost_range > MAX_COST_RANGE:
        return MethodResult(Status.FEASIBLE, assignment, message=ILL_CONDITIONED,
                            details={"policies": len(policies), "best_deterministic": best_det})
    return MethodResult(
        Status.OPTIMAL, assignment, bound=float(res.fun),
        message=f"mixed {len(policies)} deterministic policies",
        details={"policies": len(policies), "best_deterministic": best_det},
    )


def _mix(problem, res, policies) -> dict:
    """The stationary policy mixing ``policies`` by the LP's weights ``res.x``."""
    theta = np.clip(res.x, 0, None)
    theta /= theta.sum()
    local = sum(t * pol[0] for t, pol in zip(theta, policies))
    send = sum(t * pol[1] for t, pol in zip(theta, policies))
    return {"local": local.tolist(), "send": [send[k, : l.n_states].tolist() for k, l in enumerate(problem.links)]}
