"""Every option of every ``coinfer`` command acts on the output it is accepted with, or is refused.

The options are read from the argparse parsers, so a new option fails
:func:`test_every_option_is_audited` until it gets a probe here: a base command
and the same command with the option, whose outputs (stdout, and files the
command writes) must differ, or must exit 2. Options of the ONNX import and
split commands need a model and measurements; their probes live in the
import/split tests named in :data:`ONNX_OPTIONS`, which must mention them.
Options that change how, not what, is computed (parallel execution) are
listed in :data:`EXECUTION_ONLY` with the test that shows the output is
unchanged.
"""

from __future__ import annotations

import argparse
import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from solvers.cli import build_parser, main
from tests.helpers import INSTANCES, ROOT

PART = str(INSTANCES / "partition")
CHAIN = f"{PART}/tiny_chain.json"
GOOGLENET = f"{PART}/googlenet.json"
TIERS = f"{PART}/tiers/worked_example.json"
TA001 = str(INSTANCES / "flowshop" / "ta001.fsp")
PIPE = str(INSTANCES / "pipeline" / "example_3tasks.json")
EXITS = str(INSTANCES / "exits" / "worked_example.json")
DIGITS = str(INSTANCES / "exits" / "digits_1node.json")
OFFL = str(INSTANCES / "offloading" / "small_mixed.json")

