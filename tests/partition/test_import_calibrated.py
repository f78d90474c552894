"""Calibrated device costs (QDMP's method), measurement noise and honest ``--measure``.

- :func:`monotone_fit` and :func:`calibrate` against their definitions
  (Hypothesis, small inputs);
- a measured import is calibrated by default: the layers up to every cut
  vertex add up to that device part's fitted measured median;
- ``choose_by_segments`` keeps the model's choice unless a measured split is
  faster beyond the noise (IQR-separated), and reports ties;
- ``device_origin`` refuses comparisons with another machine's costs.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from formulations.partition import Layer, Network, PartitionProblem
from formulations.partition.importers.blocks import calibrate, monotone_fit
from tests.helpers import examples

floats = st.floats(0.0, 100.0, allow_nan=False)


@settings(max_examples=examples(60))
@given(st.lists(floats, min_size=1, max_size=12))
def test_monotone_fit_is_the_pooled_nondecreasing_fit(values):
    fit = monotone_fit(values)
    assert len(fit) == len(values) and np.all(np.diff(fit) >= -1e-9)
    assert fit.sum() == pytest.approx(sum(values), abs=1e-6)  # pooling keeps the total
    if all(a <= b for a, b in zip(values, values[1:])):
        assert fit == pytest.approx(values)
    # no non-decreasing sequence is closer: compare with a few others (sorted, constant mean)
    err = float(np.sum((fit - values) ** 2))
    for other in (np.full(len(values), np.mean(values)), np.maximum.accumulate(values)):
        assert err <= float(np.sum((other - np.asarray(values)) ** 2)) + 1e-6


def _chain(n, device, server=None, **kw):
    layers = [Layer("x", 0.0, 0.0, 4000, op="Input")]
    layers += [Layer(f"l{i}", device[i], (server or [0.1] * n)[i], 400, op="Conv") for i in range(n)]
    edges = [("x", "l0")] + [(f"l{i}", f"l{i + 1}") for i in range(n - 1)]
    return PartitionProblem(layers, edges, Network(8.0), **kw)


@settings(max_examples=examples(60))
@given(st.lists(st.floats(0.01, 10.0), min_size=2, max_size=6), st.data())
def test_calibrated_prefixes_add_up_to_the_fitted_measured_prefixes(per_layer, data):
    from formulations.partition.importers.blocks import block_masks

    problem = _chain(len(per_layer), per_layer)
    blocks = block_masks(problem)
    assert sum(int(m.sum()) for _, m in blocks) == problem.n_layers  # the blocks partition the layers
    assert not np.any(sum(m.astype(int) for _, m in blocks) > 1)
    prefix = data.draw(st.lists(floats, min_size=len(blocks), max_size=len(blocks)))
    work = np.array([layer.op != "Input" for layer in problem.layers])
    costs, block_ms, scales = calibrate(problem.device_ms, work, blocks, prefix)
    fit = monotone_fit(prefix)
    assert (costs >= 0).all() and sum(block_ms) == pytest.approx(fit[-1], abs=1e-6)
    for k, (cut, _) in enumerate(blocks):
        closure = problem.topology.closure_of([problem.index[cut]])
        assert costs[closure].sum() == pytest.approx(fit[k], abs=1e-6)


def test_calibration_keeps_proportions_inside_a_block():
    # x -> a -> {b, c} -> d: b and c share the block ending at d
    layers = [Layer("x", 0.0, 0.0, 10, op="Input"), Layer("a", 1.0, 0.1, 10), Layer("b", 1.0, 0.1, 10),
              Layer("c", 3.0, 0.1, 10), Layer("d", 1.0, 0.1, 10)]
    problem = PartitionProblem(layers, [("x", "a"), ("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")], Network(8.0))
    from formulations.partition.importers.blocks import block_masks

    blocks = block_masks(problem)
    assert [cut for cut, _ in blocks] == ["x", "a", "d"]
    work = np.array([layer.op != "Input" for layer in problem.layers])
    costs, block_ms, scales = calibrate(problem.device_ms, work, blocks, [0.02, 0.52, 3.02])
    assert costs[0] == pytest.approx(0.02) and costs[1] == pytest.approx(0.5)
    assert costs[2:].sum() == pytest.approx(2.5) and costs[3] / costs[2] == pytest.approx(3.0)
    assert scales == [None, pytest.approx(0.5), pytest.approx(0.5)]


def _row(cut, device, device_iqr, uplink_bytes, here=0.0, here_iqr=(0.0, 0.0), ratio=None, layers=1):
    return {"cut": cut, "device_layers": layers, "sent": [], "uplink_bytes": uplink_bytes, "downlink_bytes": 0,
            "device_ms": device, "device_iqr_ms": list(device_iqr), "server_ms_here": here,
            "server_iqr_ms_here": list(here_iqr), "server_ratio": ratio}


@pytest.mark.parametrize("all_device,decision", [((5.5, 5.2, 5.8), "model"), ((4.0, 3.9, 4.1), "measured")])
def test_segment_choice_changes_the_model_choice_only_beyond_the_noise(all_device, decision):
    from solvers.split import choose_by_segments

    med, q1, q3 = all_device
    # model: offload after l0 (1 + 0.05 + 0.1 ms) beats all on the device (2 ms) and full offload (4 + 0.2 ms)
    rows = [_row("x", 0.02, (0.02, 0.02), 4000, 3.0, (3.0, 3.0), 1.0),  # measured 7.02 ms
            _row("l0", 5.0, (4.8, 5.2), 400, 5.0, (4.9, 5.1), 0.1, layers=2),
            _row("l1", med, (q1, q3), 0, layers=3)]
    problem = _chain(2, [1.0, 1.0], metadata={"segments": rows})
    choice = choose_by_segments(problem)
    assert choice["model"]["cut"] == "l0" and choice["model"]["measured_ms"] == pytest.approx(5.0 + 0.4 + 0.5)
    assert choice["decision"] == decision
    if decision == "model":  # 5.5 [5.2, 5.8] overlaps 5.9 [5.69, 6.11]: a tie, the model's choice stays
        assert choice["segments"]["cut"] == "l0" and [t["cut"] for t in choice["ties"]] == ["l1"]
    else:  # 4.1 < 5.69: faster beyond the noise
        assert choice["segments"]["cut"] == "l1" and choice["ties"] == []
    low, high = choice["measured_iqr_ms"]
    assert low <= choice["measured_ms"] <= high


def test_device_origin_names_the_other_device():
    from formulations.partition.importers.profiling import cpu_name
    from formulations.partition.importers.segments import device_origin

    here = cpu_name()
    base = _chain(1, [1.0])
    cases = {"measured_here": {"model": "measured", "cpu": here},
             "other_cpu": {"model": "measured", "cpu": "Some Phone SoC"},
             "roofline": {"profile": "phone-cpu", "model": "roofline"},
             "missing": {}}
    reasons = {k: device_origin(base.replace(metadata={"device_costs": v})) for k, v in cases.items()}
    assert reasons["measured_here"] is None
    assert "Some Phone SoC" in reasons["other_cpu"] and here in reasons["other_cpu"]
    assert "'phone-cpu' profile" in reasons["roofline"] and "does not record" in reasons["missing"]


def test_measured_import_is_calibrated_by_default(tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from tests.partition.test_import_onnx import residual_model
    from formulations.partition.importers.onnx import import_onnx
    from formulations.errors import InstanceError

    model = residual_model()
    p = import_onnx(model, runs=3, warmup=1, optimize="none")
    info = p.metadata["device_costs"]["calibration"]
    assert info["method"] == "prefixes" and len(info["blocks"]) >= 2
    assert info["statistic"].startswith("min")
    fit = monotone_fit([b["prefix_estimate_ms"] for b in info["blocks"]])
    done = np.zeros(p.n_layers, dtype=bool)
    for block, fitted in zip(info["blocks"], fit):
        lo, hi = block["prefix_iqr_ms"]
        assert lo <= block["prefix_ms"] <= hi and 0 < block["prefix_estimate_ms"] <= lo * (1 + 1e-3)
        assert block["runs"] >= 3
        done |= p.topology.closure_of([p.index[block["cut"]]]) if block["cut"] else ~done
        assert p.device_ms[done].sum() == pytest.approx(fitted, rel=0.01, abs=1e-3)  # 4-digit rounding
    assert p.metadata["latency"]["sum_of_layers_additive_ms"] == info["sum_of_layers_additive_ms"]
    additive = import_onnx(model, runs=3, warmup=1, optimize="none", device_costs="additive")
    assert "none" in additive.metadata["device_costs"]["calibration"]["method"]
    assert (additive.device_ms[1:] > 0).all()
    with pytest.raises(InstanceError, match="device_costs"):
        import_onnx(model, runs=1, warmup=0, device_costs="fancy")


def test_a_failed_calibration_warns_and_keeps_the_additive_costs(monkeypatch):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from formulations.partition.importers import blocks
    from formulations.partition.importers.onnx import MeasurementQualityWarning, import_onnx
    from tests.partition.test_import_onnx import residual_model

    def fail(*args, **kwargs):
        raise RuntimeError("[ONNXRuntimeError] : 1 : FAIL : no kernel for op Foo")

    monkeypatch.setattr(blocks, "calibrated_costs", fail)
    with pytest.warns(MeasurementQualityWarning, match="not calibrated.*no kernel for op Foo"):
        p = import_onnx(residual_model(), runs=2, warmup=0, optimize="none")
    assert p.metadata["device_costs"]["calibration"]["method"].startswith("none")
    assert (p.device_ms[1:] > 0).all()


@settings(max_examples=examples(40))
@given(st.lists(st.floats(0.01, 10.0), min_size=3, max_size=12), st.integers(2, 6))
def test_limited_blocks_keep_the_ends_and_partition_the_layers(per_layer, limit):
    from formulations.partition.importers.blocks import block_masks

    problem = _chain(len(per_layer), per_layer)
    blocks = block_masks(problem, limit)
    cuts = [cut for cut, _ in blocks]
    assert len(cuts) <= limit and cuts[0] == problem.cut_vertices[0] and cuts[-1] == problem.cut_vertices[-1]
    assert cuts == [c for c in problem.cut_vertices if c in cuts]  # topological order kept
    assert (sum(m.astype(int) for _, m in blocks) == 1).all()  # every layer in exactly one block


def test_server_ratio_falls_back_to_all_layers_when_the_server_side_costs_nothing():
    from formulations.partition.importers.segments import server_ratio

    problem = _chain(3, [2.0, 0.0, 0.0], server=[0.5, 0.3, 0.2])
    mask = np.array([True, True, False, False])  # l1, l2 on the server: 0 ms of device cost
    assert server_ratio(problem, mask) == pytest.approx(1.0 / 2.0)  # all layers: 1.0 ms / 2.0 ms
    assert server_ratio(problem, np.array([True, False, True, True])) == pytest.approx(0.5 / 2.0)
    assert server_ratio(problem, np.ones(4, dtype=bool)) is None  # nothing offloaded


def _chain_bytes(device, out_bytes):
    layers = [Layer("x", 0.0, 0.0, 4000, op="Input")]
    layers += [Layer(f"l{i}", d, 0.1, b, op="Conv") for i, (d, b) in enumerate(zip(device, out_bytes))]
    edges = [("x", "l0")] + [(f"l{i}", f"l{i + 1}") for i in range(len(device) - 1)]
    return PartitionProblem(layers, edges, Network(8.0))


@settings(max_examples=examples(40))
@given(st.lists(st.tuples(st.floats(0.0, 5.0), st.integers(1, 5000)), min_size=2, max_size=8), st.integers(2, 5))
def test_pareto_cuts_are_the_undominated_cut_vertices_and_stay_in_the_budget(layers, limit):
    from formulations.partition.importers.blocks import block_masks, pareto_cuts

    problem = _chain_bytes([d for d, _ in layers], [b for _, b in layers])
    cuts = problem.cut_vertices
    closures = [problem.topology.closure_of([problem.index[c]]) for c in cuts]
    cost = np.array([float(problem.device_ms[m].sum()) for m in closures])
    sent = np.array([float(problem.breakdown(m)["uplink_bytes"]) for m in closures])
    front = pareto_cuts(problem, closures, cost)
    for j in range(len(cuts)):  # brute force: j is kept iff no other cut vertex is at least as good in both
        dominated = any((cost[i] < cost[j] and sent[i] <= sent[j]) or (cost[i] <= cost[j] and sent[i] < sent[j])
                        for i in range(len(cuts)))
        assert (j in front) == (not dominated) or any(cost[i] == cost[j] and sent[i] == sent[j]
                                                      for i in range(len(cuts)) if i != j)
    timed = [c for c, _ in block_masks(problem, limit)]
    assert len([c for c in timed if c is not None]) <= max(limit, 2) or limit >= len(cuts)


def test_interleaved_timing_runs_every_model_the_same_number_of_rounds():
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper

    from formulations.partition.importers.profiling import STATISTIC, estimate, time_interleaved

    def model(op):
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
        graph = helper.make_graph([helper.make_node(op, ["x"], ["y"])], op, [x], [y])
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()

    feeds = {"x": np.ones((1, 4), dtype=np.float32)}
    times = time_interleaved([model("Relu"), model("Neg")], [feeds, feeds], runs=3, warmup=1, min_seconds=0.0)
    assert [len(t) for t in times] == [3, 3] and all((t >= 0).all() for t in times)
    spread = time_interleaved([model("Relu")], [feeds], runs=2, warmup=0, min_seconds=0.05)[0]
    assert 2 <= len(spread) <= 40  # rounds added for the time span, capped at 20 x runs
    assert STATISTIC == "min" and estimate([3.0, 1.0, 2.0]) == 1.0
    with pytest.raises(ValueError, match="runs"):
        time_interleaved([model("Relu")], [feeds], runs=0)


@pytest.mark.filterwarnings("ignore:the sum of per-layer medians")
@pytest.mark.parametrize("first_slow", [True, False])
def test_a_slow_calibration_window_is_timed_again_and_the_fastest_runs_kept(monkeypatch, first_slow):
    """The first window's whole-model estimate is checked against a second timing of the whole
    model; when it is slower beyond RECHECK_RTOL every device part is timed again and the
    estimate is the fastest run of both windows (fake timer: no clock involved)."""
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from formulations.partition.importers import blocks, profiling
    from formulations.partition.importers.onnx import import_onnx
    from tests.partition.test_import_onnx import residual_model

    calls = []
    real = profiling.time_interleaved

    def fake(models, feeds, *, runs=20, label="", **kwargs):
        if "device parts" not in label and "re-timing" not in label:  # other timings of the import
            return real(models, feeds, runs=runs, label=label, **kwargs)
        calls.append(len(models))
        if "re-timing" in label:  # the re-check: the whole model and the speed probe
            assert len(models) == 2
            return [np.full(runs, 10.0 * n_parts), np.full(runs, 1.25)]
        slow = 1.5 if (len(calls) == 1 and first_slow) else 1.0
        return [np.full(runs, 10.0 * (k + 1) * slow) for k in range(len(models))]

    p0 = import_onnx(residual_model(), runs=3, warmup=1, optimize="none", device_costs="additive")
    n_parts = len(blocks.block_masks(p0, 32))
    monkeypatch.setattr(profiling, "time_interleaved", fake)
    p = import_onnx(residual_model(), runs=3, warmup=1, optimize="none")
    rows = p.metadata["device_costs"]["calibration"]["blocks"]
    assert len(rows) == n_parts
    assert calls == ([n_parts, 2, n_parts] if first_slow else [n_parts, 2])
    assert p.metadata["device_costs"]["calibration"]["probe_ms"] == 1.25
    assert [r["windows"] for r in rows] == [2 if first_slow else 1] * n_parts
    assert [r["prefix_estimate_ms"] for r in rows] == pytest.approx([10.0 * (k + 1) for k in range(n_parts)])
    assert blocks.slow_window(11.1, 10.0) and not blocks.slow_window(10.9, 10.0)


class _CountingSession:
    """Stands in for an onnxruntime session: counts runs (no model is executed)."""

    def __init__(self):
        self.runs = 0

    def run(self, _outputs, _inputs):
        self.runs += 1
        return []


@pytest.mark.parametrize("warm_each,min_seconds", [(True, 0.0), (False, 0.0), (False, 0.02)])
def test_every_timed_run_follows_a_run_of_the_same_or_the_previous_model(monkeypatch, warm_each, min_seconds):
    """``warm_each``: an untimed run before each timed one; without it, back-to-back rounds add
    nothing, and a round after a pacing pause starts with one untimed run of its first model."""
    from formulations.partition.importers import profiling

    sessions = []

    def session(_model, **_kwargs):
        sessions.append(_CountingSession())
        return sessions[-1]

    monkeypatch.setattr(profiling, "_session", session)
    monkeypatch.setattr(profiling, "_feeds_for", lambda _s, feeds: feeds)
    times = profiling.time_interleaved([b"a", b"b", b"c"], [{}, {}, {}], runs=4, warmup=1, min_seconds=min_seconds,
                                       warm_each=warm_each)
    rounds = len(times[0])
    assert [len(t) for t in times] == [rounds] * 3 and rounds >= 4
    total = sum(s.runs for s in sessions)
    if warm_each:
        assert [s.runs for s in sessions] == [1 + 2 * rounds] * 3
    elif min_seconds == 0.0:
        assert total == 3 * (1 + rounds)
    else:  # paced: rounds after the first start after a pause and warm their first model
        assert 3 * (1 + rounds) + 1 <= total <= 3 * (1 + rounds) + rounds


@pytest.mark.parametrize("case", ["normal", "first_slow", "spell", "no_reference"])
def test_measure_keeps_the_first_window_at_full_speed(monkeypatch, case):
    """``split --measure`` times two windows with the speed probe, more (up to MAX_WINDOWS) while
    the probe runs slower than at the calibration, and keeps the first window whose probe and
    total are within RECHECK_RTOL of the fastest window's (fake timer: no clock involved)."""
    pytest.importorskip("onnx")  # the speed probe is an ONNX model
    from formulations.partition.importers import profiling, segments

    # per window: (slowdown of the parts, slowdown of the probe)
    speeds = {"normal": [(1.0, 1.0), (1.02, 1.01)],
              "first_slow": [(1.5, 1.3), (1.0, 1.0)],
              "spell": [(1.3, 1.3), (1.25, 1.3), (1.0, 1.0), (1.0, 1.0)],
              "no_reference": [(1.3, 1.3), (1.25, 1.3)]}[case]
    windows = []

    def fake(models, feeds, *, runs=20, warm_each=True, **_kwargs):
        assert warm_each and len(feeds) == len(models)
        part, probe = speeds[len(windows)]
        windows.append(len(models))
        times = [np.linspace(10.0 * (k + 1), 12.0 * (k + 1), runs) * part for k in range(len(models) - 1)]
        return times + [np.linspace(1.0, 1.2, runs) * probe]

    class Part:
        def SerializeToString(self):
            return b""

    monkeypatch.setattr(profiling, "time_interleaved", fake)
    reference = None if case == "no_reference" else 1.0
    timed, record = segments._timed_parts([Part(), Part()], [{}, {}], 5, 0, 1, reference)
    expect_windows = {"normal": 2, "first_slow": 2, "spell": 3, "no_reference": 2}[case]
    expect_kept = {"normal": 0, "first_slow": 1, "spell": 2, "no_reference": 0}[case]
    assert windows == [3] * expect_windows
    assert record["windows"] == expect_windows and record["window"] == expect_kept
    part = speeds[expect_kept][0]
    assert [t[3] for t in timed] == pytest.approx([10.0 * part, 20.0 * part])
    assert record["probe_ms"] == pytest.approx(speeds[expect_kept][1])
    assert all(t[1] <= t[0] <= t[2] for t in timed)


