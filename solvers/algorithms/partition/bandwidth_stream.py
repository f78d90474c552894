"""The throughput-optimal partition as a function of the uplink bandwidth (a stream of frames).

With ``x = 1 / uplink_mbps`` (link 0's uplink; its downlink follows it unless
the instance fixes it), a plan's stage loads are either constant (each tier's
compute, the other links, a fixed downlink) or ``bytes * 8 / 1000 * x`` (link
0's uplink, and its downlink when it follows), so its period is a hinge::

    period(x) = max(C, S x)      C = largest constant stage (ms), S = largest per-Mbps stage (ms * Mbps)

and the optimum ``g(x) = min over plans of max(C, S x)`` is piecewise linear,
nondecreasing, but neither convex nor concave. The optimal plan changes at
finitely many bandwidths: only the plans whose ``(C, S)`` no other plan
beats in both matter, and along them (by increasing ``C``, decreasing ``S``)
the optimum moves monotonically with ``x``.

Algorithm (an Eisner-Severance refinement on hinges): solve at both ends; for
two optimal plans A (at ``x1``) and B (at ``x2``) take a point ``x*`` in
``[x1, x2]`` where their periods cross, and solve there. If no plan beats
them at ``x*``, then A is optimal on ``[x1, x*]`` and B on ``[x*, x2]``
(proof: a plan Q beating A at ``x < x*`` either beats A at ``x1`` too, when
A is flat there, or has ``S_Q < S_A`` and ``C_Q < S_A x``, and then beats A
at ``x*``; symmetrically for B, with ``period / x`` nonincreasing); ``x*`` is
a breakpoint. Otherwise the new plan splits the interval. Every probe is an
exact solve, so the map is exact up to the solver's tolerance; ``2 * #pieces
- 1`` solves when no probe is wasted on ties.

A ``latency_max_ms`` constraint is refused: the set of plans meeting it
changes with the bandwidth (each plan's latency is a line in ``x``), and the
monotone structure above no longer holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import numpy as np

from formulations.errors import OptionError

from .bandwidth_pieces import BandwidthMap, Piece

__all__ = ["StreamPiece", "StreamMap", "stream_bandwidth_map"]


@dataclass(frozen=True)
class StreamPiece(Piece):
    """One interval of bandwidths with one throughput-optimal partition.

    ``period_ms(mbps) = max(stage_ms, per_mbps_stage_ms / mbps)``; the
    piece's single-frame latency is still ``fixed_ms + per_mbps_ms / mbps``
    (:meth:`Piece.latency`). ``device`` lists the tier-0 layers.
    """

    stage_ms: float = 0.0
    per_mbps_stage_ms: float = 0.0
    layers_per_tier: tuple[int, ...] = ()

    def period_ms(self, uplink_mbps: float) -> float:
        return max(self.stage_ms, self.per_mbps_stage_ms / uplink_mbps)

    def throughput(self, uplink_mbps: float) -> float:
        """frames/s at ``uplink_mbps`` (infinite when no stage has work)."""
        period = self.period_ms(uplink_mbps)
        return math.inf if period <= 0 else 1000.0 / period

    def to_dict(self) -> dict:
        return {**super().to_dict(), "stage_ms": self.stage_ms, "per_mbps_stage_ms": self.per_mbps_stage_ms,
                "layers_per_tier": list(self.layers_per_tier)}


@dataclass
class StreamMap(BandwidthMap):
    """Throughput-optimal partitions over a bandwidth range (pieces of :class:`StreamPiece`)."""

    def throughput(self, uplink_mbps: float) -> float:
        """The most frames/s at ``uplink_mbps`` (inside the range)."""
        return cast(StreamPiece, self.lookup(uplink_mbps)).throughput(uplink_mbps)

    def to_dict(self) -> dict:
        return {**super().to_dict(), "objective": "throughput"}


@dataclass(frozen=True)
class _Hinge:
    """A plan's period ``max(c, s x)`` and latency line ``fixed + per x`` (x = 1 / Mbps)."""

    c: float
    s: float
    fixed: float
    per: float
    tiers: tuple

    def at(self, x: float) -> float:
        return max(self.c, self.s * x)


def _hinge(unit, tiers: np.ndarray) -> _Hinge:
    """The hinge of a tier vector, from the problem at 1 Mbps (``unit``). O(n + k m)."""
    latency, _, terms = unit.measures(tiers)
    stages = dict(terms["stage_ms"])
    t0, t1 = unit.tiers[0], unit.tiers[1]
    up = stages.pop(f"{t0}->{t1} uplink")
    per = up
    s = up
    if unit.links[0].downlink_mbps is None:  # the downlink follows the uplink
        down = stages.pop(f"{t1}->{t0} downlink")
        per += down
        s = max(s, down)
    c = max(stages.values(), default=0.0)
    return _Hinge(float(c), float(s), float(latency - per), float(per), tuple(int(t) for t in tiers))


