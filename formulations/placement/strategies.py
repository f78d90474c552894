"""Hypothesis strategies of placement instances (needs the ``test`` extra).

>>> from hypothesis import given
>>> from formulations.placement.strategies import placement_problems
>>> @given(placement_problems())
... def test_evaluates(problem): ...
"""

from __future__ import annotations

from hypothesis import strategies as st

from .problem import OBJECTIVES, Device, PlacementLayer, PlacementProblem

__all__ = ["placement_problems"]

#: Fractional values (thirds, sevenths, decimals) so float sums are exercised.
_FRACTION = st.one_of(st.integers(0, 60).map(lambda v: v / 3), st.integers(0, 70).map(lambda v: v / 7),
                      st.integers(0, 99).map(lambda v: v / 10 + 1e-7))


@st.composite
def placement_problems(draw, max_layers: int = 8, max_devices: int = 4, objectives=OBJECTIVES,
                       constraints: bool = False):
    """A random :class:`PlacementProblem`: fractional work, weights and times, memory caps that
    sometimes exclude devices or every plan, per-pair links, some measured ``ms`` overrides; with
    ``constraints``, sometimes a ``latency_max_ms`` cap."""
    k = draw(st.integers(1, max_devices))
    n = draw(st.integers(1, max_layers))
    names = [f"dev{i}" for i in range(k)]
    devices = [Device(nm, draw(st.sampled_from((10.0, 35.5, 100.0))), draw(st.sampled_from((1.0, 7.25, 40.0))),
                      draw(st.sampled_from((0.0, 2.5, 7.0, 11.0 / 3, 30.0)))) for nm in names]
    layers = []
    for j in range(n):
        ms = {}
        if draw(st.booleans()):
            ms = {names[d]: draw(_FRACTION) for d in range(k) if draw(st.booleans())}
        layers.append(PlacementLayer(f"L{j}", draw(_FRACTION) / 10, draw(_FRACTION) / 5,
                                     draw(st.integers(0, 4000)), draw(st.sampled_from((0.0, 10.0, 333.0))), ms))
    links = {}
    for a in range(k):
        for b in range(a + 1, k):
            if draw(st.booleans()):
                links[(a, b)] = (draw(st.sampled_from((0.5, 8.0, 100.0 / 3))), draw(_FRACTION) / 10)
    caps = {"latency_max_ms": draw(_FRACTION) * 10} if constraints and draw(st.booleans()) else {}
    return PlacementProblem(layers, devices, input_bytes=draw(st.integers(0, 5000)), constraints=caps,
                            default_link=(draw(st.sampled_from((1.0, 20.0, 300.0))), draw(_FRACTION) / 10),
                            links=links, source=draw(st.sampled_from(names)),
                            objective=draw(st.sampled_from(tuple(objectives))),
                            context_tokens=draw(st.sampled_from((0, 3, 1000))), name="random")
