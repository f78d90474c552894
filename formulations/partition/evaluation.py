"""The one evaluator of both partition forms, from the formulas alone (independent of every solver).

A tier vector ``t`` (tier index per layer) is measured by :func:`measure`;
a two-tier partition is the tier vector with the device set on tier 0.
Latency (ms), for links ``b = 0..k-2`` (link ``b`` joins tier ``b`` and
``b + 1``)::

    sum_v ms[v][t(v)]
    + sum_b  transfer(bytes of the layers v with t(v) <= b < max_{w succ v} t(w), uplink_b)
           + transfer(bytes of the outputs v with t(v) > b, downlink_b)
           + rtt_b if some layer has t > b

Energy of the device (tier 0), in mJ (times in ms, powers in W)::

    sum_{t(v)=0} device_mj[v] + tx_w * U_0 + rx_w * W_0 + idle_w * (latency - tier-0 compute - U_0 - W_0)

where ``U_0``/``W_0`` are link 0's uplink/downlink times and ``device_mj[v]``
defaults to ``compute_w * ms[v][0]``. With a ``radio``
(:mod:`formulations.partition.radio`: a preset ``"wifi"``, ``"lte"``,
``"3g"`` or explicit values) ``tx_w``, ``rx_w`` and ``idle_w`` come from
the radio at link 0's rates, and every assignment that uses link 0 adds the
radio's promotion + tail energy ``burst_mj`` once (one burst per inference).
Sums are exact-rounded
(:func:`math.fsum`); transfers are computed from the integer byte totals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from ..base import Evaluation
from .layers import TOLERANCE
from .units import transfer_ms
from ..tolerances import BUDGET_RTOL

__all__ = ["Measures", "measure", "structural_violations", "budget_violations", "constraint_violations",
           "tier_range", "stage_loads", "TierEvaluation", "PartitionEvaluation", "BUDGET_RTOL"]


@dataclass(frozen=True)
class Measures:
    """What :func:`measure` finds for one tier vector (no feasibility check).

    Per tier: ``compute_ms``, ``layers_per_tier``; per link: ``uplink_ms``,
    ``downlink_ms``, ``rtt_ms``, ``uplink_bytes``, ``downlink_bytes``;
    ``latency_ms``; ``energy_mj``, ``device_compute_mj`` and ``waiting_ms``
    (None without an energy model); the stream's ``stage_ms``, ``period_ms``
    and ``bottleneck`` stage.
    """

    compute_ms: list[float]
    uplink_ms: list[float]
    downlink_ms: list[float]
    rtt_ms: list[float]
    uplink_bytes: list[int]
    downlink_bytes: list[int]
    layers_per_tier: list[int]
    latency_ms: float
    stage_ms: dict[str, float]
    energy_mj: float | None = None
    device_compute_mj: float | None = None
    waiting_ms: float | None = None
    radio_burst_mj: float | None = None

    @property
    def period_ms(self) -> float:
        return max(self.stage_ms.values())

    @property
    def bottleneck(self) -> str:
        return max(self.stage_ms, key=lambda stage: self.stage_ms[stage])

    def terms(self) -> dict[str, Any]:
        """The k-tier terms dict (as in :meth:`TieredPartitionProblem.evaluate`'s ``terms``)."""
        out: dict[str, Any] = {"compute_ms": self.compute_ms, "uplink_ms": self.uplink_ms,
                               "downlink_ms": self.downlink_ms, "rtt_ms": self.rtt_ms, "stage_ms": self.stage_ms,
                               "period_ms": self.period_ms, "bottleneck": self.bottleneck}
        if self.energy_mj is not None:
            out["device_compute_mj"] = self.device_compute_mj
            out["waiting_ms"] = self.waiting_ms
            out["radio_burst_mj"] = self.radio_burst_mj
        return out


def stage_loads(tiers: Sequence[str], compute_ms, uplink_ms, downlink_ms) -> dict[str, float]:
    """The stages of a pipelined stream and their load (ms per frame): each tier's compute, each
    link's uplink and downlink. RTT delays a frame but does not limit the rate: it is not a stage."""
    stages = {f"{tier} compute": float(ms) for tier, ms in zip(tiers, compute_ms)}
    for b, (up, down) in enumerate(zip(uplink_ms, downlink_ms)):
        stages[f"{tiers[b]}->{tiers[b + 1]} uplink"] = float(up)
        stages[f"{tiers[b + 1]}->{tiers[b]} downlink"] = float(down)
    return stages


def measure(problem, tiers: np.ndarray) -> Measures:
    """The :class:`Measures` of tier vector ``tiers`` on ``problem`` (any partition form).

    O(n + k m) time (one pass over the edges per link).
    """
    topo = problem.topology
    n_tiers = problem.n_tiers
    compute = problem.ms[np.arange(problem.n_layers), tiers]
    counts = np.bincount(tiers, minlength=n_tiers)
    compute_ms = [math.fsum(compute[tiers == j].tolist()) if counts[j] else 0.0 for j in range(n_tiers)]
    src_t, dst_t = tiers[topo.src], tiers[topo.dst]
    sinks = topo.sinks
    top = int(tiers.max())
    nbytes = problem.output_bytes
    up_bytes: list[int] = []
    down_bytes: list[int] = []
    uplink: list[float] = []
    downlink: list[float] = []
    rtt: list[float] = []
    for b, link in enumerate(problem.links):
        if top <= b:  # nothing beyond link b: it carries nothing
            up_bytes.append(0)
            down_bytes.append(0)
            uplink.append(0.0)
            downlink.append(0.0)
            rtt.append(0.0)
            continue
        senders = np.zeros(problem.n_layers, dtype=bool)
        senders[topo.src[(src_t <= b) & (dst_t > b)]] = True
        up_bytes.append(int(nbytes[senders].sum()))
        down_bytes.append(int(nbytes[sinks[tiers[sinks] > b]].sum()))
        uplink.append(transfer_ms(up_bytes[-1], link.uplink_mbps))
        downlink.append(transfer_ms(down_bytes[-1], link.effective_downlink_mbps))
        rtt.append(float(link.rtt_ms))
    latency = math.fsum(compute_ms + uplink + downlink + rtt)
    out = dict(compute_ms=compute_ms, uplink_ms=uplink, downlink_ms=downlink, rtt_ms=rtt, uplink_bytes=up_bytes,
               downlink_bytes=down_bytes, layers_per_tier=counts.tolist(), latency_ms=latency,
               stage_ms=stage_loads(problem.tiers, compute_ms, uplink, downlink))
    power = problem.energy
    if power is not None:
        waiting = math.fsum(compute_ms[1:] + uplink[1:] + downlink[1:] + rtt)
        device_mj = math.fsum(problem.device_mj[tiers == 0].tolist())
        burst = problem.burst_mj if top > 0 else 0.0  # the radio's promotion + tail, once per inference
        energy = math.fsum([device_mj, power.tx_w * uplink[0], power.rx_w * downlink[0], power.idle_w * waiting,
                            burst])
        out.update(energy_mj=energy, device_compute_mj=device_mj, waiting_ms=waiting, radio_burst_mj=burst)
    return Measures(**out)


def structural_violations(problem, tiers: np.ndarray) -> list[str]:
    """Violated inputs-on-tier-0, outward-edge and pin rules of a tier vector. O(n + m)."""
    out = []
    topo, names, tier_names = problem.topology, problem.names, problem.tiers
    bad_inputs = [names[i] for i in topo.inputs if tiers[i] != 0]
    if bad_inputs:
        out.append(f"inputs not on {tier_names[0]!r}: {bad_inputs[:5]}")
    back = tiers[topo.src] > tiers[topo.dst]
    if back.any():
        e = int(np.flatnonzero(back)[0])
        u, w = int(topo.src[e]), int(topo.dst[e])
        out.append(f"data moves inward (not closed under predecessors): {names[u]!r} on {tier_names[tiers[u]]!r} feeds "
                   f"{names[w]!r} on {tier_names[tiers[w]]!r}")
    for j, tier in enumerate(tier_names):
        for nm in problem.pinned[tier]:
            if tiers[problem.index[nm]] != j:
                out.append(f"{nm!r} is pinned to {tier!r}")
    return out


def _used(problem, res: str, mask: np.ndarray) -> float:
    usage = problem.resources.get(res)
    return 0.0 if usage is None else float(usage[mask].sum())


def budget_violations(problem, on_device: np.ndarray) -> list[str]:
    """The device budgets the tier-0 layers ``on_device`` (a mask) exceed. O(n) per resource."""
    out = []
    for res, limit in problem.device_budget.items():
        used = _used(problem, res, on_device)
        if used > limit * (1 + BUDGET_RTOL):
            out.append(f"{problem.tiers[0]} {res} {used:g} exceeds the budget {limit:g}")
    return out


def constraint_violations(constraints: Mapping[str, float], m: Measures) -> list[str]:
    """The ``latency_max_ms`` / ``energy_max_mj`` limits ``m`` exceeds (relative :data:`TOLERANCE`)."""
    out = []
    limit = constraints.get("latency_max_ms")
    if limit is not None and m.latency_ms > limit + TOLERANCE * max(1.0, limit):
        out.append(f"latency {m.latency_ms:.6g} ms exceeds latency_max_ms {limit:g}")
    limit = constraints.get("energy_max_mj")
    if limit is not None and m.energy_mj is not None and m.energy_mj > limit + TOLERANCE * max(1.0, limit):
        out.append(f"energy {m.energy_mj:.6g} mJ exceeds energy_max_mj {limit:g}")
    return out


def tier_range(problem) -> tuple[np.ndarray, np.ndarray]:
    """Per layer the least and greatest tier any structurally feasible assignment may give it.

    ``lo[v]`` is the largest pinned tier among ``v`` and its ancestors,
    ``hi[v]`` the smallest pinned tier among ``v`` and its descendants
    (0 for inputs, k - 1 otherwise). Pins are satisfiable iff ``lo <= hi``
    everywhere, and then ``lo`` itself is feasible. O(n + m).
    """
    topo = problem.topology
    n = problem.n_layers
    lo = np.zeros(n, dtype=np.int64)
    hi = np.full(n, problem.n_tiers - 1, dtype=np.int64)
    hi[topo.inputs] = 0
    if not any(problem.pinned.values()):  # inputs on tier 0, all else free: nothing to propagate
        return lo, hi
    for j, tier in enumerate(problem.tiers):
        for nm in problem.pinned[tier]:
            v = problem.index[nm]
            lo[v], hi[v] = max(lo[v], j), min(hi[v], j)
    succ: list[list[int]] = [[] for _ in range(n)]
    for u, w in zip(topo.src.tolist(), topo.dst.tolist()):
        succ[u].append(w)
    order = topo.order.tolist()
    for u in order:
        for w in succ[u]:
            lo[w] = max(lo[w], lo[u])
    for u in reversed(order):
        for w in succ[u]:
            hi[u] = min(hi[u], hi[w])
    return lo, hi


def infeasibility(problem) -> str | None:
    """Why no assignment meets the pins and the device budget, or None (constraints not looked at)."""
    lo, hi = problem.tier_range()
    bad = np.flatnonzero(lo > hi)
    if bad.size:
        v = int(bad[0])
        nm, tiers = problem.names[v], problem.tiers
        if v in set(problem.topology.inputs.tolist()):
            return f"input layer {nm!r} is pinned to {tiers[lo[v]]!r}"
        return (f"pins contradict at {nm!r}: it or an ancestor is pinned to {tiers[lo[v]]!r} (or beyond), "
                f"it or a descendant to {tiers[hi[v]]!r} (or before)")
    for res, limit in problem.device_budget.items():
        used = _used(problem, res, hi == 0)
        if used > limit * (1 + BUDGET_RTOL):
            return f"the layers that must stay on {problem.tiers[0]!r} use {res} {used:g} > budget {limit:g}"
    return None


@dataclass(frozen=True)
class TierEvaluation(Evaluation):
    """What :meth:`TieredPartitionProblem.evaluate` returns.

    Attributes
    ----------
    objective : float
        The instance's objective (latency in ms, energy in mJ, the weighted
        sum, or frames/s).
    latency_ms : float
    energy_mj : float or None
        None when the instance has no ``energy`` model.
    terms : dict
        ``compute_ms`` (per tier), ``uplink_ms``, ``downlink_ms``, ``rtt_ms``
        (per link), ``stage_ms``, ``period_ms``, ``bottleneck`` and, with an
        energy model, ``device_compute_mj``, ``waiting_ms`` and ``radio_burst_mj``
        (the radio's promotion + tail, 0 without a radio or without offloading).
    feasible : bool
        Always True (``evaluate`` raises for infeasible assignments).
    """

    latency_ms: float = 0.0
    energy_mj: float | None = None
    terms: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PartitionEvaluation(Evaluation):
    """What :meth:`PartitionProblem.evaluate` returns.

    Attributes
    ----------
    objective : float
        The latency in ms.
    feasible : bool
        Always True (``evaluate`` raises for an infeasible partition).
    breakdown : mapping
        The latency term by term (see :meth:`PartitionProblem.breakdown`).
    """

    breakdown: Mapping[str, float] = field(default_factory=dict)

    @property
    def latency_ms(self) -> float:
        return self.objective
