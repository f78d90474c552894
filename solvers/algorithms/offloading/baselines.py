"""Baseline online policies: all-local, least-loaded server, greedy on queues, LP sampled online.

Each is a :mod:`formulations.offloading.simulator` policy and a registered
(heuristic) method that simulates it, like ``dpp``. None has a cost
guarantee; ``lp_sampled`` serves the rates in expectation but, lacking
slack, its queues can grow like ``sqrt(T)``.
"""

from __future__ import annotations

import numpy as np

from formulations.deadline import Deadline
from formulations.errors import OptionError
from formulations.offloading.simulator import SlotView, simulate

from ...registry import MethodResult, register
from ...solution import Status
from ._actions import OptionTable, fill_in_order

__all__ = ["AllLocal", "LeastLoaded", "GreedyQueue", "LPSampled", "BASELINES", "run_summary", "simulated"]


class _Baseline:
    """Shared shape: a ``name``, no parameters."""

    name = ""
    params: dict = {}

    def __init__(self, problem):
        self.options = OptionTable(problem)


class AllLocal(_Baseline):
    """Run every task on its device: ``local_m = min(Q_m, L_m)``, never offload."""

    name = "all_local"

    def decide(self, view: SlotView):
        return np.minimum(view.queues, view.local_capacity), np.zeros_like(view.link_capacity)


class LeastLoaded(_Baseline):
    """Offload everything to the linked server with the shortest queue ``H_s`` (usable links only)."""

    name = "least_loaded"

    def decide(self, view: SlotView):
        cap = view.link_capacity
        if cap.shape[1] == 0:
            return np.zeros_like(view.queues), cap.copy()
        h = np.where(cap > 0, view.server_queues[None, :].astype(float), np.inf)
        best = np.argmin(h, axis=1)
        rows = np.arange(len(best))
        send = np.zeros_like(cap)
        usable = np.isfinite(h[rows, best])
        send[rows, best] = np.where(usable, np.minimum(view.queues, cap[rows, best]), 0)
        return np.zeros_like(view.queues), send


class GreedyQueue(_Baseline):
    """Cost-blind greedy on queue lengths: run locally first, then send to servers by shortest ``H_s``."""

    name = "greedy_queue"

    def decide(self, view: SlotView):
        opt = self.options
        keys = opt.table(-1.0, view.server_queues[opt.ls].astype(float), np.inf, float)
        cap = opt.table(view.local_capacity, view.capacity_by_link, 0, np.int64)
        return opt.split(fill_in_order(keys, cap, view.queues))


class LPSampled(_Baseline):
    """The optimal stationary LP policy, sampled each slot (unbiased rounding), truncated to the queue.

    Each slot it draws ``floor(x) + Bernoulli(frac(x))`` for the LP's
    expected local work and for each link's expected sends in its current
    state, then serves those targets in order (local first, then links in
    instance order) while the queue lasts.
    """

    name = "lp_sampled"

    def __init__(self, problem):
        from .stationary_lp import lp_policy_arrays

        super().__init__(problem)
        arrays = lp_policy_arrays(problem)
        if arrays is None:
            raise OptionError("`problem` has no stationary policy serving its rates (LP infeasible)")
        self.local, self.send = arrays
        self.link_rows = np.arange(problem.n_links)
        self.rng = np.random.default_rng(0)

    def start(self, problem, rng):
        self.rng = rng

    def _round(self, x):
        base = np.floor(x)
        return (base + (self.rng.random(x.shape) < x - base)).astype(np.int64)

    def decide(self, view: SlotView):
        opt = self.options
        local = np.minimum(self._round(self.local), view.local_capacity)
        sends = np.minimum(self._round(self.send[self.link_rows, view.link_state]), view.capacity_by_link)
        target = opt.table(local, sends, 0, np.int64)
        keys = np.broadcast_to(np.arange(opt.width, dtype=float), target.shape)
        return opt.split(fill_in_order(keys, target, view.queues))


BASELINES = {cls.name: cls for cls in (AllLocal, LeastLoaded, GreedyQueue, LPSampled)}


def run_summary(result) -> dict:
    """A run's summary for ``Solution.details`` (no per-slot or per-queue series)."""
    summary = result.to_dict()
    summary.pop("per_queue")
    return summary


def simulated(problem, policy, *, slots: int, seed: int, deadline: Deadline | None = None,
              details=None) -> MethodResult:
    """Simulate ``policy`` once and return the run as the method's answer.

    The :class:`~formulations.offloading.simulator.SimulationResult` is both
    the ``assignment`` (``problem.evaluate`` accepts a run of the
    formulation's own simulator, which checked every decision) and the
    ``simulation`` whose average cost is the objective. Status ``feasible``,
    or ``time_limit`` when the run stopped at the ``deadline`` before
    ``slots`` (it then holds the slots simulated). The run gets 90% of the
    time left to the ``deadline`` (the rest is for the verdicts); the
    method's set-up, such as the LP, is part of the budget.
    """
    left = Deadline.of(deadline).remaining()
    time_limit = None if left is None else max(0.9 * left, 1e-3)
    result = simulate(problem, policy, slots=slots, seed=seed, time_limit=time_limit)
    status = Status.TIME_LIMIT if result.stopped == "time_limit" else Status.FEASIBLE
    stop = f"; stopped by the time limit after {result.slots} of {slots} slots" if result.stopped else ""
    verdict = "converged" if result.converged else "NOT converged"
    return MethodResult(status, result, simulation=result, details={"simulation": run_summary(result), **(details or {})},
                        message=f"simulated; objective = time-average cost per slot of the run ({verdict}){stop}")


def _method(cls):
    def run(problem, *, deadline: Deadline | None = None, slots: int = 10_000, seed: int = 0) -> MethodResult:
        return simulated(problem, cls(problem), slots=slots, seed=seed, deadline=deadline)

    run.__name__ = cls.name
    run.__doc__ = (f"Baseline, simulated once for `slots` slots. {cls.__doc__}\n\n"
                   "    Past the ``deadline`` the run stops: status ``time_limit``, with the slots simulated.")
    return register("offloading", cls.name, exact=False)(run)


for _cls in BASELINES.values():
    _method(_cls)
