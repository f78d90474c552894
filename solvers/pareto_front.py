"""The exact latency-energy Pareto front of a k-tier partition instance.

Algorithm
---------
1. *Supported points* (those optimal for some weighted sum
   ``w_lat*latency + w_en*energy``): a parametric sweep of the weighted
   min cut (the NISE / Aneja-Nair scheme, as the bandwidth map sweeps the
   uplink). Starting from the lexicographic extremes (least latency, then
   least energy; and the reverse), the segment between two known points
   ``P``, ``Q`` is probed with weights ``(E_P - E_Q, L_Q - L_P)``; a point
   strictly below the segment is a new supported point and splits it.
2. *Every point*: an epsilon-constraint chain by CP-SAT. From the least
   latency point ``P``, the next point is the lexicographic minimum of
   (latency, energy) subject to ``energy < E_P``; it is non-dominated, and
   no non-dominated point lies between the two, so the chain visits the
   whole front once, in order of latency.

Exactness: the CP-SAT comparisons use the floor-scaled integer latency and
energy (:mod:`formulations.scaling`, 1 ns / 1 nJ units), so the front is
exact for data whose terms are whole units (e.g. the dyadic test
instances) and otherwise exact up to 1 unit per term; every point is
re-evaluated in floats by ``problem.evaluate``. With ``constraints`` or a
``device_budget`` the sweep uses CP-SAT instead of the min cut (which
cannot express them).
"""

from __future__ import annotations

import math
import time

import numpy as np

from formulations.partition.tier_cutgraph import objective_terms
from formulations.partition.tier_ilp import build_tier_cpsat, int_terms

from .algorithms.partition.tier_ilp import solve_tier_model
from .algorithms.partition.tiers import weighted_min_cut
from .solution import Solution, Status
from formulations.partition import TieredPartitionProblem

__all__ = ["pareto", "MAX_POINTS"]

#: Refuse to enumerate more front points than this.
MAX_POINTS = 2000


class _Front:
    """Integer metrics and CP-SAT lexicographic solves of one problem."""

    def __init__(self, problem, time_limit):
        self.problem = problem
        self.time_limit = time_limit
        self.lat_terms = int_terms(objective_terms(problem, 1.0, 0.0))
        self.en_terms = int_terms(objective_terms(problem, 0.0, 1.0))
        self.ilp_solves = 0

    def metrics(self, tiers) -> tuple[int, int]:
        return self.lat_terms.value(self.problem, tiers), self.en_terms.value(self.problem, tiers)

    def _solve(self, weights, latency_cap=None, energy_cap=None, hint=None):
        built = build_tier_cpsat(self.problem, weights, latency_cap=latency_cap, energy_cap=energy_cap)
        if hint is not None:
            built.hint(hint)
        self.ilp_solves += 1
        status, tiers, _, message = solve_tier_model(self.problem, built, time_limit=self.time_limit)
        if status not in ("optimal", "infeasible"):
            raise RuntimeError(f"CP-SAT did not finish a Pareto step {message}")
        return tiers

    def lexmin(self, primary: str, latency_cap=None, energy_cap=None, hint=None):
        """Tier vector minimizing ``primary`` then the other measure under the caps, or None."""
        first = (1.0, 0.0) if primary == "latency" else (0.0, 1.0)
        tiers = self._solve(first, latency_cap, energy_cap, hint)
        if tiers is None:
            return None
        lat, en = self.metrics(tiers)
        if primary == "latency":  # lat is optimal under the caps, so it is within latency_cap
            return self._solve((0.0, 1.0), lat, energy_cap, tiers)
        return self._solve((1.0, 0.0), latency_cap, en, tiers)

    def weighted(self, w_lat: float, w_en: float, use_cut: bool):
        scale = max(w_lat, w_en)
        if use_cut:
            return weighted_min_cut(self.problem, w_lat / scale, w_en / scale)[0]
        return self._solve((w_lat / scale, w_en / scale))


