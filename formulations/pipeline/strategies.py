"""Hypothesis strategies for pipeline / flow-shop instances.

Instances are built by construction (never filtered): integer stage times
make objective equality exact, and sizes are capped so that brute force
(every order times every configuration vector) stays fast.

>>> from hypothesis import given
>>> from formulations.pipeline.strategies import pipeline_problems
>>> @given(pipeline_problems(max_tasks=4))
... def test(problem):
...     assert problem.n <= 4
"""

from __future__ import annotations

from hypothesis import strategies as st

from .problem import Config, PipelineProblem, Task

__all__ = ["pipeline_problems", "flowshop_problems"]


@st.composite
def pipeline_problems(
    draw,
    *,
    max_tasks: int = 6,
    min_stages: int = 1,
    max_stages: int = 4,
    max_configs: int = 3,
    max_ms: int = 9,
    objectives=("makespan", "rate"),
    releases: bool = True,
    constraints: bool = True,
    fractional: bool = False,
):
    """Random :class:`PipelineProblem` instances (integer times by default).

    With ``constraints``, an accuracy floor is drawn between the lowest and
    highest reachable mean accuracy (sometimes slightly above the highest,
    so infeasible instances occur), and a deadline sometimes. The product
    of configurations is capped at ``3**4`` when ``n >= 5`` to keep brute
    force fast. With ``fractional``, times, releases and deadlines are
    fractional ms (thirds, sevenths and decimals that no power of 10 makes
    whole), which exercises the float-to-integer policy; compare values
    with a relative tolerance then.
    """
    ms_value = _fractional_ms(max_ms) if fractional else st.integers(0, max_ms).map(float)
    n = draw(st.integers(1, max_tasks))
    m = draw(st.integers(min_stages, max_stages))
    cap = max_configs if n <= 4 else min(max_configs, 2)
    objective = draw(st.sampled_from(list(objectives)))
    tasks = []
    for j in range(n):
        c = draw(st.integers(1, cap))
        configs = []
        for i in range(c):
            ms = tuple(draw(st.lists(ms_value, min_size=m, max_size=m)))
            acc = draw(st.integers(50, 100)) / 100.0
            configs.append(Config(f"c{i}", ms, acc))
        release = draw(_fractional_ms(2 * max_ms) if fractional else st.integers(0, 2 * max_ms).map(float)) \
            if releases and draw(st.booleans()) else 0.0
        tasks.append(Task(f"t{j}", tuple(configs), release))
    accuracy_min = deadline = None
    if constraints and draw(st.booleans()):
        lo = sum(min(c.accuracy for c in t.configs) for t in tasks) / n  # type: ignore[misc, type-var]
        hi = sum(max(c.accuracy for c in t.configs) for t in tasks) / n  # type: ignore[misc, type-var]
        step = draw(st.integers(0, 10))
        accuracy_min = min(1.0, round(lo + (hi - lo) * step / 8, 4))
    if constraints and draw(st.booleans()):
        deadline = draw(_fractional_ms(4 * max_ms * m, low=1) if fractional else st.integers(1, 4 * max_ms * m).map(float))
    return PipelineProblem(
        [f"s{k}" for k in range(m)], tasks, objective=objective, accuracy_min=accuracy_min, deadline_ms=deadline
    )


def _fractional_ms(top: int, low: int = 0):
    """Fractional ms in ``[low, top]``: whole, thirds, sevenths or ``x.y + 1e-7 z``."""
    whole = st.integers(low, top).map(float)
    thirds = st.integers(3 * low, 3 * top).map(lambda v: v / 3)
    sevenths = st.integers(7 * low, 7 * top).map(lambda v: v / 7)
    fine = st.tuples(st.integers(10 * low, 10 * top - 1), st.integers(1, 9)).map(lambda t: t[0] / 10 + t[1] * 1e-7)
    return st.one_of(whole, thirds, sevenths, fine) if top > low else whole


@st.composite
def flowshop_problems(draw, *, max_tasks: int = 6, min_stages: int = 1, max_stages: int = 4, max_ms: int = 9, releases: bool = False):
    """Random flow shops (one configuration per task), integer times."""
    n = draw(st.integers(1, max_tasks))
    m = draw(st.integers(min_stages, max_stages))
    ms = [draw(st.lists(st.integers(0, max_ms), min_size=m, max_size=m)) for _ in range(n)]
    rel = [float(draw(st.integers(0, 2 * max_ms))) for _ in range(n)] if releases else None
    return PipelineProblem.from_matrix(ms, release_ms=rel)