def test_the_machine_probe_record_keeps_the_fastest_and_survives_a_bad_file(tmp_path, monkeypatch):
    from formulations.partition.importers import profiling

    monkeypatch.setenv(profiling.CACHE_ENV, str(tmp_path / "cache"))
    assert profiling.machine_probe_ms() is None
    profiling.record_probe_ms(2.0)
    profiling.record_probe_ms(3.0)
    assert profiling.machine_probe_ms() == 2.0
    profiling.record_probe_ms(1.5)
    assert profiling.machine_probe_ms() == 1.5
    (tmp_path / "cache" / "speed_probe.json").write_text("not json")
    assert profiling.machine_probe_ms() is None
    profiling.record_probe_ms(4.0)
    assert profiling.machine_probe_ms() == 4.0


@pytest.mark.filterwarnings("ignore:the sum of per-layer medians")
@pytest.mark.parametrize("probes,checks", [([1.5, 1.5, 1.0], 3), ([1.0], 1), ([1.5] * 9, 4)])
def test_the_calibration_waits_for_the_machine_to_run_at_its_recorded_speed(monkeypatch, probes, checks):
    """The re-check window is repeated (at most 1 + MAX_RECHECKS times) while the speed probe runs
    slower than this machine's fastest recorded probe beyond RECHECK_RTOL; a calibration that never
    sees full speed warns (fake timer: no clock involved)."""
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    import warnings

    from formulations.partition.importers import profiling
    from formulations.partition.importers.onnx import MeasurementQualityWarning, import_onnx
    from tests.partition.test_import_onnx import residual_model

    real = profiling.time_interleaved
    seen = []

    def fake(models, feeds, *, runs=20, label="", **kwargs):
        if "device parts" not in label and "re-timing" not in label:
            return real(models, feeds, runs=runs, label=label, **kwargs)
        if "re-timing" in label:
            seen.append(probes[len(seen)])
            return [np.full(runs, 10.0 * 3), np.full(runs, seen[-1])]
        return [np.full(runs, 10.0 * (k + 1)) for k in range(len(models))]

    profiling.record_probe_ms(1.0)
    monkeypatch.setattr(profiling, "time_interleaved", fake)
    assert profiling.MAX_RECHECKS == 3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        p = import_onnx(residual_model(), runs=3, warmup=1, optimize="none")
    info = p.metadata["device_costs"]["calibration"]
    assert len(seen) == checks and info["checks"] == checks
    assert info["machine_probe_ms"] == 1.0 and info["probe_ms"] == seen[-1]
    slow = [w for w in caught if issubclass(w.category, MeasurementQualityWarning) and "slower" in str(w.message)]
    assert len(slow) == (1 if seen[-1] > 1.1 else 0)
    assert profiling.machine_probe_ms() == 1.0  # a slower probe never replaces the record
