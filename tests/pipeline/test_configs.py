"""Configurations generated from partition instances, and the gantt command."""

import argparse

import pytest

import solvers
from formulations.errors import InstanceError, OptionError
from formulations.partition import PartitionProblem, transfer_ms
from formulations.pipeline import PipelineProblem
from formulations.pipeline.configs import COMPRESSION_TABLE, split_masks, stream_problem, task_configs
from solvers.cli import pipeline as cli_pipeline
from solvers.cli import UsageError


def chain():
    # in -> conv -> pool -> fc, every layer a cut vertex
    return PartitionProblem.from_lists(
        ["in", "conv", "pool", "fc"], [0, 30, 4, 5], [0, 3, 0.4, 0.5], [150528, 800000, 200000, 4000],
        [("in", "conv"), ("conv", "pool"), ("pool", "fc")], uplink_mbps=10, rtt_ms=2.0,
    )


def test_cut_vertex_configs_match_the_partition_breakdown():
    p = chain()
    configs = {c.name: c for c in task_configs(p, accuracy=0.9)}
    assert configs["device/32b"].ms == (39.0, 0.0, 0.0)
    b = p.breakdown({"in", "conv"})
    cfg = configs["cut@conv/32b"]
    assert cfg.ms == pytest.approx((b["device_compute_ms"], 2.0 + b["uplink_ms"], b["server_compute_ms"] + b["downlink_ms"]))
    int8 = configs["cut@conv/8b"]
    assert int8.ms[1] == pytest.approx(2.0 + transfer_ms(800000 * 0.25, 10))
    assert int8.accuracy == pytest.approx(0.9 - COMPRESSION_TABLE["levels"]["8"]["accuracy_loss"])
    assert int8.meta["sent_bytes"] == 200000
    # splits: all-device and after each cut vertex but the last
    assert [label for label, _ in split_masks(p)] == ["device", "cut@in", "cut@conv", "cut@pool"]


def test_exit_gives_expected_stage_times():
    p = chain()
    exits = [{"layer": "conv", "exit_rate": 0.25, "accuracy": 0.7}]
    configs = {c.name: c for c in task_configs(p, accuracy=0.9, exits=exits)}
    plain, ex = configs["cut@pool/32b"], configs["cut@pool/32b/exit@conv"]
    assert ex.ms[0] == pytest.approx(30 + 0.75 * 4)
    assert ex.ms[1:] == pytest.approx(tuple(0.75 * x for x in plain.ms[1:]))
    assert ex.accuracy == pytest.approx(0.25 * 0.7 + 0.75 * 0.9)
    assert "cut@in/32b/exit@conv" not in configs  # the exit layer is on the server there
    with pytest.raises(InstanceError, match=r"exits\[0\]\.layer"):
        task_configs(p, accuracy=0.9, exits=[{"layer": "nope", "exit_rate": 0.1, "accuracy": 0.5}])


def test_bandwidth_map_configs_are_optimal_partitions():
    p = chain()
    splits = split_masks(p, how="bandwidth_map", min_mbps=0.5, max_mbps=500, solve_map=solvers.bandwidth_map)
    assert splits[0][0] == "device"
    found = {frozenset(p.names[i] for i, on in enumerate(mask) if on) for _, mask in splits}
    pieces = {frozenset(piece.device) for piece in solvers.bandwidth_map(p, 0.5, 500).pieces}
    assert len(pieces) >= 2
    assert pieces <= found and found - pieces <= {frozenset(p.names)}


def test_stream_problem_and_keep():
    p = chain()
    q = chain().with_network(uplink_mbps=50)
    prob = stream_problem([("a", p, 0.9), ("b", q, 0.8)], 7, seed=1, interarrival_ms=3.0, keep=3, accuracy_min=0.8)
    assert isinstance(prob, PipelineProblem) and prob.n == 7 and max(prob.n_configs) <= 3
    assert prob.release_ms.tolist() == [3.0 * i for i in range(7)]
    assert prob.metadata["compression"]["source"]
    # the most accurate level and the fastest configuration are kept
    full = task_configs(p, accuracy=0.9)
    kept = task_configs(p, accuracy=0.9, keep=3)
    assert max(c.accuracy for c in kept) == max(c.accuracy for c in full)
    sol = solvers.pipeline(prob, method="exact", time_limit=10)
    assert sol.status.value == "optimal"


def run_gantt(argv):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    cli_pipeline.add_commands(sub)
    args = parser.parse_args(["gantt", *argv])
    return args.func(args)