#: (command, option) -> (base argv, argv with the option). Their outputs must differ (or the second exit 2).
PROBES = {
    ("solve", "--method"): (["solve", CHAIN, "--json"], ["solve", CHAIN, "--json", "-m", "chain"]),
    ("solve", "--time-limit"): (["solve", TA001, "-m", "exact", "--time-limit", "20"],
                                ["solve", TA001, "-m", "exact", "--time-limit", "0.05"]),
    ("solve", "--seed"): (["solve", TA001, "-m", "ig", "--seed", "1", "--json"],
                          ["solve", TA001, "-m", "ig", "--seed", "2", "--json"]),
    ("solve", "--json"): (["solve", CHAIN], ["solve", CHAIN, "--json"]),
    ("solve", "--jsonl"): (["solve", CHAIN], ["solve", CHAIN, "--jsonl"]),
    ("solve", "--uplink-mbps"): (["solve", CHAIN], ["solve", CHAIN, "--uplink-mbps", "1"]),
    ("solve", "--downlink-mbps"): (["solve", CHAIN, "--uplink-mbps", "100"],
                                   ["solve", CHAIN, "--uplink-mbps", "100", "--downlink-mbps", "0.5"]),
    ("solve", "--rtt-ms"): (["solve", CHAIN, "--uplink-mbps", "100"],
                            ["solve", CHAIN, "--uplink-mbps", "100", "--rtt-ms", "50"]),
    ("pareto", "--time-limit"): (["pareto", TIERS], ["pareto", TIERS, "--time-limit", "1e-6"]),
    ("pareto", "--max-points"): (["pareto", TIERS], ["pareto", TIERS, "--max-points", "1"]),
    ("pareto", "--json"): (["pareto", TIERS], ["pareto", TIERS, "--json"]),
    ("pareto", "--objectives"): (["pareto", TIERS], ["pareto", TIERS, "--objectives", "latency,throughput"]),
    ("bandwidth-map", "--min"): (["bandwidth-map", GOOGLENET], ["bandwidth-map", GOOGLENET, "--min", "100"]),
    ("bandwidth-map", "--max"): (["bandwidth-map", GOOGLENET], ["bandwidth-map", GOOGLENET, "--max", "10"]),
    ("bandwidth-map", "--method"): (["bandwidth-map", GOOGLENET], ["bandwidth-map", GOOGLENET, "--method", "mincut"]),
    ("bandwidth-map", "--rtt-ms"): (["bandwidth-map", GOOGLENET], ["bandwidth-map", GOOGLENET, "--rtt-ms", "50"]),
    ("bandwidth-map", "--downlink-mbps"): (["bandwidth-map", GOOGLENET],
                                           ["bandwidth-map", GOOGLENET, "--downlink-mbps", "0.5"]),
    ("bandwidth-map", "--json"): (["bandwidth-map", GOOGLENET], ["bandwidth-map", GOOGLENET, "--json"]),
    ("gantt", "--method"): (["gantt", PIPE], ["gantt", PIPE, "-m", "johnson"]),
    ("gantt", "--time-limit"): (["gantt", TA001, "-m", "exact", "--time-limit", "20"],
                                ["gantt", TA001, "-m", "exact", "--time-limit", "0.05"]),
    ("gantt", "--seed"): (["gantt", TA001, "-m", "ig", "--seed", "1"], ["gantt", TA001, "-m", "ig", "--seed", "2"]),
    ("gantt", "--width"): (["gantt", PIPE], ["gantt", PIPE, "--width", "40"]),
    ("gantt", "--plot"): (["gantt", PIPE], ["gantt", PIPE, "--plot", "{tmp}/g.png"]),
    ("simulate", "--policy"): (["simulate", OFFL, "--slots", "200", "--quiet"],
                               ["simulate", OFFL, "--slots", "200", "--quiet", "--policy", "all_local"]),
    ("simulate", "--v"): (["simulate", OFFL, "--slots", "200", "--quiet"],
                          ["simulate", OFFL, "--slots", "200", "--quiet", "--v", "100"]),
    ("simulate", "--service"): (["simulate", OFFL, "--slots", "300", "--quiet", "--v", "100"],
                                ["simulate", OFFL, "--slots", "300", "--quiet", "--v", "100", "--service", "lifo"]),
    ("simulate", "--slack"): (["simulate", OFFL, "--slots", "300", "--quiet", "--policy", "fqla"],
                              ["simulate", OFFL, "--slots", "300", "--quiet", "--policy", "fqla", "--slack", "0"]),
    ("simulate", "--slots"): (["simulate", OFFL, "--slots", "200", "--quiet"], ["simulate", OFFL, "--slots", "300", "--quiet"]),
    ("simulate", "--seed"): (["simulate", OFFL, "--slots", "200", "--quiet"],
                             ["simulate", OFFL, "--slots", "200", "--quiet", "--seed", "7"]),
    ("simulate", "--json"): (["simulate", OFFL, "--slots", "200", "--quiet"],
                             ["simulate", OFFL, "--slots", "200", "--quiet", "--json"]),
    ("simulate", "--series"): (["simulate", OFFL, "--slots", "200", "--quiet", "--json"],
                               ["simulate", OFFL, "--slots", "200", "--quiet", "--json", "--series"]),
    ("simulate", "--quiet"): (["simulate", OFFL, "--slots", "200"], ["simulate", OFFL, "--slots", "200", "--quiet"]),
    ("sweep", "--policy"): (["sweep", OFFL, "--slots", "100", "--workers", "1"],
                            ["sweep", OFFL, "--slots", "100", "--workers", "1", "--policy", "all_local"]),
    ("sweep", "--v"): (["sweep", OFFL, "--slots", "100", "--workers", "1"],
                       ["sweep", OFFL, "--slots", "100", "--workers", "1", "--v", "3"]),
    ("sweep", "--seeds"): (["sweep", OFFL, "--slots", "100", "--workers", "1"],
                           ["sweep", OFFL, "--slots", "100", "--workers", "1", "--seeds", "5"]),
    ("sweep", "--slots"): (["sweep", OFFL, "--slots", "100", "--workers", "1"], ["sweep", OFFL, "--slots", "150", "--workers", "1"]),
    ("sweep", "--json"): (["sweep", OFFL, "--slots", "100", "--workers", "1"],
                          ["sweep", OFFL, "--slots", "100", "--workers", "1", "--json"]),
    ("exits-holdout", "--test"): (["exits-holdout", DIGITS, "-m", "dp"], ["exits-holdout", DIGITS, "-m", "dp", "--test", DIGITS]),
    ("exits-holdout", "--fraction"): (["exits-holdout", DIGITS, "-m", "dp"],
                                      ["exits-holdout", DIGITS, "-m", "dp", "--fraction", "0.3"]),
    ("exits-holdout", "--seed"): (["exits-holdout", DIGITS, "-m", "dp"], ["exits-holdout", DIGITS, "-m", "dp", "--seed", "9"]),
    ("exits-holdout", "--method"): (["exits-holdout", DIGITS, "-m", "dp"], ["exits-holdout", DIGITS, "-m", "greedy"]),
    ("exits-holdout", "--solver-seed"): (["exits-holdout", DIGITS, "-m", "dp"],
                                         ["exits-holdout", DIGITS, "-m", "dp", "--solver-seed", "3"]),
    ("exits-holdout", "--time-limit"): (["exits-holdout", EXITS, "-m", "exact", "--time-limit", "20"],
                                        ["exits-holdout", EXITS, "-m", "exact", "--time-limit", "1e-6"]),
    ("exits-holdout", "--json"): (["exits-holdout", DIGITS, "-m", "dp"], ["exits-holdout", DIGITS, "-m", "dp", "--json"]),
    ("plot", "--output"): (["plot", "partition", CHAIN, "--output", "{tmp}/a.svg"],
                           ["plot", "partition", CHAIN, "--output", "{tmp}/a.png"]),
    ("plot", "--uplink-mbps"): (["plot", "partition", CHAIN, "-o", "{tmp}/p.svg"],
                                ["plot", "partition", CHAIN, "-o", "{tmp}/p.svg", "--uplink-mbps", "1"]),
    ("plot", "--min-mbps"): (["plot", "bandwidth-map", GOOGLENET, "-o", "{tmp}/b.svg"],
                        ["plot", "bandwidth-map", GOOGLENET, "-o", "{tmp}/b.svg", "--min", "50"]),
    ("plot", "--max-mbps"): (["plot", "bandwidth-map", GOOGLENET, "-o", "{tmp}/b.svg"],
                        ["plot", "bandwidth-map", GOOGLENET, "-o", "{tmp}/b.svg", "--max", "50"]),
    ("plot", "--method"): (["plot", "gantt", PIPE, "-o", "{tmp}/g.svg"], ["plot", "gantt", PIPE, "-o", "{tmp}/g.svg", "-m", "johnson"]),
    ("plot", "--time-limit"): (["plot", "gantt", TA001, "-m", "exact", "--time-limit", "20", "-o", "{tmp}/g.svg"],
                               ["plot", "gantt", TA001, "-m", "exact", "--time-limit", "0.05", "-o", "{tmp}/g.svg"]),
    ("plot", "--v"): (["plot", "dpp", OFFL, "--slots", "100", "-o", "{tmp}/d.svg"],
                      ["plot", "dpp", OFFL, "--slots", "100", "--v", "5", "-o", "{tmp}/d.svg"]),
    ("plot", "--slots"): (["plot", "dpp", OFFL, "--slots", "100", "-o", "{tmp}/d.svg"],
                          ["plot", "dpp", OFFL, "--slots", "150", "-o", "{tmp}/d.svg"]),
    ("plot", "--seed"): (["plot", "dpp", OFFL, "--slots", "100", "-o", "{tmp}/d.svg"],
                         ["plot", "dpp", OFFL, "--slots", "100", "--seed", "5", "-o", "{tmp}/d.svg"]),
    ("plot", "--metric"): (["plot", "dpp", OFFL, "--slots", "100", "-o", "{tmp}/d.svg"],
                           ["plot", "dpp", OFFL, "--slots", "100", "--metric", "delay", "-o", "{tmp}/d.svg"]),
    ("plot", "--floors"): (["plot", "exits-front", EXITS, "-o", "{tmp}/e.svg"],
                           ["plot", "exits-front", EXITS, "--floors", "3", "-o", "{tmp}/e.svg"]),
    ("plot", "--max-layers"): (["plot", "partition", GOOGLENET, "-o", "{tmp}/p.svg", "--uplink-mbps", "100"],
                               ["plot", "partition", GOOGLENET, "-o", "{tmp}/p.svg", "--uplink-mbps", "100",
                                "--max-layers", "5"]),
}

