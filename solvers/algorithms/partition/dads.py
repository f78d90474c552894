"""DADS's heavy-load partition (DSH) as a baseline for the throughput objective.

Hu, Bao, Wang and Liu, "Dynamic Adaptive DNN Surgery for Inference
Acceleration on the Edge", INFOCOM 2019: under heavy load the stream's rate
is set by its slowest stage (edge compute, transmission, cloud compute), so
DADS minimizes the largest stage load; it proves this min-max problem
NP-hard and answers it with min cuts, with a published approximation ratio
of 3 (its three stages).

Method (``dads_heavy``)
-----------------------
1. The light-load cut (DSL without RTT): one min cut minimizing the *sum*
   of the stage loads. Its period is at most ``s`` times the optimum, where
   ``s`` is the number of stages that can carry load:
   ``period(S) <= sum(S) <= sum(S*) <= s * period(S*)``. In DADS's setting
   (two tiers; the result's return is not a stage) ``s = 3``, the published
   ratio; with a result download ``s = 4``; k tiers have ``s <= 3k - 2``.
2. A scaling search (DSH's balancing, as multiplicative weights): each
   round re-weights every stage by ``exp(RATE * load / period)`` of the
   last cut (the loaded stages get heavier, so the next min cut moves work
   off them) and solves the stage-weighted min cut again. Each weighted cut
   value, divided by the sum of the weights, is a proven lower bound on the
   optimal period (a weighted mean of the loads is at most their max).
   Every cut is evaluated in floats.

The plan of least period among all cuts is returned, so the ratio of step 1
holds: ``1000 / objective <= s * period*`` (``details["ratio_bound"] = s``).
``bound`` is ``1000 /`` the best period lower bound: ``L / s`` from step 1
(``L`` the floor-scaled, so lower, min-cut sum) or a weighted cut of step 2.
Weighted min cuts reach only supported plans (optimal for some weighting),
while a min-max optimum is often unsupported: hence a baseline, not exact.
DADS's own pseudo-code was not at hand: step 1 is its ratio argument, step
2 is our reading of its scaling search.
"""

from __future__ import annotations

import numpy as np

from formulations.deadline import Deadline
from formulations.errors import OptionError
from formulations.partition.tier_cutgraph import TermCosts, build_tier_network, tiers_from_side

from ...registry import MethodResult, register
from ...solution import Status
from ._common import stream_cut
from ._maxflow import min_cut

__all__ = ["dads_heavy", "stage_weighted_cut", "loaded_stages", "PUBLISHED_RATIO"]

#: DADS's published approximation ratio (three stages: edge, transmission, cloud).
PUBLISHED_RATIO = 3

#: Reweighting rounds of the scaling search, and the multiplicative rate of a round.
STEPS = 24
RATE = 0.5


def stage_weighted_cut(problem, weights=None):
    """Min cut of ``sum_s weights[s] * load_s`` over the stages ``s`` (RTT excluded).

    Parameters
    ----------
    weights : ndarray, optional
        One weight >= 0 per stage in the order of :func:`stage_vector`
        (each tier's compute, then each link's uplink, then each link's
        downlink); default all 1 (the sum of the stage loads).

    Returns
    -------
    (tiers, lower) : (ndarray of int, float)
        An optimal tier vector (up to the floor scaling of
        :mod:`formulations.scaling`) and a proven lower bound on the
        weighted minimum (ms).

    Notes
    -----
    One max-flow over the k-tier network, O(k (n + m)) arcs.
    """
    k = problem.n_tiers
    w = np.ones(3 * k - 2) if weights is None else np.asarray(weights, dtype=float)
    costs = TermCosts(problem.ms * w[None, :k], problem.up_ms * w[k:2 * k - 1, None],
                      problem.down_ms * w[2 * k - 1:, None], np.zeros(k - 1))
    cut = build_tier_network(problem, costs)
    side, lower = min_cut(cut.network)
    return tiers_from_side(cut, side), cut.constant + float(lower[0])


def stage_vector(problem, tiers) -> np.ndarray:
    """The stage loads (ms per frame) of a tier vector: each tier's compute, each link's uplink, each downlink."""
    terms = problem.measures(tiers)[2]
    return np.array(terms["compute_ms"] + terms["uplink_ms"] + terms["downlink_ms"], dtype=float)