def _sweep(front: _Front, first, last, use_cut: bool) -> list:
    """Supported points strictly between two known ones (tier vectors), by weighted solves."""
    problem = front.problem
    found = []
    stack = [(first, last)]
    while stack and len(found) < MAX_POINTS:
        p, q = stack.pop()
        (lat_p, en_p, _), (lat_q, en_q, _) = problem.measures(p), problem.measures(q)
        w_lat, w_en = en_p - en_q, lat_q - lat_p
        if w_lat <= 0 or w_en <= 0:
            continue
        r = front.weighted(w_lat, w_en, use_cut)
        lat_r, en_r, _ = problem.measures(r)
        line = w_lat * lat_p + w_en * en_p
        if w_lat * lat_r + w_en * en_r < line - 1e-9 * max(1.0, abs(line)):
            found.append(r)
            stack += [(p, r), (r, q)]
    return found


def pareto(problem, *, time_limit: float | None = None) -> list[Solution]:
    """The exact latency-energy Pareto front of ``problem``, sorted by latency.

    Parameters
    ----------
    problem : TieredPartitionProblem
        Needs an ``energy`` model. Its ``constraints`` and ``device_budget``
        restrict the front; its ``objective`` only sets each point's
        ``Solution.objective``.
    time_limit : float, optional
        Seconds per CP-SAT step; a step that does not finish raises ``RuntimeError``.

    Returns
    -------
    list of Solution
        One per non-dominated (latency, energy) point, by increasing
        latency (and so decreasing energy); status ``optimal`` (Pareto
        optimal), ``objective`` from ``problem.evaluate``, and
        ``details["latency_ms"]``, ``details["energy_mj"]``,
        ``details["supported"]`` (found by the weighted sweep),
        ``details["layers_per_tier"]``. Empty when no assignment is feasible.

    Notes
    -----
    Two CP-SAT solves per front point plus one max-flow per supported point
    (plus one per hull edge). See the module docstring for exactness.
    """
    if not isinstance(problem, TieredPartitionProblem) or problem.energy is None:
        raise ValueError("pareto needs a k-tier partition instance with an `energy` model")
    start = time.perf_counter()
    if problem.infeasibility_reason():
        return []
    front = _Front(problem, time_limit)
    fastest = front.lexmin("latency")
    if fastest is None:
        return []
    frugal = front.lexmin("energy")
    use_cut = not (problem.constraints or problem.device_budget)
    supported = [fastest, frugal] + _sweep(front, fastest, frugal, use_cut)
    supported_metrics = {front.metrics(t) for t in supported}
    hints = sorted(supported, key=lambda t: front.metrics(t))
    points = [fastest]
    while len(points) < MAX_POINTS:
        lat, en = front.metrics(points[-1])
        hint = next((t for t in hints if front.metrics(t)[1] < en), None)
        nxt = front.lexmin("latency", energy_cap=en - 1, hint=hint)
        if nxt is None:
            break
        points.append(nxt)
    else:
        raise RuntimeError(f"the front has more than {MAX_POINTS} points")
    runtime = time.perf_counter() - start
    return _solutions(problem, front, points, supported_metrics, runtime)


def _solutions(problem, front, points, supported_metrics, runtime) -> list[Solution]:
    out: list[Solution] = []
    for tiers in points:
        value = problem.evaluate(tiers)
        if out and math.isclose(out[-1].details["latency_ms"], value.latency_ms, rel_tol=1e-12, abs_tol=0) \
                and math.isclose(out[-1].details["energy_mj"], value.energy_mj, rel_tol=1e-12, abs_tol=0):
            continue  # the same point in floats (possible only below the integer resolution)
        out.append(
            Solution(
                status=Status.OPTIMAL,
                objective=float(value.objective),
                assignment=problem.assignment(tiers),
                method="pareto",
                runtime_s=runtime,
                kind=problem.kind,
                sense=problem.sense,
                details={
                    "latency_ms": float(value.latency_ms),
                    "energy_mj": float(value.energy_mj),
                    "supported": front.metrics(tiers) in supported_metrics,
                    "layers_per_tier": np.bincount(tiers, minlength=problem.n_tiers).tolist(),
                    "ilp_solves": front.ilp_solves,
                },
            )
        )
    return out
