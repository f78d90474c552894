"""The exact latency-energy Pareto front of a k-tier partition instance (and the dispatch to the
latency-throughput front of :mod:`solvers.pareto_stream`).

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
from formulations.deadline import BuildTimeout
from formulations.errors import OptionError
from formulations.partition import TieredPartitionProblem

__all__ = ["pareto", "ParetoFront", "MAX_POINTS", "FRONTS"]

#: The fronts :func:`pareto` computes (``objectives=``).
FRONTS = (("latency", "energy"), ("latency", "throughput"))

#: Default cap on the number of front points enumerated (``max_points``).
MAX_POINTS = 2000


class ParetoFront(list):
    """The front: a list of :class:`~solvers.solution.Solution`, by increasing latency.

    Attributes
    ----------
    complete : bool
        Every non-dominated point is in the list. False when the enumeration
        stopped at ``time_limit`` or ``max_points``: the points listed are
        still each Pareto-optimal, but later (slower, more frugal) points may
        be missing.
    exact : bool
        The integer models resolved every term (the scaling was not
        coarsened, :mod:`formulations.scaling`): each point is Pareto-optimal
        up to the stated rounding slack. When False, the points are plans
        found on a coarsened model (status ``feasible``), not proven optimal.
    message : str
        Why the enumeration stopped early or was inexact ("" otherwise).
    """

    def __init__(self, points=(), *, complete: bool = True, exact: bool = True, message: str = ""):
        super().__init__(points)
        self.complete = complete
        self.exact = exact
        self.message = message


#: Why a front on coarsened integer models is not proven.
_COARSE = ("costs span too many decades for the integer models: the scaling was coarsened, "
           "so the points are plans, not proven Pareto-optimal")


class _Stop(Exception):
    """The front's deadline passed inside a CP-SAT step."""


class _Front:
    """Integer metrics and CP-SAT lexicographic solves of one problem."""

    def __init__(self, problem, deadline):
        self.problem = problem
        self.deadline = deadline
        self.lat_terms = int_terms(objective_terms(problem, 1.0, 0.0))
        self.en_terms = int_terms(objective_terms(problem, 0.0, 1.0))
        self.ilp_solves = 0

    @property
    def coarse(self) -> bool:
        return self.lat_terms.coarse or self.en_terms.coarse

    def metrics(self, tiers) -> tuple[int, int]:
        return self.lat_terms.value(self.problem, tiers), self.en_terms.value(self.problem, tiers)

    def _solve(self, weights, latency_cap=None, energy_cap=None, hint=None):
        try:
            built = build_tier_cpsat(self.problem, weights, latency_cap=latency_cap, energy_cap=energy_cap,
                                     deadline=self.deadline)
        except BuildTimeout as exc:
            raise _Stop(str(exc)) from None
        if hint is not None:
            built.hint(hint)
        self.ilp_solves += 1
        status, tiers, _, message = solve_tier_model(self.problem, built, deadline=self.deadline)
        if status not in ("optimal", "infeasible"):
            raise _Stop(f"CP-SAT did not finish a Pareto step {message}".strip())
        return tiers

    def lexmin(self, primary: str, latency_cap=None, energy_cap=None, hint=None):
        """Tier vector minimizing ``primary`` then the other measure under the caps, or None."""
        first = (1.0, 0.0) if primary == "latency" else (0.0, 1.0)
        tiers = self._solve(first, latency_cap, energy_cap, hint)
        if tiers is None:
            return None
        lat, en = self.metrics(tiers)
        if primary == "latency":  # lat is optimal under the caps, so it is within latency_cap
            second = self._solve((0.0, 1.0), lat, energy_cap, tiers)
        else:
            second = self._solve((1.0, 0.0), latency_cap, en, tiers)
        return tiers if second is None else second  # None only if the float re-check cut the first plan off

    def weighted(self, w_lat: float, w_en: float, use_cut: bool):
        scale = max(w_lat, w_en)
        if use_cut:
            return weighted_min_cut(self.problem, w_lat / scale, w_en / scale)[0]
        return self._solve((w_lat / scale, w_en / scale))


def _sweep(front: _Front, first, last, use_cut: bool) -> list:
    """Supported points strictly between two known ones (tier vectors), by weighted solves."""
    problem = front.problem
    found: list = []
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