def loaded_stages(problem) -> int:
    """The number of stages that can carry load (``s`` of the ratio): each tier whose layers take
    time, each link direction with bytes to move. An upper bound on the stages any plan loads."""
    sinks = problem.topology.sinks
    compute = int(np.count_nonzero(problem.ms.max(axis=0) > 0))
    up = int(np.count_nonzero(problem.up_ms.max(axis=1) > 0)) if problem.n_layers > 1 else 0
    down = int(np.count_nonzero(problem.down_ms[:, sinks].max(axis=1) > 0))
    return max(1, compute + up + down)


@register("partition", "dads_heavy", exact=False, applies=stream_cut)
def dads_heavy(problem, *, deadline: Deadline | None = None, steps: int = STEPS) -> MethodResult:
    """DADS's heavy-load partition (DSH): stage-weighted min cuts; period <= ``s`` x optimal (3 in DADS's model).

    Parameters
    ----------
    problem : TieredPartitionProblem
        With ``"objective": "throughput"``; no ``constraints`` or
        ``device_budget`` (a min cut cannot express them).
    deadline : Deadline, optional
        The stopping rule :func:`solvers.solve` builds from ``time_limit``:
        the scaling search stops when it passes (status ``time_limit`` with
        the best plan so far; the light-load cut is always computed).
    steps : int
        Rounds of the scaling search (>= 0; 0 gives the light-load cut
        alone).

    Returns
    -------
    MethodResult
        ``feasible`` (``optimal`` only if the bound meets the plan), with
        ``bound`` the proven upper bound on frames/s and
        ``details["ratio_bound"]`` = ``s``: the plan's period is at most
        ``s`` times the optimal period (module docstring).

    Raises
    ------
    OptionError
        For a latency/energy objective, ``constraints``, a ``device_budget``
        or a bad ``steps``.

    Notes
    -----
    ``steps + 1`` max-flows, each O(k (n + m)) arcs (push-relabel, near
    linear on DNN DAGs).
    """
    if not problem.throughput:
        raise OptionError("method 'dads_heavy' maximizes the throughput of a stream; set "
                          "`\"objective\": \"throughput\"` (for latency use 'mincut')")
    if problem.constraints or problem.device_budget:
        raise OptionError("method 'dads_heavy' (min cuts) cannot handle `constraints` or `device_budget`; "
                          "use method='ilp'")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise OptionError(f"`steps` must be a whole number >= 0, got {steps!r}")
    reason = problem.infeasibility_reason()
    if reason:
        return MethodResult(Status.INFEASIBLE, message=reason)
    light, lower = stage_weighted_cut(problem)
    loads = stage_vector(problem, light)
    best, best_period = light, float(loads.max())
    s = loaded_stages(problem)
    period_lb = lower / s  # sum(S*) >= lower, and sum(S*) <= s * period(S*)
    weights = np.ones(len(loads))
    deadline, done, status = Deadline.of(deadline), 0, Status.FEASIBLE
    for _ in range(int(steps)):
        if best_period <= 0:
            break
        if deadline.expired():
            status = Status.TIME_LIMIT
            break
        done += 1
        weights = weights * np.exp(RATE * loads / float(loads.max() or 1.0))  # weigh the loaded stages more
        weights /= weights.sum()
        tiers, weighted_lb = stage_weighted_cut(problem, weights * len(weights))
        period_lb = max(period_lb, weighted_lb / len(weights))  # a weighted mean of the loads <= their max
        loads = stage_vector(problem, tiers)
        if loads.max() < best_period:
            best, best_period = tiers, float(loads.max())
    bound = 1000.0 / period_lb if period_lb > 0 else None
    return MethodResult(
        status, problem.assignment(best), bound=bound,
        message=f"heavy-load approximation: period <= {s} x optimal",
        details={"ratio_bound": s, "max_flows": done + 1, "light_period_ms": float(problem.measures(light)[2]["period_ms"]),
                 "layers_per_tier": np.bincount(best, minlength=problem.n_tiers).tolist()},
    )
