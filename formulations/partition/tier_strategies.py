"""Hypothesis strategies for random k-tier partition instances (for property tests).

Every number is a dyadic rational (times in multiples of 1/4 ms, powers in
multiples of 1/4 W, bytes in multiples of 125 with bandwidths 1..16 Mbps,
so each transfer is a multiple of 1/16 ms): sums and products are then
exact in floating point and in the nanosecond integer scaling, so exact
methods, brute force and Pareto fronts can be compared without tolerance
artefacts. Requires ``hypothesis`` (a test dependency).
"""

from __future__ import annotations

from .strategies import random_dags
from .radio import RadioModel
from .tiers import EnergyModel, Link, TierLayer, TieredPartitionProblem

__all__ = ["tiered_instances"]

_MBPS = (1.0, 2.0, 4.0, 8.0, 16.0)


def _quarters(st, high: int):
    return st.integers(0, 4 * high).map(lambda q: q / 4.0)


def _radio(st, draw) -> RadioModel:
    """A radio with dyadic powers in W (multiples of 250 mW) and a dyadic burst energy."""
    mw = lambda high: draw(st.integers(0, high)) * 250.0  # noqa: E731
    n_tails = draw(st.integers(0, 2))
    return RadioModel(
        mw(4), mw(4), mw(8), max_up_mbps=draw(st.sampled_from(_MBPS)), max_down_mbps=draw(st.sampled_from(_MBPS)),
        idle_mw=mw(4), promotion_mw=mw(8), promotion_ms=float(draw(st.integers(0, 8))),
        tail_mw=tuple(mw(8) for _ in range(n_tails)), tail_ms=tuple(float(draw(st.integers(0, 8))) for _ in range(n_tails)),
    )


def tiered_instances(n_tiers=(2, 3, 4), max_layers: int | None = None, *, energy: bool = True,
                     objectives=("latency", "energy", "weighted"), constraints: bool = False,
                     pins: bool = True, budget: bool = False, radio: bool = False):
    """A strategy of :class:`TieredPartitionProblem` instances.

    Parameters
    ----------
    n_tiers : tuple of int
        Tier counts to draw from.
    max_layers : int, optional
        Default 8, 6, 5 for k = 2, 3, >= 4 (brute force stays small).
    energy : bool
        Include an energy model (needed by energy objectives).
    objectives : tuple of str
        Objectives to draw from (``"weighted"`` draws weights in {0, 1/2, 1, 2}).
    constraints : bool
        Sometimes draw ``latency_max_ms`` / ``energy_max_mj`` (0..120).
    pins : bool
        Sometimes pin a few layers.
    budget : bool
        Give layers ``memory_bytes`` (0..10) and a tier-0 ``device_budget`` (0..30).
    radio : bool
        With an energy model, sometimes draw a :class:`RadioModel` (powers in
        multiples of 250 mW, saturation at 1..16 Mbps, promotion and tail
        of 0..8 ms: a burst energy of 0..16 mJ).

    Notes
    -----
    DAGs come from :func:`~.strategies.random_dags` (several inputs and
    outputs occur); layer order in the list is shuffled relative to the
    topological order.
    """
    from hypothesis import strategies as st

    @st.composite
    def build(draw):
        k = draw(st.sampled_from(tuple(n_tiers)))
        limit = max_layers or {2: 8, 3: 6}.get(k, 5)
        n, dag = draw(random_dags(1, limit))  # the two-tier strategies' DAGs (shrink toward a chain)
        names = [f"L{i}" for i in range(n)]
        edges = [(names[u], names[v]) for u, v in dag]
        with_energy = energy or "energy" in objectives
        layers = []
        for i in range(n):
            ms = tuple(draw(_quarters(st, 20)) for _ in range(k))
            mj = draw(st.none() | _quarters(st, 30)) if with_energy else None
            memory = draw(st.integers(0, 10)) if budget else None
            layers.append(TierLayer(names[i], ms, 125 * draw(st.integers(0, 40)), device_mj=mj, memory_bytes=memory))
        order = draw(st.permutations(range(n)))
        layers = [layers[i] for i in order]
        links = [
            Link(draw(st.sampled_from(_MBPS)), draw(st.none() | st.sampled_from(_MBPS)), draw(_quarters(st, 5)))
            for _ in range(k - 1)
        ]
        power = None
        if with_energy:
            power = EnergyModel(*(draw(_quarters(st, 4)) for _ in range(4)))
        radio_model = _radio(st, draw) if with_energy and radio and draw(st.booleans()) else None
        objective = draw(st.sampled_from(tuple(objectives)))
        if objective == "weighted":
            a = draw(st.sampled_from((0.0, 0.5, 1.0, 2.0)))
            b = draw(st.sampled_from((0.5, 1.0, 2.0)))
            objective = {"weighted": {"latency": a, "energy": b}}
        pinned = {}
        if pins and draw(st.booleans()):
            for v in draw(st.lists(st.integers(0, n - 1), max_size=2, unique=True)):
                tier = f"T{draw(st.integers(0, k - 1))}"
                pinned.setdefault(tier, []).append(names[v])
        limits = {}
        if constraints:
            if draw(st.booleans()):
                limits["latency_max_ms"] = draw(_quarters(st, 120))
            if with_energy and draw(st.booleans()):
                limits["energy_max_mj"] = draw(_quarters(st, 120))
        return TieredPartitionProblem(
            [f"T{j}" for j in range(k)], layers, edges, links, pinned=pinned, energy=power,
            objective=objective, constraints=limits, name="random",
            device_budget={"memory_bytes": draw(st.integers(0, 30))} if budget else None, radio=radio_model,
        )

    return build()