def _crossing(a: _Hinge, b: _Hinge, x1: float, x2: float) -> float:
    """A point of ``[x1, x2]`` where ``a`` and ``b`` have equal periods (a is no worse at x1, b at x2)."""
    points = sorted({x1, x2} | {k for k in (a.c / a.s if a.s else None, b.c / b.s if b.s else None)
                                if k is not None and x1 < k < x2})
    gap = lambda x: a.at(x) - b.at(x)  # noqa: E731
    for lo, hi in zip(points, points[1:]):
        g_lo, g_hi = min(gap(lo), 0.0) if lo == x1 else gap(lo), gap(hi)
        if g_hi >= 0:
            return lo if g_hi == g_lo else lo + (hi - lo) * (-g_lo) / (g_hi - g_lo)
    return x2


def stream_bandwidth_map(problem, min_mbps: float, max_mbps: float, *, method: str = "ilp",
                         rel_tol: float = 1e-9) -> StreamMap:
    """Exact breakpoints of the throughput-optimal partition over ``[min_mbps, max_mbps]`` (link 0's uplink).

    See the module docstring for the method and its proof. Called by
    :func:`~.bandwidth.bandwidth_map` for an instance whose objective is
    ``"throughput"`` (both forms; k tiers vary link 0).

    Raises
    ------
    OptionError
        For a ``latency_max_ms`` constraint (see the module docstring), or
        when a probe is not solved to optimality.
    """
    from ...registry import solve

    if problem.constraints.get("latency_max_ms") is not None:
        raise OptionError("bandwidth_map of the throughput objective does not take `constraints.latency_max_ms`: "
                          "which plans meet the cap changes with the bandwidth, so the breakpoints are not those "
                          "of the period alone; solve at each bandwidth instead")
    unit = problem.with_network(uplink_mbps=1.0)
    solves = 0

    def optimum(x: float) -> _Hinge:
        nonlocal solves
        solves += 1
        sol = solve(problem.with_network(uplink_mbps=1.0 / x), method=method)
        if sol.status.value != "optimal":
            raise OptionError(f"no proven throughput-optimal partition at {1.0 / x:g} Mbps: {sol.status} {sol.message}")
        return _hinge(unit, problem.tier_vector(sol.assignment))

    x_lo, x_hi = 1.0 / max_mbps, 1.0 / min_mbps
    left, right = optimum(x_lo), optimum(x_hi)
    cuts: list[tuple[float, _Hinge]] = []  # (breakpoint x, the plan to its left: higher bandwidth)

    def refine(x1, a, x2, b, depth=0):
        if a.tiers == b.tiers or (a.c, a.s) == (b.c, b.s) or depth > 200:
            return
        xs = _crossing(a, b, x1, x2)
        if xs >= x2:
            cuts.append((x2, a))
            return
        if xs > x1:
            mid = optimum(xs)
            if mid.at(xs) < a.at(xs) - rel_tol * max(1.0, a.at(xs)) and mid.tiers not in (a.tiers, b.tiers):
                refine(x1, a, xs, mid, depth + 1)
                refine(xs, mid, x2, b, depth + 1)
                return
        cuts.append((xs, a))

    refine(x_lo, left, x_hi, right)
    pieces: list[Piece] = list(_pieces(problem, x_lo, x_hi, sorted(cuts, key=lambda c: c[0]), right))
    return StreamMap(pieces=pieces,
                     solves=solves, method=method)


def _pieces(problem, x_lo, x_hi, cuts, last) -> list[StreamPiece]:
    """Pieces in ascending Mbps from the breakpoints (ascending x); neighbours with one plan merged,
    empty intervals dropped."""
    segments: list[tuple[float, float, _Hinge]] = []
    start = x_lo
    for xb, hinge in cuts + [(x_hi, last)]:
        if segments and segments[-1][2].tiers == hinge.tiers:
            segments[-1] = (segments[-1][0], xb, hinge)
        else:
            segments.append((start, xb, hinge))
        start = xb
    pieces = []
    for a, b, h in reversed(segments):
        tiers = np.array(h.tiers)
        pieces.append(StreamPiece(
            min_mbps=1.0 / b, max_mbps=1.0 / a, device=tuple(problem.names[v] for v in np.flatnonzero(tiers == 0)),
            fixed_ms=h.fixed, per_mbps_ms=h.per, stage_ms=h.c, per_mbps_stage_ms=h.s,
            layers_per_tier=tuple(np.bincount(tiers, minlength=problem.n_tiers).tolist())))
    return [p for p in pieces if p.max_mbps > p.min_mbps] or pieces[:1]
