"""``bandwidth_map`` of the throughput objective: the breakpoints where the throughput-optimal partition
changes as link 0's uplink varies, checked against brute force at sample bandwidths."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import formulations
import solvers
from formulations.errors import OptionError
from formulations.partition.tier_strategies import tiered_instances
from solvers.algorithms.partition.bandwidth_stream import StreamMap
from tests.helpers import INSTANCES, examples

SETTINGS = settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_map(problem, bmap, lo, hi):
    assert isinstance(bmap, StreamMap)
    pieces = bmap.pieces
    assert pieces[0].min_mbps == pytest.approx(lo) and pieces[-1].max_mbps == pytest.approx(hi)
    for a, b in zip(pieces, pieces[1:]):
        assert a.max_mbps == pytest.approx(b.min_mbps)
        assert (a.layers_per_tier, a.device) != (b.layers_per_tier, b.device) or a.stage_ms != b.stage_ms
        # a breakpoint: both plans stream at the same rate there (the optimum is continuous)
        assert a.throughput(a.max_mbps) == pytest.approx(b.throughput(a.max_mbps), rel=1e-9)
    samples = list(np.geomspace(lo, hi, 7))
    for p in pieces:  # inside every piece, and just either side of every breakpoint
        samples += [np.sqrt(p.min_mbps * p.max_mbps), p.min_mbps * (1 + 1e-6), p.max_mbps * (1 - 1e-6)]
    for mbps in samples:
        mbps = float(min(max(mbps, lo), hi))
        inst = problem.with_network(uplink_mbps=mbps)
        truth = solvers.solve(inst, method="brute_force").objective
        assert bmap.throughput(mbps) == pytest.approx(truth, rel=1e-9), (mbps, truth)
        piece = bmap.lookup(mbps)  # the piece's own plan streams that fast, by the problem's evaluator
        plan = {tier: [] for tier in problem.tiers}
        for name in problem.names:
            plan[problem.tiers[0] if name in piece.device else problem.tiers[-1]].append(name)
        if problem.n_tiers == 2:
            assert inst.evaluate(plan).objective == pytest.approx(truth, rel=1e-9)


@SETTINGS
@given(tiered_instances(n_tiers=(2, 3, 4), objectives=("throughput",), energy=False), st.sampled_from(
    [(0.5, 64.0), (1.0, 8.0), (2.0, 2.0), (0.25, 1000.0)]))
def test_stream_breakpoints_equal_brute_force_at_sample_bandwidths(problem, span):
    lo, hi = span
    if problem.infeasibility_reason():
        with pytest.raises(OptionError, match="infeasible"):
            solvers.bandwidth_map(problem, lo, hi)
        return
    bmap = solvers.bandwidth_map(problem, lo, hi)
    assert bmap.method == "ilp"
    check_map(problem, bmap, lo, hi)


def test_googlenet_stream_map_and_cli(tmp_path, capsys):
    from solvers.cli import main

    data = json.loads((INSTANCES / "partition" / "googlenet.json").read_text())
    data["objective"] = "throughput"
    path = tmp_path / "g.json"
    path.write_text(json.dumps(data))
    problem = formulations.load(path)
    bmap = solvers.bandwidth_map(problem, 1.0, 200.0)
    assert len(bmap.pieces) >= 3
    for mbps in (1.1, 5.85, 18.88, 100.0):
        best = solvers.solve(problem.with_network(uplink_mbps=mbps))
        assert best.status.value == "optimal"
        assert bmap.throughput(mbps) == pytest.approx(best.objective, rel=1e-9)
    assert main(["bandwidth-map", str(path), "--min", "1", "--max", "200"]) == 0
    out = capsys.readouterr().out
    assert "Frames/s@from" in out and f"pieces: {len(bmap.pieces)}" in out
    assert main(["bandwidth-map", str(path), "--min", "1", "--max", "200", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["objective"] == "throughput"
    # --rtt-ms changes the single-frame latency column, not the rate
    assert main(["bandwidth-map", str(path), "--min", "1", "--max", "200", "--rtt-ms", "500"]) == 0
    slow = capsys.readouterr().out
    assert slow != out and slow.split("\n")[1].split()[3:6] == out.split("\n")[1].split()[3:6]
    assert main(["bandwidth-map", str(path), "--export", str(tmp_path / "t.json")]) == 2
    assert "throughput" in capsys.readouterr().err


def test_a_latency_cap_is_refused_with_the_reason():
    data = json.loads((INSTANCES / "partition" / "tiny_chain.json").read_text())
    data["objective"] = "throughput"
    data["constraints"] = {"latency_max_ms": 500.0}
    with pytest.raises(OptionError, match="latency_max_ms"):
        solvers.bandwidth_map(formulations.PartitionProblem.from_dict(data), 1.0, 10.0)
