"""The k-tier min-cut network: nested closed sets as one s-t cut.

Weighted objective
------------------
For weights ``a, b >= 0`` the objective ``a*latency + b*energy`` of a
:class:`~formulations.partition.tiers.TieredPartitionProblem` is a sum of
the same terms as the latency, with per-term coefficients
(:func:`objective_terms`): with ``p = a + b*idle_w``,

- layer ``v`` on tier 0 costs ``a*ms[v][0] + b*device_mj[v]``; on tier
  ``j >= 1`` it costs ``p*ms[v][j]`` (the device idles meanwhile);
- upload on link 0 costs ``(a + b*tx_w)*up_0[v]``, download on link 0
  ``(a + b*rx_w)*down_0[v]``; transfers on links ``b >= 1`` cost ``p`` times
  their time; every RTT costs ``p*rtt_b`` (the device waits); link 0's RTT
  term also carries ``b*burst_mj`` (the radio's promotion and tail energy,
  paid exactly when link 0 is used).

Every coefficient is >= 0, so the energy and every weighted objective are
cut functions like the latency (nothing falls back to the ILP).

Network
-------
Node ``(v, B)`` for each layer ``v`` and boundary ``B = 1..k-1`` means
"``t(v) >= B``" when it is on the **sink** side (for k = 2 the source side
is the device, as in :mod:`formulations.partition.cutgraph`). Node id
``(B - 1)*n + v``; then source, sink, auxiliary nodes. Arcs:

- chain ``(v, B) -> (v, B+1)`` (infinite): ``t(v) >= B+1`` implies ``t(v) >= B``;
- closure ``(w, B) -> (u, B)`` (infinite) for each edge ``u -> w``: outward only;
- unary: ``d = cost[v][B] - cost[v][B-1]`` (+ the link ``B-1`` download
  cost of an output) paid when ``(v, B)`` is on the sink side: ``s -> (v, B)``
  with ``d`` if ``d > 0``, else ``(v, B) -> t`` with ``-d`` and ``d`` added
  to the constant (``sum_v cost[v][0]`` starts it);
- upload on link ``B-1`` (paid when ``t(u) < B <= max t(w)``): for a single
  successor ``(u, B) -> (w, B)``; for several an auxiliary node ``x``:
  ``(u, B) -> x`` with the cost and ``x -> (w, B)`` infinite (as in the
  two-tier network);
- RTT of link ``B-1`` (paid iff some layer has ``t >= B``, i.e. some output
  does): an auxiliary node ``r``, ``s -> r`` with the cost and ``r -> (v, B)``
  infinite for every output ``v``; the RTT is thus exactly a cut term;
- inputs: ``s -> (v, 1)`` infinite; a pin to tier ``j``: ``(v, j) -> t``
  (if ``j >= 1``) and ``s -> (v, j+1)`` (if ``j < k-1``) infinite.

A minimum cut of value ``c`` gives the assignment ``t(v) = #{B: (v, B) on
the sink side}`` with objective ``constant + c``. O(k (n + m)) arcs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cutgraph import CutNetwork, assemble, sent_once_arcs

__all__ = ["TermCosts", "TierCut", "objective_terms", "build_tier_network", "tiers_from_side"]


@dataclass(frozen=True)
class TermCosts:
    """Coefficients of an objective as a sum of latency terms.

    Attributes
    ----------
    tier_cost : ndarray, shape (n, k)
        Cost of layer ``v`` on tier ``j``.
    up : ndarray, shape (k-1, n)
        Cost of sending ``v``'s output over link ``b``.
    down : ndarray, shape (k-1, n)
        Cost of returning output ``v`` over link ``b`` (0 for non-outputs).
    rtt : ndarray, shape (k-1,)
        Cost of using link ``b`` at all.
    """

    tier_cost: np.ndarray
    up: np.ndarray
    down: np.ndarray
    rtt: np.ndarray

    def value(self, problem, tiers: np.ndarray) -> float:
        """The objective of a tier vector from these coefficients (a check of the decomposition)."""
        topo = problem.topology
        far = np.full(problem.n_layers, -1, dtype=np.int64)
        np.maximum.at(far, topo.src, tiers[topo.dst])
        total = float(self.tier_cost[np.arange(problem.n_layers), tiers].sum())
        for b in range(len(self.rtt)):
            total += float(self.up[b][(tiers <= b) & (far > b)].sum())
            total += float(self.down[b][tiers > b].sum())
            total += float(self.rtt[b]) if tiers.max() > b else 0.0
        return total


def objective_terms(problem, latency_weight: float, energy_weight: float) -> TermCosts:
    """Coefficients of ``latency_weight*latency + energy_weight*energy`` (see module docstring).

    O(k n). Raises ``ValueError`` for negative weights or an energy weight
    without an energy model.
    """
    a, b = float(latency_weight), float(energy_weight)
    if a < 0 or b < 0:
        raise ValueError(f"weights must be >= 0, got latency {a}, energy {b}")
    ms = problem.ms
    tier_cost = a * ms.copy()
    up = a * problem.up_ms.copy()
    down = a * problem.down_ms.copy()
    rtt = a * problem.rtt_ms.copy()
    if b > 0:
        power = problem.energy
        if power is None:
            raise ValueError("an energy weight needs the instance's `energy` model")
        waiting = a + b * power.idle_w
        tier_cost[:, 0] = a * ms[:, 0] + b * problem.device_mj
        tier_cost[:, 1:] = waiting * ms[:, 1:]
        up = waiting * problem.up_ms
        down = waiting * problem.down_ms
        up[0] = (a + b * power.tx_w) * problem.up_ms[0]
        down[0] = (a + b * power.rx_w) * problem.down_ms[0]
        rtt = waiting * problem.rtt_ms
        rtt[0] += b * problem.burst_mj  # the radio's promotion + tail, paid iff link 0 is used
    return TermCosts(tier_cost, up, down, rtt)


@dataclass(frozen=True)
class TierCut:
    """A k-tier min-cut network and what turns a cut into an objective value.

    Attributes
    ----------
    network : CutNetwork
        One block; ``capacity_ms`` holds objective units (ms for latency,
        mJ for energy).
    constant : float
        Added to the cut value to give the objective.
    n_layers, n_tiers : int
    """

    network: CutNetwork
    constant: float
    n_layers: int
    n_tiers: int


def _forced_arcs(problem, node, source, sink):
    """Infinite arcs of inputs and pins: lists of (tails, heads)."""
    n_tiers = problem.n_tiers
    tails, heads = [], []
    for v in problem.topology.inputs.tolist():
        tails.append(source)
        heads.append(node(v, 1))
    for j, tier in enumerate(problem.tiers):
        for nm in problem.pinned[tier]:
            v = problem.index[nm]
            if j >= 1:
                tails.append(node(v, j))
                heads.append(sink)
            if j < n_tiers - 1:
                tails.append(source)
                heads.append(node(v, j + 1))
    return tails, heads


def build_tier_network(problem, costs: TermCosts) -> TierCut:
    """Build the min-cut network of ``problem`` for the objective ``costs`` (see module docstring).

    Vectorized, O(k (n + m)) arcs and time.
    """
    n = problem.n_layers
    n_bounds = problem.n_tiers - 1
    topo = problem.topology
    src, dst = topo.src, topo.dst
    source, sink = n * n_bounds, n * n_bounds + 1
    next_aux = n * n_bounds + 2
    sinks = topo.sinks
    inf = np.inf
    parts = []
    constant = float(costs.tier_cost[:, 0].sum())
    layers = np.arange(n)
    for bound in range(1, n_bounds + 1):
        base = (bound - 1) * n
        diff = costs.tier_cost[:, bound] - costs.tier_cost[:, bound - 1] + costs.down[bound - 1]
        constant += float(diff[diff < 0].sum())
        parts.append((np.full(n, source), base + layers, np.where(diff > 0, diff, 0.0)))
        parts.append((base + layers, np.full(n, sink), np.where(diff < 0, -diff, 0.0)))
        if bound < n_bounds:
            parts.append((base + layers, base + n + layers, np.full(n, inf)))
        parts.append((base + dst, base + src, np.full(len(src), inf)))
        ids = base + layers
        upload_parts, n_aux = sent_once_arcs(src, dst, ids, ids, costs.up[bound - 1], next_aux)
        parts += [part[:3] for part in upload_parts]
        next_aux += n_aux
        rtt_node = next_aux
        next_aux += 1
        parts.append((np.array([source]), np.array([rtt_node]), np.array([costs.rtt[bound - 1]])))
        parts.append((np.full(len(sinks), rtt_node), base + sinks, np.full(len(sinks), inf)))
    forced_tails, forced_heads = _forced_arcs(problem, lambda v, b: (b - 1) * n + v, source, sink)
    parts.append((np.array(forced_tails, dtype=np.int64), np.array(forced_heads, dtype=np.int64), np.full(len(forced_tails), inf)))
    network = assemble(parts, next_aux, source, sink, n * n_bounds)
    return TierCut(network, constant, n, problem.n_tiers)


def tiers_from_side(cut: TierCut, side: np.ndarray) -> np.ndarray:
    """Tier vector from the source-side mask of a cut: ``t(v) = #{B: (v, B) on the sink side}``."""
    n = cut.n_layers
    beyond = ~side[: n * (cut.n_tiers - 1)].reshape(cut.n_tiers - 1, n)
    return beyond.sum(axis=0).astype(np.int64)
