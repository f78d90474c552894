"""Hypothesis strategies for partition instances, for our tests and yours.

Random DAGs are built by construction, never by filtering: each node draws
its parents from the earlier nodes as *offsets* (``1`` = the previous node),
so failures shrink toward a chain. Block-structured DNN-like DAGs (chains,
residual blocks, inception-like branches, dense blocks) come from
:func:`dnn_dags`. Costs are small integers by default, so latencies compare
exactly with a brute-force oracle.

Examples
--------
>>> from hypothesis import given
>>> from formulations.partition.strategies import partition_problems
>>> @given(partition_problems(max_layers=8))
... def test_feasible_optimum(problem):
...     import solvers
...     assert solvers.partition(problem).objective >= 0
"""

from __future__ import annotations

from hypothesis import strategies as st

from .problem import Layer, Network, PartitionProblem

__all__ = ["random_dags", "dnn_dags", "partition_problems", "networks", "BLOCK_KINDS"]

BLOCK_KINDS = ("chain", "residual", "inception", "dense")

#: Bandwidths (Mbps) and byte multiples that make transfer times whole ms:
#: ``bytes * 8 / (mbps * 1000)`` with bytes a multiple of ``125 * mbps``.
_MBPS = (1.0, 2.0, 4.0, 5.0, 8.0, 10.0)


@st.composite
def random_dags(draw, min_layers: int = 1, max_layers: int = 10, multi_input: bool = True):
    """A DAG on nodes ``0..n-1`` as ``(n, edges)``, edges from lower to higher index.

    Node ``i > 0`` has parents ``i - k`` for drawn offsets ``k``; with
    ``multi_input``, a node may have no parent (an extra input). Shrinks
    toward a chain.
    """
    n = draw(st.integers(min_layers, max_layers))
    edges: set = set()
    for i in range(1, n):
        if multi_input and draw(st.integers(0, 4)) == 4:
            continue  # an extra input: no parent
        offsets = draw(st.lists(st.integers(1, i), min_size=1, max_size=min(3, i), unique=True))
        edges.update((i - k, i) for k in offsets)
    return n, sorted(edges)


@st.composite
def dnn_dags(draw, max_layers: int = 12, kinds=BLOCK_KINDS):
    """A DNN-like DAG built from blocks, as ``(n, edges)``.

    Starts with one input node, then appends blocks of the given ``kinds``
    (chain, residual: a branch of 1-2 layers plus a skip joined by an add;
    inception: 2-3 parallel branches joined by a concat; dense: each layer
    fed by all earlier ones in the block) while the size allows.
    """
    edges: list[tuple[int, int]] = []
    n = 1
    tail = 0
    blocks = draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=5))
    for kind in blocks:
        if kind == "chain":
            k = draw(st.integers(1, 3))
            if n + k > max_layers:
                break
            for _ in range(k):
                edges.append((tail, n))
                tail, n = n, n + 1
        elif kind == "residual":
            k = draw(st.integers(1, 2))
            if n + k + 1 > max_layers:
                break
            prev = tail
            for _ in range(k):
                edges.append((prev, n))
                prev, n = n, n + 1
            edges += [(prev, n), (tail, n)]
            tail, n = n, n + 1
        elif kind == "inception":
            widths = draw(st.lists(st.integers(1, 2), min_size=2, max_size=3))
            if n + sum(widths) + 1 > max_layers:
                break
            ends = []
            for w in widths:
                prev = tail
                for _ in range(w):
                    edges.append((prev, n))
                    prev, n = n, n + 1
                ends.append(prev)
            edges += [(e, n) for e in ends]
            tail, n = n, n + 1
        else:  # dense
            k = draw(st.integers(2, 3))
            if n + k > max_layers:
                break
            members = [tail]
            for _ in range(k):
                edges += [(m, n) for m in members]
                members.append(n)
                n += 1
            tail = n - 1
    return n, edges


@st.composite
def networks(draw, rtt: bool = True, downlink: bool = True):
    """A :class:`Network` with whole-ms transfer times for multiples of 125*mbps bytes."""
    up = draw(st.sampled_from(_MBPS))
    down = draw(st.sampled_from((None,) + _MBPS)) if downlink else None
    rtt_ms = float(draw(st.integers(0, 20))) if rtt else 0.0
    return Network(up, down, rtt_ms)


def _fractional_ms(top: int):
    """Fractional ms in ``[0, top]``: whole, thirds, sevenths or ``x.y + 1e-7 z``."""
    if top <= 0:
        return st.just(0.0)
    return st.one_of(
        st.integers(0, top).map(float),
        st.integers(0, 3 * top).map(lambda v: v / 3),
        st.integers(0, 7 * top).map(lambda v: v / 7),
        st.tuples(st.integers(0, 10 * top - 1), st.integers(1, 9)).map(lambda t: t[0] / 10 + t[1] * 1e-7),
    )


