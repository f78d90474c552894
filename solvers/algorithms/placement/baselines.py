"""Placements users get today: exo's memory-weighted ring, and fastest-device-first greedy."""

from __future__ import annotations

import numpy as np

from formulations.deadline import Deadline

from ...registry import MethodResult, register
from ...solution import Status

__all__ = ["ring", "greedy"]


def _answer(problem, stages, how: str) -> MethodResult:
    plan = problem.plan(stages)
    if not problem.is_feasible(plan):
        return MethodResult(Status.UNKNOWN, message=f"{how}: the plan does not fit memory "
                                                     f"({problem.violations(plan)[0]}); no proof of infeasibility")
    return MethodResult(Status.FEASIBLE, plan, message=how)


@register("placement", "ring", exact=False)
def ring(problem, *, deadline: Deadline | None = None) -> MethodResult:
    """exo's default: devices by memory (largest first), each taking a share of the layers proportional
    to its memory, in that order along the ring. O(k log k + n), too fast to need a ``deadline`` check.
    A heuristic (no bound)."""
    order = sorted(range(problem.n_devices), key=lambda d: (-problem.memory_mb[d], d))
    shares = np.cumsum([problem.memory_mb[d] for d in order]) / max(float(problem.memory_mb.sum()), 1e-300)
    ends = np.rint(shares * problem.n_layers).astype(int)
    ends[-1] = problem.n_layers
    stages, begin = [], 0
    for d, end in zip(order, ends):
        if end > begin:
            stages.append((d, begin, int(end)))
            begin = int(end)
    return _answer(problem, stages, "memory-weighted ring (exo)")


@register("placement", "greedy", exact=False)
def greedy(problem, *, deadline: Deadline | None = None) -> MethodResult:
    """Fastest device first (least total time for all layers), filled with layers in order up to its
    memory, then the next fastest. O(k n), too fast to need a ``deadline`` check. A heuristic (no bound)."""
    order = np.argsort(problem.layer_ms.sum(axis=1), kind="stable")
    stages, begin = [], 0
    for d in order.tolist():
        end, used = begin, 0.0
        while end < problem.n_layers and used + problem.layer_mb[end] <= problem.memory_mb[d] * (1 + 1e-9):
            used += problem.layer_mb[end]
            end += 1
        if end > begin:
            stages.append((d, begin, end))
            begin = end
        if begin == problem.n_layers:
            break
    if begin < problem.n_layers:
        return MethodResult(Status.UNKNOWN, message="fastest-first greedy ran out of memory; no proof of infeasibility")
    return _answer(problem, stages, "fastest-first greedy")
