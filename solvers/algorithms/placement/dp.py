"""Exact layer placement by dynamic programming over (used devices, last device, layers placed)."""

from __future__ import annotations

import math

import numpy as np

from formulations.deadline import Deadline
from formulations.errors import OptionError
from formulations.placement.problem import MEMORY_RTOL

from ...registry import MethodResult, register
from ...solution import Status
from .._stopping import stopped

__all__ = ["dp", "transfer_tables"]


def memory_fits(layer_mb: np.ndarray, caps_mb: np.ndarray, below: np.ndarray) -> list[np.ndarray]:
    """``fits[e][i, j]``: layers ``[i, j)`` fit ``caps_mb[e]``, decided as the evaluator sums them.

    Differences of prefix sums lose small weights beside large ones (a
    6.7e-11 MB layer after a 1e6 MB one reads as 0 MB), so a pair whose
    prefix-sum difference lies within its rounding error of a cap is decided
    by ``math.fsum`` of its layers, the evaluator's sum. O(k n^2) plus
    O(n) per borderline pair.
    """
    n = len(layer_mb)
    mem = np.concatenate([[0.0], np.cumsum(layer_mb)])
    span = mem[None, :] - mem[:, None]  # span[i, j]: memory of layers [i, j), up to `error`
    error = 4.0 * (n + 1) * np.finfo(float).eps * float(mem[-1])
    fits = []
    for cap in caps_mb:
        fit = below & (span <= cap - error)
        for i, j in zip(*np.nonzero(below & (np.abs(span - cap) <= error))):
            fit[i, j] = math.fsum(layer_mb[i:j]) <= cap
        fits.append(fit)
    return fits


def transfer_tables(problem, *, with_latency: bool):
    """``(first, between, last)`` transfer times (ms), vectorized for the DP.

    ``first[e]``: ``input_bytes`` from the source to device ``e``;
    ``between[d, e, i]``: the output of layer ``i - 1`` from ``d`` to ``e``
    (column 0 unused); ``last[e]``: the final output from ``e`` back to the
    source. Link latency included when ``with_latency``; 0 between one device
    and itself.
    """
    mbps, lat = problem.link_mbps, problem.link_latency_ms
    latency = lat if with_latency else np.zeros_like(lat)
    src = problem.device_index[problem.source]
    out_bytes = np.array([0] + [layer.output_bytes for layer in problem.layers], dtype=float)  # by boundary i
    with np.errstate(divide="ignore"):
        per_byte = np.where(np.isinf(mbps), 0.0, 8.0 / (mbps * 1000.0))
    between = per_byte[:, :, None] * out_bytes[None, None, :] + latency[:, :, None]
    idx = np.arange(problem.n_devices)
    between[idx, idx, :] = 0.0
    first = per_byte[src] * problem.input_bytes + latency[src]
    first[src] = 0.0
    last = per_byte[:, src] * problem.layers[-1].output_bytes + latency[:, src]
    last[src] = 0.0
    return first, between, last


@register("placement", "dp", exact=True, default=True)
def dp(problem, *, deadline: Deadline | None = None) -> MethodResult:
    """Optimal placement for both objectives and memory caps (EdgeShard's DP, exact).

    ``F[S][e][j]``: the best value of placing layers ``[0, j)`` on the devices
    of set ``S``, the last stage on ``e`` (latency: the sum of compute and
    transfers so far; throughput: their maximum, the bottleneck so far). A
    stage on ``e`` covers ``[i, j)`` when its memory fits ``e``:

        F[S][e][j] = min_i  A[i] (+ or max) (P_e[j] - P_e[i]),
        A[i] = min_{d in S - {e}}  F[S - {e}][d][i] (+ or max) transfer(d, e, layer i - 1)

    with ``P_e`` the prefix sums of the layers' times on ``e``; the answer adds
    the final transfer back to the source. Both ``+`` and ``max`` are monotone,
    so the recursion is exact; the plan is rebuilt from stored arg-minima.

    Returns
    -------
    MethodResult
        ``optimal`` with the DP value as the bound (ms, or tokens/s for
        throughput), or ``infeasible`` when no plan fits memory.

    Notes
    -----
    O(2^k k^2 n + 2^k k n^2) for ``k`` devices and ``n`` layers, each
    ``n^2`` step one numpy operation: about 0.1 s for 80 layers on 8 devices.
    Checks the ``deadline`` before each device set: past it, status
    ``time_limit`` and no plan (the DP has none before it completes).
    """
    deadline = Deadline.of(deadline)
    if problem.constraints:
        raise OptionError("method 'dp' cannot take `constraints` (latency_max_ms); use method='cpsat'")
    reason = problem.infeasibility_reason()
    if reason:
        return MethodResult(Status.INFEASIBLE, message=reason)
    k, n = problem.n_devices, problem.n_layers
    throughput = problem.objective == "throughput"
    combine = np.maximum if throughput else np.add
    first, between, last = transfer_tables(problem, with_latency=not throughput)
    prefix = np.concatenate([np.zeros((k, 1)), np.cumsum(problem.layer_ms, axis=1)], axis=1)  # (k, n + 1)
    below = np.triu(np.ones((n + 1, n + 1), dtype=bool), 1)  # i < j
    fits = memory_fits(problem.layer_mb, problem.memory_mb * (1 + MEMORY_RTOL), below)
    compute = [prefix[e][None, :] - prefix[e][:, None] for e in range(k)]  # compute[e][i, j]
    value = np.full((1 << k, k, n + 1), np.inf)
    start = np.zeros((1 << k, k, n + 1), dtype=np.int64)  # first layer of the last stage
    previous = np.full((1 << k, k, n + 1), -1, dtype=np.int64)  # device of the stage before
    for e in range(k):
        one = 1 << e
        row = np.where(fits[e][0], combine(first[e], compute[e][0]), np.inf)
        value[one, e] = row
    for subset in range(1, 1 << k):
        if deadline.expired():
            return stopped(f"in the DP at device set {subset} of {1 << k}")
        members = [e for e in range(k) if subset >> e & 1]
        if len(members) < 2:
            continue
        for e in members:
            rest = subset & ~(1 << e)
            options = combine(value[rest], between[:, e, :])[[d for d in range(k) if rest >> d & 1]]
            devices = np.array([d for d in range(k) if rest >> d & 1])
            best_d = options.argmin(axis=0)
            reach = options[best_d, np.arange(n + 1)]  # A[i]
            grid = np.where(fits[e], combine(reach[:, None], compute[e]), np.inf)  # (i, j)
            best_i = grid.argmin(axis=0)
            value[subset, e] = grid[best_i, np.arange(n + 1)]
            start[subset, e] = best_i
            previous[subset, e] = devices[best_d[best_i]]
    final = combine(value[:, :, n], last[None, :])
    if not np.isfinite(final).any():
        return MethodResult(Status.INFEASIBLE, message="no placement fits the devices' memory (exact DP)")
    subset, e = np.unravel_index(int(np.argmin(final)), final.shape)  # type: ignore[assignment]
    stages, j = [], n
    while True:
        i = int(start[subset, e, j])
        stages.append((int(e), i, j))
        if subset == 1 << e:
            break
        e_prev = int(previous[subset, e, j])
        subset, e, j = subset & ~(1 << e), e_prev, i
    best = float(final.min())
    bound = best if not throughput else (np.inf if best <= 0 else 1000.0 / best)
    return MethodResult(Status.OPTIMAL, problem.plan(stages[::-1]), bound=bound,
                        message=f"exact DP over {1 << k} device sets",
                        details={"devices_used": len(stages)})
