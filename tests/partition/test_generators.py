"""Tests of formulations.partition.generators.synthetic_dnn (synthetic DNN-like DAGs)."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import solvers
from formulations import PartitionProblem
from formulations.partition.generators import BLOCK_KINDS, GraphBuilder, synthetic_dnn
from solvers.registry import methods


def preds_of(problem):
    out = {nm: [] for nm in problem.names}
    for u, v in problem.edges:
        out[v].append(u)
    return out


@pytest.mark.parametrize("n", [3, 4, 5, 6, 10, 11, 57, 700, 1500])
def test_exact_size_and_valid(n):
    p = synthetic_dnn(n, seed=3)
    assert p.n_layers == n
    assert len(p.topology.order) == n  # a topological order of all layers: acyclic
    assert p.inputs == ["input"] and p.outputs == ["fc"]
    for arr in (p.device_ms, p.server_ms):
        assert np.isfinite(arr).all() and (arr >= 0).all()
    assert (p.output_bytes > 0).all()
    assert p.device_ms[0] == p.server_ms[0] == 0.0  # the input is data
    assert p.device_ms.sum() > p.server_ms.sum()  # phone CPU slower than edge GPU overall
    # the instance round-trips through the file format and stays valid
    again = PartitionProblem.from_dict(p.to_dict())
    assert again.to_dict() == p.to_dict()


def test_deterministic_by_seed():
    a, b = synthetic_dnn(300, seed=7), synthetic_dnn(300, seed=7)
    assert a.to_dict() == b.to_dict()
    c = synthetic_dnn(300, seed=8)
    assert c.to_dict() != a.to_dict()


def test_every_block_kind_present_and_shaped():
    p = synthetic_dnn(400, seed=0)
    counts = p.metadata["blocks"]
    assert all(counts[k] > 0 for k in BLOCK_KINDS), counts
    preds = preds_of(p)
    cuts = set(p.cut_vertices)
    seen = {k: 0 for k in BLOCK_KINDS}
    for nm in p.names:
        if nm.endswith("_residual_add"):
            assert len(preds[nm]) == 2 and nm.replace("_add", "_conv2") in preds[nm]
            seen["residual"] += 1
        elif nm.endswith("_inception_concat"):
            assert len(preds[nm]) == 4
            seen["inception"] += 1
        elif "_dense_conv" in nm:
            j = int(nm.rsplit("conv", 1)[1])
            assert len(preds[nm]) == j + 1  # the block input and every earlier layer
        elif nm.endswith("_dense_transition"):
            seen["dense"] += 1
        elif nm.endswith("_chain_conv"):
            seen["chain"] += 1
        if nm.endswith(("_add", "_concat", "_transition")):
            assert nm in cuts  # block outputs are cut vertices
    assert seen == counts


@pytest.mark.parametrize("kind", BLOCK_KINDS)
def test_mix_restricts_blocks(kind):
    counts = synthetic_dnn(120, mix=(kind,), seed=2).metadata["blocks"]
    assert counts[kind] > 0
    # chain layers only fill the end when a block no longer fits
    assert all(v == 0 for k, v in counts.items() if k not in (kind, "chain"))


def test_tensors_shrink_with_depth_and_costs_follow_flops():
    p = synthetic_dnn(500, mix=("chain",), seed=0)
    body = [i for i, nm in enumerate(p.names) if nm.endswith("_chain_conv")]
    sizes = p.output_bytes[body]
    assert (np.diff(sizes) <= 0).all() and sizes[0] > sizes[-1]
    flops = np.array([layer.flops for layer in p.layers])
    heavy, light = int(np.argmax(flops)), int(np.argmin(flops[1:])) + 1
    assert p.device_ms[heavy] > p.device_ms[light]


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_layers"):
        synthetic_dnn(2)
    with pytest.raises(ValueError, match="mix"):
        synthetic_dnn(10, mix=())
    with pytest.raises(ValueError, match="mix"):
        synthetic_dnn(10, mix=("transformer",))
    with pytest.raises(ValueError, match="op"):
        GraphBuilder().add("x", "softmax", [], 3, 1)


def test_graph_builder_counts_macs():
    g = GraphBuilder()
    x = g.add("input", "input", [], 3, 224)
    y = g.add("conv", "conv", [x], 64, 112, k=7)
    z = g.add("dw", "conv", [y], 64, 112, k=3, groups=64)
    w = g.add("cat", "concat", [y, z], 128, 112)
    assert g.macs[y] == 7 * 7 * 3 * 64 * 112 * 112
    assert g.macs[z] == 3 * 3 * 64 * 112 * 112
    assert g.flops[w] == 0 and g.in_bytes[w] == 2 * g.out_bytes(y)
    assert g.out_bytes(w) == 128 * 112 * 112 * 4


EXACT = [m.name for m in methods("partition") if m.exact and m.name != "brute_force"]


@given(
    n=st.integers(3, 13),
    seed=st.integers(0, 2**32 - 1),
    uplink=st.sampled_from([0.5, 1.1, 5.85, 18.88, 100.0, 1000.0]),
    rtt=st.sampled_from([0.0, 3.0]),
    mix=st.sampled_from([BLOCK_KINDS, ("dense",), ("inception", "residual")]),
)
def test_exact_methods_match_brute_force_on_tiny(n, seed, uplink, rtt, mix):
    p = synthetic_dnn(n, mix=mix, seed=seed, uplink_mbps=uplink, rtt_ms=rtt)
    oracle = solvers.solve(p, method="brute_force")
    assert oracle.status.value == "optimal"
    for name in EXACT:
        sol = solvers.solve(p, method=name)
        assert sol.status.value == "optimal", name
        assert math.isclose(sol.objective, oracle.objective, rel_tol=1e-9, abs_tol=1e-9), name
        assert sol.bound <= sol.objective + 1e-9
    heuristic = solvers.solve(p, method="chain")
    assert heuristic.objective >= oracle.objective - 1e-9


@pytest.mark.slow
def test_hundred_thousand_layers():
    p = synthetic_dnn(100_000, seed=0)
    assert p.n_layers == 100_000
    assert all(v > 1000 for v in p.metadata["blocks"].values())
    sol = solvers.solve(p, method="qdmp")
    ref = solvers.solve(p, method="mincut")
    assert sol.status.value == "optimal"
    assert math.isclose(sol.objective, ref.objective, rel_tol=1e-9)
