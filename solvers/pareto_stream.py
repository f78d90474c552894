"""The exact latency-throughput Pareto front of a partition instance (both forms).

A video app wants each frame in time (single-frame latency, ms, minimized)
and as many frames per second as the pipeline streams (throughput =
``1000 / period``, maximized; the period is the largest stage load, see
:mod:`formulations.partition.evaluation`). The front holds one plan per
non-dominated (latency, period) pair.

Algorithm
---------
An epsilon-constraint chain over the period, by CP-SAT
(:func:`formulations.partition.tier_ilp.build_tier_cpsat`): from no cap, each
step solves the lexicographic minimum of (latency, period) subject to
``period < P`` where ``P`` is the period of the previous point (first
minimize the latency, then, with the latency fixed at that minimum, the
period). Each such point is non-dominated, and no non-dominated point lies
between two consecutive ones, so the chain visits the whole front once, in
order of increasing latency and throughput, and stops when no plan has a
smaller period. The period's max-of-stages is a variable at least every
stage's load, so "period < P" is a set of linear rows.

Exactness: both measures use the same floor-scaled integer coefficients
(:mod:`formulations.scaling`). The cap ``period < P`` is posed as ``integer
period <= ceil(P * units) - 1``, a relaxation that keeps every plan whose
float period is below ``P``; a plan that passes it with a float period >= P
(possible only when the scaling was not exact) is dominated, cut off by a
no-good and the step solved again. For data whose terms are whole units
(e.g. the dyadic test instances) the front is exact; otherwise each
lexicographic step is exact up to one unit per floored term. Every point is
re-evaluated in floats by the problem's own evaluator.
"""

from __future__ import annotations

import math
import time

import numpy as np

from formulations.deadline import BuildTimeout
from formulations.partition import TieredPartitionProblem
from formulations.partition.tier_cutgraph import objective_terms
from formulations.partition.tier_ilp import build_tier_cpsat, int_terms

from .algorithms.partition.tier_ilp import MAX_RESOLVES, solve_tier_model
from .solution import Solution, Status

__all__ = ["stream_front", "tiered_view"]


class StreamStop(Exception):
    """The front's deadline passed (or the re-solves ran out) inside a CP-SAT step."""


def tiered_view(problem) -> TieredPartitionProblem:
    """``problem`` in the k-tier form (a two-tier :class:`PartitionProblem` as its k = 2 view). O(n + m)."""
    if isinstance(problem, TieredPartitionProblem):
        return problem
    return TieredPartitionProblem.from_partition(problem, constraints=dict(problem.constraints))


class _Chain:
    """The CP-SAT steps of the chain on one (k-tier) problem."""

    def __init__(self, view, deadline):
        self.view = view
        self.deadline = deadline
        self.terms = int_terms(objective_terms(view, 1.0, 0.0))
        self.ilp_solves = 0
        self.forbidden: list[np.ndarray] = []

    def period_ms(self, tiers) -> float:
        return float(self.view.measures(tiers)[2]["period_ms"])

    def cap_below(self, period_ms: float) -> int:
        """The integer cap keeping every plan whose float period is < ``period_ms`` (a relaxation)."""
        return math.ceil(period_ms * self.terms.units) - 1

    def _run(self, built, hint=None):
        for tiers in self.forbidden:
            built.forbid(tiers)
        if hint is not None:
            built.hint(hint)
        self.ilp_solves += 1
        status, tiers, _, message = solve_tier_model(self.view, built, deadline=self.deadline)
        if status not in ("optimal", "infeasible"):
            raise StreamStop(f"time limit reached: CP-SAT did not finish a front step {message}".strip())
        return tiers

    def lexmin(self, period_cap: int | None):
        """The tier vector minimizing latency, then period, with ``integer period <= period_cap``; or None."""
        try:
            built = build_tier_cpsat(self.view, (1.0, 0.0), period_cap=period_cap, period=False,
                                     deadline=self.deadline)
        except BuildTimeout as exc:
            raise StreamStop(f"time limit reached: {exc}") from None
        fastest = self._run(built)
        if fastest is None:
            return None
        built.model.add(built.latency_expr <= self.terms.value(self.view, fastest))
        built.model.minimize(built.period_expr)
        best = self._run(built, fastest)
        return fastest if best is None else best  # None only if the float re-check cut the plan off

    def next_point(self, last):
        """The next front point after ``last`` (None: ``last`` has the least period)."""
        period = None if last is None else self.period_ms(last)
        cap = None if last is None else self.cap_below(period)
        if last is not None and self.terms.period(self.view, last) <= cap:
            self.forbidden.append(last)  # inexact scaling: the relaxed cap admits ``last`` itself
        for _ in range(MAX_RESOLVES):
            tiers = self.lexmin(cap)
            if tiers is None or period is None or self.period_ms(tiers) < period:
                return tiers
            self.forbidden.append(tiers)  # dominated by ``last`` (a float tie under the relaxed cap)
        raise StreamStop(f"the relaxed period cap kept admitting dominated plans ({MAX_RESOLVES} times)")


def stream_front(problem, *, deadline: float | None, max_points: int):
    """The latency-throughput front: ``(points, stopped, coarse)`` (see :func:`solvers.pareto`).

    ``points`` are Solutions by increasing latency (and throughput);
    ``stopped`` says why the chain stopped early ("" when it is complete);
    ``coarse``: the integer scaling was coarsened (the points are not proven).

    Notes
    -----
    Two CP-SAT solves per front point (more after a float re-check), each on
    a model of O(k (n + m)) rows built afresh.
    """
    start = time.perf_counter()
    view = tiered_view(problem)
    chain = _Chain(view, deadline)
    found: list[np.ndarray] = []
    message = ""
    try:
        while len(found) < max_points:
            tiers = chain.next_point(found[-1] if found else None)
            if tiers is None:
                break
            found.append(tiers)
        else:
            if chain.next_point(found[-1]) is not None:
                message = f"stopped at max_points={max_points}; the front may have more points"
    except StreamStop as exc:
        message = str(exc)
    return _solutions(problem, view, found, chain, time.perf_counter() - start), message, chain.terms.coarse


def _solutions(problem, view, found, chain, runtime) -> list[Solution]:
    out: list[Solution] = []
    for tiers in found:
        assignment = view.assignment(tiers)
        value = problem.evaluate(assignment)
        lat, _, terms = view.measures(tiers)
        if out and out[-1].details["period_ms"] <= terms["period_ms"]:
            continue  # dominated in floats (possible only below the integer resolution)
        if out and out[-1].details["latency_ms"] == lat:
            out.pop()  # the same latency, a smaller period: keep the better plan
        out.append(Solution(
            status=Status.FEASIBLE if chain.terms.coarse else Status.OPTIMAL,
            objective=float(value.objective), assignment=assignment, method="pareto", runtime_s=runtime,
            kind=problem.kind, sense=problem.sense,
            details={
                "latency_ms": float(lat),
                "throughput_fps": math.inf if not terms["period_ms"] else 1000.0 / terms["period_ms"],
                "period_ms": float(terms["period_ms"]),
                "bottleneck": terms["bottleneck"],
                "layers_per_tier": np.bincount(tiers, minlength=view.n_tiers).tolist(),
                "ilp_solves": chain.ilp_solves,
            },
        ))
    return out
