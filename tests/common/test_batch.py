"""``coinfer solve --workers N`` and ``--scheduler ADDRESS`` give the serial run's rows."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from solvers.cli import main

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "fixtures" / "broken" / "partition"
#: Far above what any file needs (milliseconds): CP-SAT's answer among equal optima can depend on the
#: time left when that is short (a loaded machine), and this test compares answers, not speed.
LIMIT_S = "60"

# Every kind, a multi-instance Taillard file and a broken file: rows, errors and order must all match.
FILES = [
    *sorted(str(p) for p in (ROOT / "instances" / "partition" / "suite").glob("*.json"))[:4],
    str(ROOT / "instances" / "partition" / "tiers_energy.json"),
    str(next(iter(sorted(BROKEN.glob("*.json"))))),
    str(ROOT / "instances" / "exits" / "worked_example.json"),
    str(ROOT / "instances" / "pipeline" / "example_3tasks.json"),
    str(ROOT / "instances" / "flowshop" / "small_5x3.json"),
    str(ROOT / "instances" / "offloading" / "small_mixed.json"),
]


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _records(text: str) -> list[dict]:
    records = json.loads(text)
    for record in records:  # timings and search statistics differ between runs; everything else must not
        record.pop("runtime_s", None)
        record.get("details", {}).pop("wall_s", None)
        record.get("details", {}).pop("branches", None)  # CP-SAT's count depends on its wall-clock presolve
    return records


def _rows(text: str) -> list[str]:
    """Table lines without the Time(s) column (the 9th field, after Unit)."""
    return [" ".join(f for i, f in enumerate(line.split()) if i != 8) for line in text.splitlines()]


@pytest.fixture(scope="module")
def serial():
    code, out, err = run("solve", *FILES, "--json", "--time-limit", LIMIT_S)
    table = run("solve", *FILES, "--time-limit", LIMIT_S)
    return code, _records(out), table


def test_serial_batch_has_an_error_row_and_every_kind(serial):
    code, records, _ = serial
    assert code == 2  # the broken file
    assert [r["file"] for r in records if r["status"] == "error"] == [FILES[5]]
    assert {r.get("kind") for r in records} >= {"partition", "exits", "pipeline", "offloading"}


def test_workers_give_the_serial_rows(serial):
    code, records, table = serial
    got_code, out, _ = run("solve", *FILES, "--json", "--time-limit", LIMIT_S, "--workers", "2")
    assert got_code == code
    assert _records(out) == records
    got_code, out, err = run("solve", *FILES, "--time-limit", LIMIT_S, "--workers", "2")
    assert (got_code, _rows(out)) == (table[0], _rows(table[1]))
    assert err == table[2]  # the same error lines, in the same order


def test_dask_local_cluster_gives_the_serial_rows(serial):
    distributed = pytest.importorskip("dask.distributed")
    code, records, _ = serial
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        got_code, out, _ = run("solve", *FILES, "--json", "--time-limit", LIMIT_S, "--scheduler", cluster.scheduler_address)
    assert got_code == code
    assert _records(out) == records


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--workers", "-1"], "--workers must be >= 0"),
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "not both"),
    ],
)
def test_bad_parallel_options_exit_2(argv, words):
    code, _, err = run("solve", FILES[0], *argv)
    assert code == 2 and words in err


def test_workers_zero_means_one_per_core():
    code, out, _ = run("solve", FILES[0], FILES[1], "--workers", "0", "--jsonl")
    assert code == 0 and len(out.splitlines()) == 2