def pareto(problem, *, objectives=None, time_limit: float | None = None,
           max_points: int = MAX_POINTS) -> ParetoFront:
    """The exact Pareto front of ``problem``: latency-energy or latency-throughput, sorted by latency.

    Parameters
    ----------
    problem : TieredPartitionProblem or PartitionProblem
        Its ``constraints`` and ``device_budget`` restrict the front; its
        ``objective`` only sets each point's ``Solution.objective`` (and the
        default ``objectives``). The latency-energy front needs a k-tier
        instance with an ``energy`` model; the latency-throughput front takes
        both forms.
    objectives : (str, str), optional
        ``("latency", "energy")``: latency (ms, min) vs device energy (mJ,
        min), this module's algorithm. ``("latency", "throughput")``:
        single-frame latency (ms, min) vs the frames/s of a pipelined stream
        (max), :mod:`solvers.pareto_stream`. Default: the throughput front
        for an instance whose objective is ``"throughput"``, else the energy
        front.
    time_limit : float, optional
        Wall-clock seconds for the whole front (> 0). When reached, the
        points found so far are returned with ``complete=False``.
    max_points : int
        Stop after this many points (``complete=False``, with a message).

    Returns
    -------
    ParetoFront
        A list with one Solution per non-dominated (latency, energy) point,
        by increasing latency (and so decreasing energy). For the throughput
        front: one per non-dominated (latency, throughput) point, by
        increasing latency and throughput, with ``details["latency_ms"]``,
        ``details["throughput_fps"]``, ``details["period_ms"]``,
        ``details["bottleneck"]`` and ``details["layers_per_tier"]``. Status ``optimal``
        (Pareto optimal; ``feasible`` when the scaling was coarsened, see
        :attr:`ParetoFront.exact`), ``objective`` from ``problem.evaluate``,
        and ``details["latency_ms"]``, ``details["energy_mj"]``,
        ``details["supported"]`` (found by the weighted sweep),
        ``details["layers_per_tier"]``. Empty (and complete) only when no
        assignment is feasible.

    Raises
    ------
    OptionError
        A ``time_limit`` that is not > 0, a ``max_points`` below 1, unknown
        ``objectives``, or (for the energy front) a problem that is not a
        k-tier instance with an energy model.

    Notes
    -----
    Two CP-SAT solves per front point plus one max-flow per supported point
    (plus one per hull edge). See the module docstring for exactness, and
    :mod:`solvers.pareto_stream` for the throughput front's.
    """
    objectives = _objectives(problem, objectives)
    if objectives == FRONTS[0] and (not isinstance(problem, TieredPartitionProblem) or problem.energy is None):
        raise OptionError("the latency-energy front needs a k-tier partition instance with an `energy` model")
    time_limit = _positive_seconds(time_limit)
    if isinstance(max_points, bool) or not isinstance(max_points, (int, np.integer)) or max_points < 1:
        raise OptionError(f"`max_points` must be a whole number >= 1, got {max_points!r}")
    start = time.perf_counter()
    if problem.infeasibility_reason():
        return ParetoFront()
    if objectives == FRONTS[1]:
        return _throughput_front(problem, None if time_limit is None else start + time_limit, max_points)
    front = _Front(problem, None if time_limit is None else start + time_limit)
    points, supported, message = [], [], ""
    try:
        fastest = front.lexmin("latency")
        if fastest is None:
            return ParetoFront()
        points.append(fastest)
        frugal = front.lexmin("energy")
        use_cut = not (problem.constraints or problem.device_budget)
        supported = [fastest, frugal] + _sweep(front, fastest, frugal, use_cut)
        hints = sorted(supported, key=lambda t: front.metrics(t))
        while len(points) < max_points:
            lat, en = front.metrics(points[-1])
            hint = next((t for t in hints if front.metrics(t)[1] < en), None)
            nxt = front.lexmin("latency", energy_cap=en - 1, hint=hint)
            if nxt is None:
                break
            points.append(nxt)
        else:
            message = f"stopped at max_points={max_points}; the front may have more points"
    except _Stop as exc:
        message = f"time limit reached: {exc}"
    supported_metrics = {front.metrics(t) for t in supported}
    runtime = time.perf_counter() - start
    complete, exact = not message, not front.coarse
    if not exact:
        message = (message + "; " if message else "") + _COARSE
    return ParetoFront(_solutions(problem, front, points, supported_metrics, runtime, exact),
                       complete=complete, exact=exact, message=message)


def _objectives(problem, objectives) -> tuple[str, str]:
    """The front asked for (default: by the instance's objective), or OptionError naming ``objectives``."""
    from formulations.partition.core import PartitionCore

    if not isinstance(problem, PartitionCore):
        raise OptionError(f"pareto needs a partition instance, got {type(problem).__name__}")
    if objectives is None:
        return FRONTS[1] if problem.throughput else FRONTS[0]
    if isinstance(objectives, str) or tuple(objectives) not in FRONTS:
        raise OptionError(f"`objectives` must be one of {[list(f) for f in FRONTS]}, got {objectives!r}")
    return tuple(objectives)


def _throughput_front(problem, deadline, max_points) -> ParetoFront:
    from .pareto_stream import stream_front

    points, stopped, coarse = stream_front(problem, deadline=deadline, max_points=max_points)
    message = stopped
    if coarse:
        message = (message + "; " if message else "") + _COARSE
    return ParetoFront(points, complete=not stopped, exact=not coarse, message=message)


def _positive_seconds(time_limit):
    if time_limit is None:
        return None
    if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(time_limit)) or not float(time_limit) > 0:
        raise OptionError(f"`time_limit` must be a number of seconds > 0, got {time_limit!r}")
    return float(time_limit)


def _solutions(problem, front, points, supported_metrics, runtime, exact=True) -> list[Solution]:
    out: list[Solution] = []
    for tiers in points:
        value = problem.evaluate(tiers)
        if out and math.isclose(out[-1].details["latency_ms"], value.latency_ms, rel_tol=1e-12, abs_tol=0) \
                and math.isclose(out[-1].details["energy_mj"], value.energy_mj, rel_tol=1e-12, abs_tol=0):
            continue  # the same point in floats (possible only below the integer resolution)
        out.append(
            Solution(
                status=Status.OPTIMAL if exact else Status.FEASIBLE,
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
