"""Figures (solvers.plots) and ``coinfer plot``: the drawn data equal the solvers' results.

Every check reads the data back from the axes (artists found by ``gid``) and
compares it with an independent call of the solver or evaluator.
"""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import formulations  # noqa: E402
import solvers  # noqa: E402
from solvers.cli import main  # noqa: E402
from solvers.plots import find_artist, save_figure  # noqa: E402
from solvers.plots._style import fmt_bytes, overlapping_pairs  # noqa: E402
from solvers.solution import Solution, Status  # noqa: E402
from tests.helpers import INSTANCES  # noqa: E402

PARTITION = INSTANCES / "partition"


def load(rel):
    return formulations.load(INSTANCES / rel)


def write_both(fig, tmp_path, stem):
    for suffix in ("png", "svg"):
        out = save_figure(fig, tmp_path / f"{stem}.{suffix}")
        assert out.stat().st_size > 1000
    assert (tmp_path / f"{stem}.svg").read_text().lstrip().startswith("<?xml")
    assert (tmp_path / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------ bandwidth map
@pytest.mark.parametrize("name", ["inception_block", "memory_budget", "suite/mobilenet_v3_large"])
def test_bandwidth_map_segments_are_the_maps_pieces(tmp_path, name):
    from solvers.plots import plot_bandwidth_map

    problem = formulations.load(PARTITION / f"{name}.json")
    fig = plot_bandwidth_map(problem, 0.1, 1000)
    method = "ilp" if problem.device_budget else "qdmp"
    bmap = solvers.bandwidth_map(problem, 0.1, 1000, method=method)
    assert len(bmap.pieces) >= 2
    for i, piece in enumerate(bmap.pieces):
        xy = find_artist(fig, f"piece-{i}").get_xydata()
        assert xy[0] == pytest.approx([piece.min_mbps, piece.latency(piece.min_mbps)], rel=1e-9)
        assert xy[-1] == pytest.approx([piece.max_mbps, piece.latency(piece.max_mbps)], rel=1e-9)
        # every drawn point is the optimum there (an exact solve, not the map's formula)
        x_mid = xy[len(xy) // 2, 0]
        exact = solvers.solve(problem.with_network(uplink_mbps=x_mid), method=method).objective
        assert xy[len(xy) // 2, 1] == pytest.approx(exact, rel=1e-6)
    with pytest.raises(KeyError):
        find_artist(fig, f"piece-{len(bmap.pieces)}")
    marks = find_artist(fig, "breakpoints").get_xydata()
    assert marks[:, 0] == pytest.approx(bmap.breakpoints_mbps, rel=1e-12)
    assert marks[:, 1] == pytest.approx([bmap.latency(x) for x in bmap.breakpoints_mbps], rel=1e-12)
    # piece labels in the legend: layers on device and bytes sent, from the breakdown
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    for i, piece in enumerate(bmap.pieces):
        b = problem.breakdown({"device": list(piece.device)})
        assert legend[i].startswith(f"{i + 1}: {b['device_layers']}/{problem.n_layers} on device")
    every = {"device": problem.names}
    if problem.is_feasible(every):
        all_device = find_artist(fig, "all-device").get_xydata()
        assert all_device[:, 1] == pytest.approx(problem.latency(every), rel=1e-9)
    else:  # e.g. a device budget: no reference line for an infeasible partition
        with pytest.raises(KeyError):
            find_artist(fig, "all-device")
    tags = [find_artist(fig, f"tag-{i}") for i in range(len(bmap.pieces))]
    assert overlapping_pairs(fig, tags) == []
    write_both(fig, tmp_path, "bmap")


def test_bandwidth_map_from_a_map_and_full_offload_line():
    from solvers.plots import plot_bandwidth_map

    problem = formulations.load(PARTITION / "tiny_chain.json")
    bmap = solvers.bandwidth_map(problem, 1, 100)
    fig = plot_bandwidth_map(bmap, problem=problem)
    assert fig.coinfer_bandwidth_map is bmap
    offload = find_artist(fig, "full-offload").get_xydata()
    least = problem.assignment(problem.least_device_mask())
    for x, y in offload[[0, len(offload) // 2, -1]]:
        assert y == pytest.approx(problem.with_network(uplink_mbps=x).latency(least), rel=1e-9)
    bare = plot_bandwidth_map(bmap)  # no problem: no reference lines
    with pytest.raises(KeyError):
        find_artist(bare, "all-device")


# ------------------------------------------------------------------ partition
@pytest.mark.parametrize("name, uplink", [("inception_block", None), ("two_inputs_two_outputs", None),
                                          ("synthetic_700", None), ("googlenet", 100.0), ("vgg16", 30.0),
                                          ("suite/densenet201", 50.0)])
def test_partition_figure_draws_the_optimal_cut(tmp_path, name, uplink):
    from solvers.plots import plot_partition

    problem = formulations.load(PARTITION / f"{name}.json")
    fig = plot_partition(problem, uplink_mbps=uplink)
    solved = problem if uplink is None else problem.with_network(uplink_mbps=uplink)
    sol = solvers.solve(solved)
    layout = fig.coinfer_layout
    device = {nm for _, side, layers in layout.nodes if side == "device" for nm in layers}
    server = {nm for _, side, layers in layout.nodes if side == "server" for nm in layers}
    assert device == set(sol.assignment["device"]) and server == set(sol.assignment["server"])
    b = solved.breakdown(sol.assignment)
    assert sum(layout.senders.values()) == b["uplink_bytes"]
    # the axes hold exactly the layout: node markers per side, one segment per cut edge
    for side in ("device", "server"):
        idx = [i for i, node in enumerate(layout.nodes) if node[1] == side]
        offsets = find_artist(fig, side).get_offsets()
        assert np.asarray(offsets).reshape(-1, 2) == pytest.approx(layout.xy[idx].reshape(-1, 2))
    segments = find_artist(fig, "cut-edges").get_segments()
    assert len(segments) == len(layout.cut_edges) >= (1 if b["uplink_bytes"] else 0)
    for seg, (a, c) in zip(segments, layout.cut_edges):
        assert layout.nodes[a][1] == "device" and layout.nodes[c][1] == "server"
        assert seg == pytest.approx(layout.paths[(a, c)])
        assert seg[[0, -1]] == pytest.approx(layout.xy[[a, c]])
    labels = [find_artist(fig, f"cut-label-{nm}") for nm in layout.senders]
    legend = fig.axes[0].get_legend()
    entries = [t.get_text() for t in legend.get_texts()] if layout.senders else []
    assert sorted(int(t.get_text()) for t in labels) == list(range(1, len(labels) + 1))
    for text, nm in zip(labels, layout.senders):  # number k on the sender, legend row k: name and bytes
        assert entries[int(text.get_text()) - 1] == f"{nm}: {fmt_bytes(layout.senders[nm])}"
    assert len(layout.nodes) <= 60 + 2
    assert layout.collapsed == (problem.n_layers > 60)
    assert overlapping_pairs(fig, labels) == []
    write_both(fig, tmp_path, "partition")


def test_partition_layout_edges_go_left_to_right():
    from solvers.plots.partition import partition_layout

    problem = formulations.load(PARTITION / "googlenet.json").with_network(uplink_mbps=100)
    sol = solvers.solve(problem)
    for max_layers in (10, 60, 200):
        layout = partition_layout(problem, sol.assignment, max_layers=max_layers)
        assert all(layout.xy[a, 0] < layout.xy[b, 0] for a, b in layout.edges)
        assert sum(len(layers) for _, _, layers in layout.nodes) == problem.n_layers


def _segment_distance(points, p, q):
    d = q - p
    u = np.clip(((points - p) @ d) / (d @ d), 0.0, 1.0)
    return np.hypot(*(points - (p + u[:, None] * d)).T), u


@pytest.mark.parametrize("name", ["residual_block", "inception_block", "googlenet"])
def test_partition_edges_never_run_through_other_nodes(name):
    """Skip edges (residual shortcuts) are arcs; every straight edge keeps clear of the other nodes."""
    from solvers.plots.partition import _CLEARANCE

    problem = formulations.load(PARTITION / f"{name}.json")
    fig = plot_partition_of(problem)
    layout = fig.coinfer_layout
    assert set(layout.paths) == set(layout.edges)
    drawn = [seg for gid in ("edges", "cut-edges") for seg in find_artist(fig, gid).get_segments()]
    assert sorted(len(seg) for seg in drawn) == sorted(len(path) for path in layout.paths.values())
    for (a, b), path in layout.paths.items():
        others = np.delete(layout.xy, [a, b], axis=0)
        if len(path) == 2:
            dist, u = _segment_distance(others, layout.xy[a], layout.xy[b])
            assert not ((dist < _CLEARANCE) & (u > 0) & (u < 1)).any(), (a, b)
        else:  # an arc: the straight line would have crossed a node, and the arc leaves the line
            dist, u = _segment_distance(others, layout.xy[a], layout.xy[b])
            assert ((dist < _CLEARANCE) & (u > 0) & (u < 1)).any()
            assert np.abs(path[len(path) // 2, 1] - layout.xy[[a, b], 1].mean()) >= 0.4  # half the 1-lane bow
    if name == "residual_block":
        assert layout.arcs  # its shortcut stem -> add


def plot_partition_of(problem, assignment=None, **kwargs):
    from solvers.plots import plot_partition

    return plot_partition(problem, assignment, **kwargs)


def test_partition_depth_ticks_are_whole_layers_for_a_full_offload():
    problem = formulations.load(PARTITION / "suite" / "densenet201.json").with_network(uplink_mbps=1000)
    fig = plot_partition_of(problem)
    assert len(fig.coinfer_layout.nodes) <= 3  # collapsed: input, first server layer, the rest
    ticks = fig.axes[0].get_xticks()
    assert len(ticks) and np.allclose(ticks, np.round(ticks))


def test_partition_legend_lists_only_what_is_drawn():
    """All on the phone: no server/edge/cloud nodes and no cut, so no such legend entries."""
    problem = formulations.load(PARTITION / "tiers" / "resnet18_3tier.json")
    everything = {problem.tiers[0]: list(problem.names), **{t: [] for t in problem.tiers[1:]}}
    fig = plot_partition_of(problem, everything)
    entries = [t.get_text() for t in fig.legends[0].get_texts()]
    assert entries == [f"on {problem.tiers[0]}"]
    two = formulations.load(PARTITION / "tiny_chain.json")
    fig = plot_partition_of(two, {"device": list(two.names), "server": []})
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["on device"]


@pytest.mark.parametrize("name, uplink", [("inception_block", 10.0), ("tiers/worked_example", 100.0),
                                          ("two_inputs_two_outputs", 3.0)])
def test_partition_sender_numbers_stay_by_their_nodes(name, uplink):
    """Each number is anchored at its sender; one pushed away by another gets a leader line back."""
    problem = formulations.load(PARTITION / f"{name}.json").with_network(uplink_mbps=uplink)
    fig = plot_partition_of(problem)
    layout = fig.coinfer_layout
    index = {nm: i for i, (_, _, layers) in enumerate(layout.nodes) for nm in layers}
    labels = [a for a in fig.axes[0].texts if (a.get_gid() or "").startswith("cut-label-")]
    assert len(labels) == sum(len(s) for s in layout.link_senders) >= 1
    for label in labels:
        nm = label.get_gid().removeprefix("cut-label-")
        nm = nm if nm in index else nm.split("-", 1)[1]
        assert tuple(label.xy) == pytest.approx(tuple(layout.xy[index[nm]]))
        x_pt, y_pt = label.xyann
        assert label.arrow_patch is not None or (0 < x_pt <= 60 and 0 < y_pt <= 10)


def test_partition_figure_of_a_throughput_solution_draws_the_stage_loads():
    import json

    from solvers.plots import plot_partition

    data = json.loads((PARTITION / "googlenet.json").read_text())
    data["objective"], data["network"]["uplink_mbps"] = "throughput", 100.0
    problem = formulations.PartitionProblem.from_dict(data)
    sol = solvers.solve(problem, time_limit=20)
    fig = plot_partition(problem, sol)
    terms = problem.evaluate(sol.assignment).terms
    bars = [p for p in fig.axes[1].patches if p.get_gid() in ("stage-loads", "bottleneck")]
    assert [b.get_width() for b in bars] == pytest.approx(list(terms["stage_ms"].values()))
    bottleneck = find_artist(fig, "bottleneck", axes_index=1)
    assert bottleneck.get_width() == pytest.approx(terms["period_ms"]) == pytest.approx(1000.0 / sol.objective)
    labels = [t.get_text() for t in fig.axes[1].get_yticklabels()]
    assert labels == list(terms["stage_ms"]) and terms["bottleneck"] in fig.axes[1].get_title()


def tiered_hand_assignment(problem):
    """A feasible 3-tier assignment using every tier: by topological position, a few layers per tier."""
    tiers = np.zeros(problem.n_layers, dtype=np.int64)
    tiers[problem.topology.pos >= 3] = 1
    tiers[problem.topology.pos >= 20] = 2
    assert problem.violations(tiers) == []
    return problem.assignment(tiers)


def check_tiered_figure(fig, problem, assignment):
    """The drawn k-tier figure equals the assignment and its evaluation (per tier and per link)."""
    from matplotlib.colors import to_rgba

    from solvers.plots._style import LINK_STYLES, TIER_COLORS

    layout = fig.coinfer_layout
    tier_of = dict(zip(problem.names, problem.tier_vector(assignment).tolist()))
    assert sorted(nm for _, _, layers in layout.nodes for nm in layers) == sorted(problem.names)
    for j, tier in enumerate(problem.tiers):
        idx = [i for i, node in enumerate(layout.nodes) if node[1] == tier]
        dots = find_artist(fig, f"tier-{j}")
        assert np.asarray(dots.get_offsets()).reshape(-1, 2) == pytest.approx(layout.xy[idx].reshape(-1, 2))
        if idx:  # the colour of tier j is the solution's tier of every layer the node holds
            assert tuple(dots.get_facecolor()[0]) == pytest.approx(to_rgba(TIER_COLORS[j]))
        assert all(tier_of[nm] == j for i in idx for nm in layout.nodes[i][2])
    terms = problem.evaluate(assignment).terms
    n_links = problem.n_tiers - 1
    assert len(layout.link_senders) == len(layout.link_cut_edges) == n_links
    succ_tiers = {}
    for u, w in problem.edges:
        succ_tiers.setdefault(u, []).append(tier_of[w])
    labels = []
    for link, link_obj in enumerate(problem.links):
        # the senders of link b: every layer on a tier <= b whose output goes beyond b (from the edges)
        expected = {u for u, ts in succ_tiers.items() if tier_of[u] <= link < max(ts)}
        assert set(layout.link_senders[link]) == expected
        sent_bytes = sum(layout.link_senders[link].values())
        assert sent_bytes == sum(int(problem.output_bytes[problem.index[u]]) for u in expected)
        assert sent_bytes * 8 / (link_obj.uplink_mbps * 1000) == pytest.approx(terms["uplink_ms"][link], rel=1e-12)
        cut = find_artist(fig, f"cut-edges-{link}")
        segments = cut.get_segments()
        assert len(segments) == len(layout.link_cut_edges[link]) >= (1 if expected else 0)
        assert tuple(cut.get_color()[0]) == pytest.approx(to_rgba(LINK_STYLES[link % len(LINK_STYLES)][0]))
        for seg, (a, c) in zip(segments, layout.link_cut_edges[link]):
            assert seg == pytest.approx(layout.paths[(a, c)])
            assert seg[[0, -1]] == pytest.approx(layout.xy[[a, c]])
            assert problem.tiers.index(layout.nodes[a][1]) <= link < problem.tiers.index(layout.nodes[c][1])
        labels += [find_artist(fig, f"cut-label-{link}-{nm}") for nm in layout.link_senders[link]]
    # number k on the sender, legend row of k: name and bytes (link headers are rows without a number)
    entries = [t.get_text() for t in fig.axes[0].get_legend().get_texts()] if labels else []
    numbered = [e for e in entries if not e.startswith("link ")]
    assert sorted(int(t.get_text()) for t in labels) == list(range(1, len(labels) + 1))
    for text in labels:
        link, nm = text.get_gid().removeprefix("cut-label-").split("-", 1)
        assert numbered[int(text.get_text()) - 1] == f"{nm}: {fmt_bytes(layout.link_senders[int(link)][nm])}"
    assert overlapping_pairs(fig, labels) == []
    return layout


@pytest.mark.parametrize("name, uplink", [("worked_example", None), ("worked_example", 100.0),
                                          ("synthetic_700_3tier", None), ("googlenet_3tier", 100.0)])
def test_tiered_partition_figure_draws_the_solvers_tiers_and_cuts(tmp_path, name, uplink):
    from solvers.plots import plot_partition

    problem = formulations.load(PARTITION / "tiers" / f"{name}.json")
    fig = plot_partition(problem, uplink_mbps=uplink)
    solved = problem if uplink is None else problem.with_network(uplink_mbps=uplink)
    assert solved.links[0].uplink_mbps == (uplink or problem.links[0].uplink_mbps)
    sol = solvers.solve(solved)
    assert fig.coinfer_solution.assignment == sol.assignment and sol.method == "mincut"
    layout = check_tiered_figure(fig, solved, sol.assignment)
    assert layout.collapsed == (problem.n_layers > 60) and len(layout.nodes) <= 60 + problem.n_tiers
    counts = "/".join(str(n) for n in solved.breakdown(sol.assignment)["layers_per_tier"])
    assert fig.texts[0].get_text().startswith(f"{name}: {counts} layers on phone/edge/cloud")
    write_both(fig, tmp_path, name)


@pytest.mark.parametrize("max_layers", [60, 25, 5])
def test_tiered_partition_figure_of_a_given_three_tier_solution(tmp_path, max_layers):
    from solvers.plots import plot_partition
    from solvers.plots.partition import partition_layout

    problem = formulations.load(PARTITION / "tiers" / "resnet18_3tier.json")
    assignment = tiered_hand_assignment(problem)
    fig = plot_partition(problem, assignment, max_layers=max_layers)
    layout = check_tiered_figure(fig, problem, assignment)
    assert all(layout.link_senders) and fig.coinfer_solution is None
    assert all(layout.xy[a, 0] < layout.xy[b, 0] for a, b in layout.edges)
    assert layout.collapsed == (problem.n_layers > max_layers)
    if max_layers == 25:  # the block from the last phone cut vertex to the first cloud one is drawn layer by layer
        detail = [layers[0] for _, _, layers in layout.nodes if len(layers) == 1]
        assert set(layout.senders) <= set(detail) and len(detail) <= max_layers
    assert partition_layout(problem, assignment, max_layers=max_layers).nodes == layout.nodes
    write_both(fig, tmp_path, "resnet18_3tier")


def test_cli_plot_partition_of_a_k_tier_file(tmp_path, capsys):
    rel = PARTITION / "tiers" / "synthetic_700_3tier.json"
    for suffix in ("png", "svg"):
        out = tmp_path / f"tiers.{suffix}"
        assert main(["plot", "partition", str(rel), "-o", str(out), "--uplink-mbps", "7"]) == 0
        assert f"wrote {out}" in capsys.readouterr().out and out.stat().st_size > 1000
    assert out.read_bytes()[:5] == b"<?xml"


# ------------------------------------------------------------------ gantt
@pytest.mark.parametrize("rel, method", [("flowshop/ta001.fsp", "neh"), ("pipeline/example_3tasks.json", "exact"),
                                         ("pipeline/coinfer_rate_8tasks.json", "neh"),
                                         ("flowshop/small_5x3.json", "johnson"),
                                         ("pipeline/coinfer_stream_50x5.json", "neh")])
def test_gantt_bars_are_the_schedule(tmp_path, rel, method):
    from solvers.algorithms.pipeline.bounds import makespan_bound, objective_bound
    from solvers.plots import plot_gantt

    problem = load(rel)
    sol = solvers.solve(problem, method=method, time_limit=10)
    fig = plot_gantt(problem, sol)
    schedule = problem.evaluate(sol.assignment)
    for pos, name in enumerate(schedule.order):
        bars = [a for a in fig.axes[0].patches if a.get_gid() == f"task-{name}"]
        assert len(bars) == problem.m
        for stage, bar in enumerate(bars):
            assert bar.get_x() == pytest.approx(schedule.start_ms[pos, stage])
            assert bar.get_width() == pytest.approx(schedule.end_ms[pos, stage] - schedule.start_ms[pos, stage])
            assert bar.get_y() + bar.get_height() / 2 == pytest.approx(stage)
        colors = {bar.get_facecolor() for bar in bars}
        assert len(colors) == 1  # one colour per task on every stage
    assert find_artist(fig, "makespan").get_xdata()[0] == pytest.approx(schedule.makespan_ms)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any(t.startswith("makespan") for t in legend)
    # each task with the configuration it runs in (when tasks choose one), in the legend and on its bars
    names = ([f"{nm}: {sol.assignment['configs'][nm]}" for nm in schedule.order] if problem.has_choice
             else list(schedule.order))
    assert (set(names) <= set(legend)) == (len(schedule.order) <= 24)
    if problem.has_choice:
        for nm in schedule.order:
            texts = [t.get_text() for t in fig.axes[0].texts if t.get_gid() == f"label-{nm}"]
            assert all(t == f"{nm}\n{sol.assignment['configs'][nm]}" for t in texts)
    unit = "ms" if rel.startswith("pipeline") or problem.metadata.get("units") == "ms" else "time units"
    assert fig.axes[0].get_xlabel() == f"time ({unit})"
    if problem.objective == "makespan":
        bound = find_artist(fig, "bound").get_xdata()[0]
        expected = sol.bound if sol.bound is not None else makespan_bound(problem)[0]
        assert bound == pytest.approx(expected) and bound <= schedule.makespan_ms + 1e-9
    else:  # rate: the proven upper bound on the rate is named in the title
        expected = sol.bound if sol.bound is not None else objective_bound(problem)[0]
        assert f"rate bound {expected:.3g} tasks/s" in fig.axes[0].get_title()
        assert expected >= schedule.rate_per_s - 1e-9
    write_both(fig, tmp_path, "gantt")


# ------------------------------------------------------------------ exits
@pytest.mark.parametrize("name", ["worked_example", "resnet18_3node_fixed"])
def test_exits_front_points_are_optimal_plans(tmp_path, name):
    from solvers.plots import plot_exits_front

    problem = load(f"exits/{name}.json")
    fig = plot_exits_front(problem, n_floors=5, method="exact")
    front = fig.coinfer_front
    drawn = find_artist(fig, "front").get_xydata()
    assert drawn == pytest.approx(np.array([(p.mean_latency_ms, p.accuracy) for p in front]))
    label = find_artist(fig, "front").get_label()
    assert all(p.status == "optimal" for p in front) and "sampled accuracy floors" in label
    assert "exact front" not in label  # a sample of the front, said so
    assert np.all(np.diff(drawn[:, 0]) >= 0) and np.all(np.diff(drawn[:, 1]) > 0)
    base = {k: v for k, v in problem.constraints.items() if k != "accuracy_min"}
    for p in (front[0], front[-1]):  # re-solve independently: same optimum at that floor
        variant = problem.with_samples(problem.confidence, problem.correct, objective="latency",
                                       constraints={**base, "accuracy_min": p.accuracy_floor})
        assert solvers.solve(variant).objective == pytest.approx(p.mean_latency_ms, rel=1e-9)
    chosen = solvers.solve(problem, method="exact")
    res = problem.evaluate(chosen.assignment)
    assert find_artist(fig, "chosen").get_xydata()[0] == pytest.approx([res.mean_latency_ms, res.accuracy])
    # the chosen plan is not beaten by the front at its accuracy, and lies on it (its accuracy is a floor)
    faster = [p for p in front if p.accuracy >= res.accuracy - 1e-12]
    assert min(p.mean_latency_ms for p in faster) >= res.mean_latency_ms - 1e-9
    assert any(p.mean_latency_ms == pytest.approx(res.mean_latency_ms, rel=1e-9)
               and p.accuracy == pytest.approx(res.accuracy) for p in front)
    write_both(fig, tmp_path, "exits")


# ------------------------------------------------------------------ dpp
def test_dpp_curves_are_the_simulated_runs(tmp_path):
    from formulations.offloading.simulator import simulate
    from solvers.algorithms.offloading import DriftPlusPenalty
    from solvers.plots import plot_dpp

    problem = load("offloading/small_mixed.json")
    vs = [2.0, 20.0, 200.0]
    fig = plot_dpp(problem, vs, slots=300, seed=3)
    cost = find_artist(fig, "cost", axes_index=0).get_xydata()
    backlog = find_artist(fig, "backlog", axes_index=1).get_xydata()
    for (v, c), (_, q) in zip(cost, backlog):
        run = simulate(problem, DriftPlusPenalty(problem, v), slots=300, seed=3)
        assert c == pytest.approx(run.average_penalty) and q == pytest.approx(run.average_backlog)
    assert list(cost[:, 0]) == vs
    p_star = solvers.solve(problem, method="stationary_lp").objective
    assert find_artist(fig, "p-star", axes_index=0).get_ydata()[0] == pytest.approx(p_star)
    bound = find_artist(fig, "cost-bound", axes_index=0).get_xydata()
    assert bound[:, 1] == pytest.approx(p_star + problem.lyapunov_b / bound[:, 0])
    delay = plot_dpp(problem, [5.0], slots=200, seed=0, metric="delay")
    (v, d), = find_artist(delay, "delay", axes_index=1).get_xydata()
    run = simulate(problem, DriftPlusPenalty(problem, 5.0), slots=200, seed=0)
    assert d == pytest.approx(run.average_backlog / problem.rates.sum())
    write_both(fig, tmp_path, "dpp")


def test_dpp_marks_runs_below_p_star_on_both_panels_and_labels_units():
    """A short run at large V reports a cost below p* (its queues still hold the work): marked not converged."""
    from solvers.plots import plot_dpp

    problem = load("offloading/resnet18_exits_edge.json")
    fig = plot_dpp(problem, [0.01, 10.0], slots=400, seed=0)
    p_star = fig.coinfer_p_star
    below = [r for r in fig.coinfer_runs if r["average_penalty"] < 0.98 * p_star]
    assert below, "the issue's V = 10 run lies below p*"
    open_runs = [r for r in fig.coinfer_runs if not r["converged"]]
    assert all(not r["converged"] for r in below) and len(open_runs) < len(fig.coinfer_runs)
    marked = find_artist(fig, "not-converged", axes_index=0).get_xydata()
    assert marked.tolist() == [[r["v"], r["average_penalty"]] for r in open_runs]
    queue = find_artist(fig, "not-converged-queue", axes_index=1).get_xydata()
    assert queue.tolist() == [[r["v"], r["average_backlog"]] for r in open_runs]
    fqla = plot_dpp(problem, [1000.0], slots=300, seed=0, policy="fqla")
    assert "FQLA" in fqla.texts[0].get_text()
    assert find_artist(fqla, "cost", axes_index=0).get_xydata().tolist() == [[1000.0, fqla.coinfer_runs[0]["average_penalty"]]]
    unit = problem.metadata["cost_unit"]
    assert fig.axes[0].get_ylabel() == f"average cost per slot ({unit}/slot)"
    title = fig.texts[0].get_text()
    for count, noun in ((problem.n_devices, "device"), (problem.n_servers, "server")):
        assert (f"{count} {noun}," if count == 1 else f"{count} {noun}s,") in title


# ------------------------------------------------------------------ pareto
def front_solutions():
    points = [(12.0, 90.0, True), (15.0, 70.0, False), (18.0, 40.0, True), (30.0, 35.0, True)]
    return [Solution(Status.OPTIMAL, objective=lat, assignment={"device": [f"l{i}"]}, method="pareto", kind="partition",
                     details={"latency_ms": lat, "energy_mj": e, "supported": s})
            for i, (lat, e, s) in enumerate(reversed(points))]


def test_pareto_points_and_supported_split(tmp_path):
    from solvers.plots import plot_pareto

    front = front_solutions()
    fig = plot_pareto(front, name="hand-built")
    ordered = sorted(front, key=lambda s: s.details["latency_ms"])
    assert find_artist(fig, "front").get_xydata() == pytest.approx(
        np.array([(s.details["latency_ms"], s.details["energy_mj"]) for s in ordered]))
    sup = find_artist(fig, "supported").get_xydata()
    uns = find_artist(fig, "unsupported").get_xydata()
    assert sup.tolist() == [[12.0, 90.0], [18.0, 40.0], [30.0, 35.0]] and uns.tolist() == [[15.0, 70.0]]
    assert "hand-built" in fig.axes[0].get_title()
    write_both(fig, tmp_path, "pareto")
    bad = [Solution(Status.OPTIMAL, objective=1.0, assignment={}, details={"latency_ms": 1.0})]
    with pytest.raises(ValueError, match="energy_mj"):
        plot_pareto(bad)


def test_pareto_without_the_k_tier_capability(monkeypatch):
    from solvers.plots import plot_pareto

    monkeypatch.delattr(solvers, "pareto", raising=False)
    with pytest.raises(ValueError, match="k-tier"):
        plot_pareto(formulations.load(PARTITION / "tiny_chain.json"))


def test_pareto_calls_solvers_pareto(monkeypatch):
    from solvers.plots import plot_pareto

    problem = formulations.load(PARTITION / "tiny_chain.json")
    monkeypatch.setattr(solvers, "pareto", lambda p: front_solutions() if p is problem else None, raising=False)
    fig = plot_pareto(problem)
    assert len(fig.coinfer_front) == 4 and problem.name in fig.axes[0].get_title()


def test_pareto_of_a_shipped_k_tier_instance_equals_solvers_pareto(tmp_path, capsys):
    from solvers.plots import plot_pareto

    problem = formulations.load(PARTITION / "tiers" / "worked_example.json")
    front = solvers.pareto(problem)
    fig = plot_pareto(problem)
    drawn = find_artist(fig, "front").get_xydata()
    assert drawn == pytest.approx(np.array([(s.details["latency_ms"], s.details["energy_mj"]) for s in front]))
    supported = [(s.details["latency_ms"], s.details["energy_mj"]) for s in front if s.details["supported"]]
    assert find_artist(fig, "supported").get_xydata() == pytest.approx(np.array(supported))
    out = tmp_path / "front.svg"
    assert main(["plot", "pareto", str(PARTITION / "tiers" / "worked_example.json"), "-o", str(out)]) == 0
    assert out.read_bytes()[:5] == b"<?xml"
    assert main(["plot", "bandwidth-map", str(PARTITION / "tiers" / "worked_example.json"), "-o", str(out)]) == 2
    assert "coinfer plot pareto" in capsys.readouterr().err


def test_pareto_points_carry_their_split_and_the_legend_is_off_the_front():
    from solvers.plots import plot_pareto

    problem = formulations.load(PARTITION / "tiers" / "resnet18_3tier.json")
    fig = plot_pareto(problem)
    front = fig.coinfer_front
    assert fig.axes[0].get_legend() is None and len(fig.legends) == 1  # below the axes, not over the points
    for k, sol in enumerate(front):  # every point's label: layers per tier, counted from its assignment
        tiers = problem.tier_vector(sol.assignment)
        label = find_artist(fig, f"split-{k}")
        assert label.get_text() == "/".join(str(int((tiers == j).sum())) for j in range(problem.n_tiers))
        assert tuple(label.xy) == pytest.approx((sol.details["latency_ms"], sol.details["energy_mj"]))
    assert "layers on phone/edge/cloud" in " ".join(t.get_text() for t in fig.legends[0].get_texts())
    labels = [find_artist(fig, f"split-{k}") for k in range(len(front))]
    assert overlapping_pairs(fig, labels) == []


# ------------------------------------------------------------------ CLI
@pytest.mark.parametrize("suffix, argv", [
    ("png", ["bandwidth-map", "partition/residual_block.json", "--min-mbps", "1", "--max-mbps", "100"]),
    ("svg", ["partition", "partition/inception_block.json", "--uplink-mbps", "10"]),
    ("svg", ["gantt", "pipeline/example_3tasks.json", "--method", "neh"]),
    ("png", ["exits-front", "exits/worked_example.json", "--floors", "3"]),
    ("svg", ["dpp", "offloading/small_mixed.json", "--v", "1", "10", "--slots", "100", "--seed", "2"]),
])
def test_cli_plot_writes_the_figure(tmp_path, capsys, suffix, argv):
    # both formats of every figure are checked from Python above; here one per command
    what, rel, *rest = argv
    out = tmp_path / f"fig.{suffix}"
    assert main(["plot", what, str(INSTANCES / rel), "-o", str(out), *rest]) == 0
    assert out.stat().st_size > 1000 and f"wrote {out}" in capsys.readouterr().out
    head = out.read_bytes()[:8]
    assert head == b"\x89PNG\r\n\x1a\n" if suffix == "png" else head.startswith(b"<?xml")


def test_cli_plot_pdf_matches_the_python_figure(tmp_path):
    out = tmp_path / "bmap.pdf"
    assert main(["plot", "bandwidth-map", str(PARTITION / "tiny_chain.json"), "-o", str(out)]) == 0
    assert out.read_bytes()[:5] == b"%PDF-"


@pytest.mark.parametrize("argv, message", [
    (["gantt", "partition/tiny_chain.json"], "needs a pipeline instance"),
    (["pareto", "partition/tiny_chain.json"], "k-tier"),
    (["dpp", "offloading/small_mixed.json", "--v", "0"], "--v"),
    (["bandwidth-map", "partition/tiny_chain.json", "--min-mbps", "5", "--max-mbps", "1"], "--max-mbps"),
    (["gantt", "pipeline/example_3tasks.json", "--uplink-mbps", "3"], "--uplink-mbps"),
    (["gantt", "pipeline/example_3tasks.json", "-m", "nope"], "nope"),
])
def test_cli_plot_bad_input_exits_2(tmp_path, capsys, argv, message):
    what, rel, *rest = argv
    assert main(["plot", what, str(INSTANCES / rel), "-o", str(tmp_path / "x.png"), *rest]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.png").exists()


def test_cli_plot_bad_suffix_exits_2_before_solving(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(formulations, "load", lambda *a, **k: pytest.fail("loaded before the suffix check"))
    assert main(["plot", "gantt", str(INSTANCES / "pipeline/example_3tasks.json"), "-o", str(tmp_path / "g.jpg")]) == 2
    assert ".png, .svg or .pdf" in capsys.readouterr().err


def hide_matplotlib(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)


def test_cli_plot_without_matplotlib_names_the_extra_before_solving(tmp_path, capsys, monkeypatch):
    hide_matplotlib(monkeypatch)
    monkeypatch.setattr(formulations, "load", lambda *a, **k: pytest.fail("loaded before the extra was checked"))
    out = tmp_path / "x.png"
    assert main(["plot", "partition", str(PARTITION / "tiny_chain.json"), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "pip install 'coinfer[plot]'" in err and len(err.splitlines()) == 1 and not out.exists()


def test_python_functions_without_matplotlib_raise_importerror(monkeypatch):
    from solvers.plots import plot_partition

    hide_matplotlib(monkeypatch)
    with pytest.raises(ImportError, match=r"coinfer\[plot\]"):
        plot_partition(formulations.load(PARTITION / "tiny_chain.json"))


def test_plots_package_imports_without_matplotlib_loaded():
    import subprocess
    import sys

    code = "import sys, solvers.plots, solvers.cli; assert 'matplotlib' not in sys.modules, 'imported eagerly'"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_docs_plots_examples_run_and_match_their_comments(monkeypatch):
    from tests.helpers import ROOT, check_doc_examples

    monkeypatch.chdir(ROOT)
    assert check_doc_examples("docs/plots.md") > 0


def test_make_figures_script_writes_the_readme_images(tmp_path, monkeypatch):
    import importlib.util

    from tests.helpers import ROOT

    spec = importlib.util.spec_from_file_location("make_figures", ROOT / "docs" / "img" / "make_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "HERE", tmp_path)
    assert module.main() == 0
    for name in ("bandwidth_map.png", "partition.png", "gantt.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (ROOT / "docs" / "img" / name).stat().st_size < 150_000