def test_gantt_prints_every_stage(capsys, instances_dir):
    code = run_gantt([str(instances_dir / "pipeline" / "coinfer_6tasks.json"), "--width", "40", "-m", "neh"])
    out = capsys.readouterr().out
    assert code == 0
    rows = [ln for ln in out.splitlines() if "|" in ln]
    assert [r.split("|")[0].strip() for r in rows] == ["device", "uplink", "server"]
    assert all(len(r.split("|")[1]) == 40 for r in rows)
    assert "stage loads (ms)" in out and "A=t" in out


def test_gantt_errors_are_usage_errors(instances_dir):
    path = str(instances_dir / "pipeline" / "coinfer_6tasks.json")
    with pytest.raises(UsageError):
        run_gantt([path, "--width", "3"])
    with pytest.raises(OptionError):  # an unknown method is a bad option (exit code 2)
        run_gantt([path, "-m", "nope"])
    with pytest.raises(UsageError):
        run_gantt([path, "-m", "johnson", "--seed", "1"])


def test_gantt_text_of_a_flow_shop():
    p = PipelineProblem.from_matrix([[2, 2], [2, 2]])
    s = p.evaluate({"order": ["j1", "j2"], "configs": {}})
    chart = cli_pipeline.gantt_text(p, s, width=12)
    assert chart.splitlines()[:2] == ["m1 |AAAABBBB....|", "m2 |....AAAABBBB|"]
    assert chart.splitlines()[-1] == "A=j1  B=j2"


def test_gantt_plot_writes_an_image(tmp_path, capsys, instances_dir):
    pytest.importorskip("matplotlib")
    out = tmp_path / "gantt.png"
    assert run_gantt([str(instances_dir / "pipeline" / "example_3tasks.json"), "-m", "neh", "--plot", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"wrote {out}" in capsys.readouterr().out


def test_gantt_plot_without_matplotlib_names_the_extra(tmp_path, instances_dir, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    monkeypatch.setattr(solvers, "solve", lambda *a, **k: pytest.fail("solved before the extra was checked"))
    with pytest.raises(UsageError, match=r"coinfer\[plot\]"):
        run_gantt([str(instances_dir / "pipeline" / "example_3tasks.json"), "-m", "neh", "--plot", str(tmp_path / "g.png")])
    assert not (tmp_path / "g.png").exists()


def test_gantt_plot_bad_suffix_is_a_usage_error(tmp_path, instances_dir):
    pytest.importorskip("matplotlib")  # without it, the missing extra is reported first (test above)
    with pytest.raises(UsageError, match=r"\.png, \.svg or \.pdf"):
        run_gantt([str(instances_dir / "pipeline" / "example_3tasks.json"), "-m", "neh", "--plot", str(tmp_path / "g.gif")])


def test_configs_include_the_throughput_optimal_splits():
    """``stream_solve``: the throughput-optimal split of the DNN as a stream of frames (and with
    solvers.pareto every point of the latency-throughput front) is among the configurations, and its
    stage times are the partition breakdown's."""
    from formulations import load
    from formulations.partition import TieredPartitionProblem
    from tests.helpers import INSTANCES

    p = load(INSTANCES / "partition" / "googlenet.json").with_network(uplink_mbps=50.0)
    stream = TieredPartitionProblem.from_partition(p, objective="throughput")
    best = solvers.solve(stream)
    assert best.status.value == "optimal"
    masks = split_masks(p, stream_solve=solvers.solve)
    best_mask = stream.tier_vector(best.assignment) == 0
    labels = [label for label, mask in masks if (mask == best_mask).all()]
    assert labels == [f"stream@{best.objective:.4g}fps"]  # not a cut-vertex split: its own label
    assert not any((mask == best_mask).all() for _, mask in split_masks(p))
    configs = {c.name: c for c in task_configs(p, accuracy=0.9, stream_solve=solvers.solve)}
    cfg = configs[f"{labels[0]}/32b"]
    b = p.breakdown(best_mask)
    assert cfg.ms == pytest.approx((b["device_compute_ms"], b["rtt_ms"] + b["uplink_ms"],
                                    b["server_compute_ms"] + b["downlink_ms"]))
    stages = stream.evaluate(best.assignment).terms["stage_ms"]
    assert cfg.ms[0] == pytest.approx(stages["device compute"])
    assert 1000.0 / max(stages.values()) == pytest.approx(best.objective)
    front = solvers.pareto(stream)
    with_front = split_masks(p, stream_solve=solvers.pareto)
    for sol in front:
        mask = stream.tier_vector(sol.assignment) == 0
        assert any((m == mask).all() for _, m in with_front)
