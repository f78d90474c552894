"""The coinfer command line, run as users run it (a subprocess) and in-process."""

import json
import subprocess
import sys

import pytest

from tests.helpers import FIXTURES, INSTANCES
from solvers.cli import main

PARTITION = sorted((INSTANCES / "partition").glob("*.json"))
BROKEN = sorted((FIXTURES / "broken" / "partition").glob("*.json"))


def run(*args):
    return subprocess.run([sys.executable, "-m", "solvers.cli", *map(str, args)], capture_output=True, text=True)


def test_solve_table_on_shipped_instances():
    small = [p for p in PARTITION if p.stat().st_size < 200_000]
    res = run("solve", *small)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].split()[:4] == ["Instance", "Kind", "Method", "Status"]
    assert len(lines) == len(small) + 2
    assert "errors: 0" in lines[-1]
    assert "on device" in res.stdout


def test_solve_json_has_the_pinned_keys(capsys):
    files = [INSTANCES / "partition" / "tiny_chain.json", INSTANCES / "partition" / "memory_budget.json"]
    assert main(["solve", "--json", *map(str, files)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [o["file"] for o in out] == list(map(str, files))
    for o in out:
        for key in ("status", "objective", "bound", "method", "runtime_s", "message", "assignment"):
            assert key in o
        assert set(o["assignment"]) == {"device", "server"}
        assert o["status"] == "optimal"


def test_method_and_overrides(capsys):
    path = str(INSTANCES / "partition" / "tiny_chain.json")
    assert main(["solve", "--json", "--method", "mincut", "--uplink-mbps", "1000", path]) == 0
    fast = json.loads(capsys.readouterr().out)[0]
    assert main(["solve", "--json", "--method", "mincut", "--uplink-mbps", "0.5", path]) == 0
    slow = json.loads(capsys.readouterr().out)[0]
    assert fast["method"] == "mincut"
    assert len(fast["assignment"]["device"]) < len(slow["assignment"]["device"])


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.name)
def test_broken_input_exits_2_without_traceback(path):
    res = run("solve", path)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout
    assert str(path) in res.stderr


def test_validate(capsys):
    good = str(INSTANCES / "partition" / "tiny_chain.json")
    bad = str(BROKEN[0])
    assert main(["validate", good]) == 0
    assert main(["validate", good, bad]) == 2
    out = capsys.readouterr().out
    assert "ok:" in out and "invalid:" in out


def test_bad_options_exit_2(capsys):
    path = str(INSTANCES / "partition" / "tiny_chain.json")
    assert main(["solve", "--method", "nope", path]) == 2
    assert main(["solve", "--uplink-mbps", "0", path]) == 2
    assert main(["solve", "--method", "mincut", str(INSTANCES / "partition" / "memory_budget.json")]) == 2
    assert main(["bandwidth-map", path, "--min", "10", "--max", "1"]) == 2
    err = capsys.readouterr().err
    assert "unknown `method`" in err and "device_budget" in err


def test_bandwidth_map_command(capsys):
    path = str(INSTANCES / "partition" / "inception_block.json")
    assert main(["bandwidth-map", path, "--min", "0.1", "--max", "1000", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    pieces = data["pieces"]
    assert pieces[0]["min_mbps"] == pytest.approx(0.1) and pieces[-1]["max_mbps"] == pytest.approx(1000)
    assert main(["bandwidth-map", path]) == 0
    assert "pieces:" in capsys.readouterr().out


def test_methods_listing(capsys):
    assert main(["methods", "partition"]) == 0
    out = capsys.readouterr().out
    for name in ("qdmp", "mincut", "ilp", "chain", "brute_force"):
        assert name in out


def test_console_script_is_installed():
    import shutil

    exe = shutil.which("coinfer")
    if exe is None:
        pytest.skip("coinfer console script not on PATH (package not installed)")
    res = subprocess.run([exe, "methods", "partition"], capture_output=True, text=True)
    assert res.returncode == 0 and "qdmp" in res.stdout


def test_methods_lists_only_file_kinds(capsys):
    """No hidden registry kind ("tiers"): one partition table serves both forms."""
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    headings = [line[:-1] for line in out.splitlines() if not line.startswith(" ")]
    assert headings == ["partition", "exits", "pipeline", "offloading", "placement"]
    assert main(["methods", "tiers"]) == 2