#: Options that change how the work runs, not its result: the test showing the output is unchanged.
EXECUTION_ONLY = {
    ("solve", "--workers"): "tests/common/test_batch.py",
    ("solve", "--scheduler"): "tests/common/test_batch.py",
    ("sweep", "--workers"): "tests/offloading/test_sweep.py",
    ("sweep", "--scheduler"): "tests/offloading/test_sweep.py",
    # onnxruntime threads of the timed runs: the measured times change with the machine, not the model
    ("import", "--threads"): "tests/partition/test_import_cli.py",
    ("split", "--threads"): "tests/partition/test_import_split.py",
}

#: ONNX import/split options: the test files that exercise each (they must name it).
ONNX_TESTS = ("tests/partition/test_import_cli.py", "tests/partition/test_import_pitfalls.py",
              "tests/partition/test_import_split.py", "tests/partition/test_import_onnx.py",
              "tests/partition/test_tier_builder.py")
ONNX_COMMANDS = ("import", "split")
#: bandwidth-map's --export writes the phone table (an ONNX-instance feature, tested with the split).
ONNX_OPTIONS = {("bandwidth-map", "--export")}


def parser_options() -> dict[tuple[str, str], list[str]]:
    """(command, longest option string) -> every spelling of the option."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out = {}
    for name, sp in sub.choices.items():
        for action in sp._actions:
            strings = [s for s in action.option_strings if s not in ("-h", "--help", "--debug")]
            if strings:
                out[(name, max(strings, key=len))] = strings
    return out


def test_every_option_is_audited():
    missing = []
    onnx_text = "\n".join((ROOT / f).read_text() for f in ONNX_TESTS)
    for (command, option), spellings in sorted(parser_options().items()):
        if (command, option) in PROBES or (command, option) in EXECUTION_ONLY:
            continue
        if command in ONNX_COMMANDS or (command, option) in ONNX_OPTIONS:
            if not any(f'"{s}"' in onnx_text for s in spellings):
                missing.append((command, option))
            continue
        missing.append((command, option))
    assert not missing, f"options without a probe: {missing}"
    for path in EXECUTION_ONLY.values():
        assert (ROOT / path).exists()


def run(argv, tmp: Path) -> tuple[int, str, bytes]:
    argv = [a.replace("{tmp}", str(tmp)) for a in argv]
    for f in tmp.glob("*"):
        f.unlink()
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    files = b"".join(f.read_bytes() for f in sorted(tmp.glob("*")) if f.suffix != ".png")
    sizes = b"".join(str((f.suffix, f.stat().st_size > 0)).encode() for f in sorted(tmp.glob("*")))
    return code, _stable(out.getvalue()), files + sizes


def _stable(text: str) -> str:
    """Output without timings (the Time(s) column and runtime fields vary between runs)."""
    import re

    text = re.sub(r'"(runtime_s|wall_s)": [0-9.e+-]+', "", text)
    return "\n".join(" ".join(f for i, f in enumerate(line.split()) if not (i == 7 and re.fullmatch(r"[0-9.]+", f)))
                     for line in text.splitlines())


@pytest.mark.parametrize("key", sorted(PROBES), ids=lambda k: f"{k[0]} {k[1]}")
def test_option_changes_the_output_or_is_refused(key, tmp_path):
    pytest.importorskip("matplotlib") if key[0] == "plot" or "--plot" in key[1] else None
    base, variant = PROBES[key]
    got_base = run(base, tmp_path)
    assert got_base[0] == 0, (base, got_base)
    got = run(variant, tmp_path)
    assert got[0] == 2 or got != got_base, f"{key}: {variant} printed the same as {base}"


def test_bandwidth_map_rtt_changes_where_offloading_pays(tmp_path):
    """The issue's case: googlenet offloads from 77.64 Mbps at RTT 0; with 50 ms RTT much later."""
    plain = run(["bandwidth-map", GOOGLENET], tmp_path)[1]
    rtt = run(["bandwidth-map", GOOGLENET, "--rtt-ms", "50"], tmp_path)[1]
    assert "77.64" in plain and "77.64" not in rtt