@st.composite
def _fractional_networks(draw, rtt: bool = True):
    """A :class:`Network` with fractional bandwidths and RTT."""
    up = draw(st.sampled_from((1.1, 3.0, 0.7, 7.3)))
    down = draw(st.sampled_from((None, 2.2, 0.9)))
    rtt_ms = draw(_fractional_ms(20)) if rtt else 0.0
    return Network(up, down, rtt_ms)


@st.composite
def partition_problems(
    draw,
    max_layers: int = 10,
    structure: str = "any",
    pins: bool = True,
    rtt: bool = True,
    downlink: bool = True,
    multi_input: bool = True,
    budget: bool = False,
    max_ms: int = 40,
    fractional: bool = False,
):
    """A random :class:`PartitionProblem` (integer costs by default).

    Parameters
    ----------
    max_layers : int
        Keep <= ~12 where a brute-force oracle must run.
    structure : {"any", "random", "dnn", "chain"}
        ``random``: :func:`random_dags`; ``dnn``: :func:`dnn_dags`;
        ``chain``: a path; ``any``: one of random/dnn.
    pins, rtt, downlink, multi_input, budget : bool
        Whether to draw pinned layers, an RTT, a separate downlink, extra
        inputs, and a device memory budget (with per-layer ``memory_bytes``).
    max_ms : int
        Upper bound of the integer compute times.
    fractional : bool
        Fractional compute times (thirds, sevenths, decimals plus 1e-7),
        arbitrary byte counts and bandwidths (transfer times no power of 10
        makes whole), and, with ``budget``, a fractional ``flops`` budget
        with fractional per-layer use, sometimes exactly at a subset's total:
        data that exercises the float-to-integer policy. Compare values
        with a relative tolerance then.
    """
    if structure == "any":
        structure = draw(st.sampled_from(("random", "dnn")))
    if structure == "random":
        n, edges = draw(random_dags(max_layers=max_layers, multi_input=multi_input))
    elif structure == "dnn":
        n, edges = draw(dnn_dags(max_layers=max_layers))
    elif structure == "chain":
        n = draw(st.integers(1, max_layers))
        edges = [(i, i + 1) for i in range(n - 1)]
    else:
        raise ValueError(f"unknown `structure` {structure!r}")
    net = draw(_fractional_networks(rtt) if fractional else networks(rtt=rtt, downlink=downlink))
    has_pred = {v for _, v in edges}
    unit = 125  # bytes per (ms * Mbps)
    layers = []
    ms = _fractional_ms if fractional else (lambda top: st.integers(0, top).map(float))
    for i in range(n):
        is_input = i not in has_pred
        dev = 0.0 if is_input and draw(st.booleans()) else draw(ms(max_ms))
        srv = draw(ms(max_ms // 4))
        nbytes = draw(st.integers(0, 30 * unit)) if fractional else unit * draw(st.integers(0, 30))
        if not budget:
            layers.append(Layer(f"L{i}", dev, srv, nbytes))
        elif fractional:
            layers.append(Layer(f"L{i}", dev, srv, nbytes, flops=draw(st.sampled_from((0.0, 1 / 3, 0.1, 0.7, 1e-10, 2 / 7)))))
        else:
            layers.append(Layer(f"L{i}", dev, srv, nbytes, memory_bytes=draw(st.integers(0, 10))))
    pinned = None
    if pins and n > 1 and draw(st.integers(0, 2)) == 0:
        chosen = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=2, unique=True))
        sides = [draw(st.sampled_from(("device", "server"))) for _ in chosen]
        pinned = {"device": [f"L{i}" for i, s in zip(chosen, sides) if s == "device"],
                  "server": [f"L{i}" for i, s in zip(chosen, sides) if s == "server"]}
    device_budget = None
    if budget and fractional:
        flops = [layer.flops for layer in layers]
        if draw(st.booleans()):  # exactly the float total of a random subset: the boundary case
            chosen = draw(st.lists(st.booleans(), min_size=n, max_size=n))
            total = float(sum(f for f, c in zip(flops, chosen) if c))  # type: ignore[misc]
        else:
            total = draw(st.sampled_from((0.0, 1.0, 1e-9, 0.5, 2 / 3, 1.4)))
        device_budget = {"flops": total}
    elif budget:
        device_budget = {"memory_bytes": float(draw(st.integers(0, 5 * n)))}
    return PartitionProblem(
        layers,
        [(f"L{u}", f"L{v}") for u, v in edges],
        net,
        pinned=pinned,
        device_budget=device_budget,
        name="hypothesis",
    )
