"""Hypothesis strategies for exit placement instances, for our tests and yours.

Instances are built by construction: a chain of 1..``max_blocks`` blocks,
early exits after a drawn subset of blocks, 1..``max_nodes`` nodes, and
sample data on a grid of confidences (multiples of 0.2) so that a brute-force
oracle stays small. Costs are whole ms and transfers multiples of 1/4 ms (bytes in
multiples of 125, bandwidths 1/2/4 Mbps): dyadic values that floats add
exactly, so latencies compare exactly.

``nested=True`` draws confidence rows that never fall with depth;
``dp_exact=True`` adds fixed thresholds that never rise with depth, so pass
sets are nested: the condition under which the ``dp`` method is exact.

Examples
--------
>>> from hypothesis import given
>>> from formulations.exits.strategies import exit_problems
>>> @given(exit_problems(max_samples=10))
... def test_evaluates(problem):
...     plan = {"placement": [0] * problem.n_blocks, "thresholds": {}}
...     assert problem.measure(plan).mean_latency_ms >= 0
"""

from __future__ import annotations

from hypothesis import strategies as st

from .problem import Exit, ExitBlock, ExitProblem, Link

__all__ = ["exit_problems", "CONFIDENCE_GRID"]

#: Confidence values drawn (few distinct values keep brute force small).
CONFIDENCE_GRID = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
_MBPS = (1.0, 2.0, 4.0)


@st.composite
def exit_problems(
    draw,
    max_samples: int = 30,
    max_exits: int = 4,
    max_nodes: int = 3,
    max_blocks: int = 5,
    nested: bool | None = None,
    objective: str | None = None,
    constrained: bool | None = None,
    dp_exact: bool = False,
    fractional: bool = False,
):
    """An :class:`ExitProblem` (small integer costs by default).

    Parameters
    ----------
    max_samples, max_exits, max_nodes, max_blocks : int
        Size caps (``max_exits`` counts the final exit).
    nested : bool, optional
        Confidence rows nondecreasing with depth (drawn when None).
    objective : {"latency", "accuracy"}, optional
        Drawn when None.
    constrained : bool, optional
        Whether to add ``accuracy_min`` / ``max_exits`` (drawn when None);
        objective ``accuracy`` always has ``latency_max_ms``.
    dp_exact : bool
        Fixed, nonincreasing thresholds on nested data (``dp`` is exact).
    fractional : bool
        Fractional block and head times (thirds, sevenths, decimals plus
        1e-7), link RTTs and byte counts that make transfer times no power
        of 10 makes whole, and fractional latency caps: data that exercises
        the float-to-integer policy. Compare values with a tolerance then.
    """
    frac = st.one_of(st.integers(0, 36).map(lambda v: v / 3), st.integers(0, 84).map(lambda v: v / 7),
                     st.tuples(st.integers(0, 119), st.integers(1, 9)).map(lambda t: t[0] / 10 + t[1] * 1e-7))
    k = draw(st.integers(1, max_nodes))
    K = draw(st.integers(min(2, max_blocks), max_blocks))
    nodes = [f"n{i}" for i in range(k)]
    if fractional:
        links = [Link(draw(st.sampled_from((1.1, 2.0, 0.7))), draw(st.sampled_from((0.0, 1 / 3, 0.25)))) for _ in range(k - 1)]
    else:
        links = [Link(draw(st.sampled_from(_MBPS)), float(draw(st.integers(0, 1)))) for _ in range(k - 1)]
    # node n runs `speed[n]` times faster than n0 (whole ms after integer division)
    speed = [1] + [draw(st.integers(1, 5)) for _ in range(k - 1)]
    base = [draw(st.integers(0, 12)) for _ in range(K)]
    if fractional:
        blocks = [ExitBlock(f"b{i}", tuple(draw(frac) / f for f in speed), draw(st.integers(0, 750))) for i in range(K)]
    else:
        blocks = [ExitBlock(f"b{i}", tuple(float(base[i] // f) for f in speed), 125 * draw(st.integers(0, 6)))
                  for i in range(K)]
    has_exit = [draw(st.booleans()) for _ in range(K - 1)]
    early_pos = [i for i, h in enumerate(has_exit) if not h][: max_exits - 1]  # shrinks toward many exits
    E = len(early_pos) + 1
    nested = draw(st.booleans()) if nested is None else nested
    nested = nested or dp_exact
    thresholds = [None] * (E - 1)
    if dp_exact:
        taus = sorted((draw(st.sampled_from(CONFIDENCE_GRID)) for _ in range(E - 1)), reverse=True)
        thresholds = list(taus)
    head = st.integers(0, 21).map(lambda v: v / 7) if fractional else st.integers(0, 3).map(float)
    exits = [Exit(f"e{j}", f"b{p}", tuple(draw(head) for _ in range(k)), thresholds[j]) for j, p in enumerate(early_pos)]
    exits.append(Exit("final", f"b{K - 1}", tuple(draw(head) for _ in range(k))))
    N = draw(st.integers(1, max_samples))
    grid = st.sampled_from(CONFIDENCE_GRID)
    conf = [draw(st.lists(grid, min_size=E, max_size=E)) for _ in range(N)]
    if nested:
        conf = [sorted(row) for row in conf]
    correct = [draw(st.lists(st.integers(0, 1), min_size=E, max_size=E)) for _ in range(N)]
    objective = draw(st.sampled_from(("latency", "accuracy"))) if objective is None else objective
    constrained = draw(st.booleans()) if constrained is None else constrained
    constraints = {}
    if constrained:
        if draw(st.booleans()):
            oracle = sum(max(row) for row in correct) / N  # best reachable accuracy
            constraints["accuracy_min"] = round(oracle * draw(st.sampled_from((0.9, 0.6, 0.8, 1.0, 0.4))), 3)
        if E > 1 and draw(st.booleans()):
            constraints["max_exits"] = draw(st.integers(0, E - 1))
    if objective == "accuracy":
        # a fraction of the latency of running everything on n0 with every exit head
        top = sum(b.ms[0] for b in blocks) + sum(x.ms[0] for x in exits)
        factor = draw(st.sampled_from((0.7, 0.5, 0.9, 0.3, 1.1)))
        constraints["latency_max_ms"] = top * factor if fractional else float(round(top * factor, 1))
    return ExitProblem(nodes, links, 125 * draw(st.integers(0, 8)), 125 * draw(st.integers(0, 2)), blocks, exits,
                       conf, correct, objective=objective, constraints=constraints, name="hypothesis")