@pytest.mark.parametrize("argv, words", [
    (["bandwidth-map", GOOGLENET, "--max", "1e300"], [GOOGLENET, "--max"]),
    (["bandwidth-map", f"{PART}/memory_budget.json"], [f"{PART}/memory_budget.json", "device_budget"]),
    (["bandwidth-map", f"{PART}/tiers_energy.json"], [f"{PART}/tiers_energy.json", "two-tier"]),
    (["bandwidth-map", GOOGLENET, "--rtt-ms", "-1"], [GOOGLENET, "--rtt-ms"]),
])
def test_bandwidth_map_errors_name_the_file_and_the_option(argv, words):
    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        code = main(argv)
    assert code == 2 and all(w in err.getvalue() for w in words), err.getvalue()
    assert "network.uplink_mbps" not in err.getvalue()


@pytest.mark.parametrize("argv, option", [
    (["plot", "partition", CHAIN, "-o", "/nonexistent/x.png"], "--output"),
    (["gantt", PIPE, "--plot", "/nonexistent/x.png"], "--plot"),
    (["bandwidth-map", CHAIN, "--export", "/nonexistent/t.json"], "--export"),
    (["plot", "partition", CHAIN, "-o", "{tmp}/folder.png"], "--output"),
])
def test_unwritable_outputs_exit_2_naming_the_option(argv, option, tmp_path):
    pytest.importorskip("matplotlib") if argv[0] in ("plot", "gantt") else None
    (tmp_path / "folder.png").mkdir()  # an output path that is a folder
    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        code = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert code == 2 and option in err.getvalue() and "Traceback" not in err.getvalue(), err.getvalue()
