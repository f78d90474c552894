"""Entry points (issues 12 and 15): numpy inputs, load_all / Taillard text, and the CLI's
batch behaviour, streaming, exit codes, --debug, closed pipes and optional extras."""

import json
import subprocess
import sys

import numpy as np
import pytest

import formulations
import solvers
from formulations.errors import InstanceError, OptionError
from formulations.pipeline.taillard import TA_20x5, TA_20x5_LOWER_BOUNDS
from formulations.validate import MAX_MAGNITUDE, as_bytes, as_list, as_number
from solvers.cli import main
from tests.helpers import INSTANCES

TINY = INSTANCES / "partition" / "tiny_chain.json"
RESIDUAL = INSTANCES / "partition" / "residual_block.json"
BUDGET = INSTANCES / "partition" / "memory_budget.json"
TAI = INSTANCES / "flowshop" / "tai20_5.txt"


# --- numpy values are numbers --------------------------------------------------------------

@pytest.mark.parametrize("value", [np.float32(2.5), np.float64(2.5), np.int64(3), np.uint8(3), np.array(2.5),
                                   np.array(3, dtype=np.int32)])
def test_numpy_scalars_and_0d_arrays_are_numbers(value):
    assert as_number(value, "x") == float(value)


@pytest.mark.parametrize("value", [np.bool_(True), np.array(True), np.array([1.0]), "1", None])
def test_numpy_bools_and_arrays_are_not_numbers(value):
    with pytest.raises(InstanceError, match="x: expected a number"):
        as_number(value, "x")


def test_numpy_arrays_are_lists_and_extremes_are_refused():
    assert as_list(np.array([1, 2]), "x") == [1, 2]
    assert as_bytes(np.int64(10), "x") == 10
    for value in (2**63, np.float64(1e308), 10**400, MAX_MAGNITUDE * 2):
        with pytest.raises(InstanceError, match="x: too large"):
            as_number(value, "x")
    with pytest.raises(InstanceError, match="must be finite"):
        as_number(np.float32("nan"), "x")


def test_from_lists_takes_numpy_values():
    kw = dict(names=["a", "b", "c"], edges=[("a", "b"), ("b", "c")])
    plain = formulations.PartitionProblem.from_lists(device_ms=[0.0, 3.0, 4.0], server_ms=[0.0, 1.0, 1.0],
                                                     output_bytes=[100, 20, 4], uplink_mbps=5.0, **kw)
    numpy = formulations.PartitionProblem.from_lists(
        device_ms=[np.float32(0), np.int64(3), np.float64(4)], server_ms=np.array([0.0, 1.0, 1.0]),
        output_bytes=np.array([100, 20, 4], dtype=np.int64), uplink_mbps=np.float32(5.0), **kw)
    assert numpy.to_dict() == plain.to_dict()
    assert solvers.partition(numpy).objective == pytest.approx(solvers.partition(plain).objective)


# --- Taillard's own multi-instance files --------------------------------------------------

def test_tai20_5_txt_holds_ten_instances_with_their_bounds():
    problems = formulations.load_all(TAI)
    assert len(problems) == 10
    first = formulations.load(INSTANCES / "flowshop" / "ta001.fsp")
    assert np.array_equal(problems[0].times, first.times) and (problems[0].n, problems[0].m) == (20, 5)
    for problem, (_, seed, optimum), lower in zip(problems, TA_20x5, TA_20x5_LOWER_BOUNDS):
        meta = problem.metadata
        assert (meta["time_seed"], meta["best_known"], meta["lower_bound"]) == (seed, optimum, lower)
        times = np.asarray(problem.times, dtype=float)[:, 0, :]  # jobs x machines (one configuration)
        machine_bound = max(times[:, :k].sum(1).min() + times[:, k].sum() + times[:, k + 1:].sum(1).min()
                            for k in range(problem.m))
        assert max(machine_bound, times.sum(1).max()) == lower <= optimum  # Taillard's (1993) lower bound
    neh = solvers.pipeline(problems[0], method="neh")
    assert neh.bound <= TA_20x5[0][2] <= neh.objective


def test_load_refuses_a_multi_instance_file_and_sniffs_content(tmp_path):
    with pytest.raises(InstanceError, match="holds 10 instances; use formulations.load_all"):
        formulations.load(TAI)
    renamed = tmp_path / "taillard_data"  # no suffix: recognised by its first line
    renamed.write_text("\n\n" + (INSTANCES / "flowshop" / "ta002.fsp").read_text())
    assert formulations.load(renamed).metadata["best_known"] == TA_20x5[1][2]
    assert [p.name for p in formulations.load_all(TINY)] == [formulations.load(TINY).name]


def test_solve_prints_a_row_per_instance_of_a_multi_instance_file(capsys):
    assert main(["solve", "--method", "johnson", str(TAI)]) == 0
    rows = capsys.readouterr().out.splitlines()[1:-1]
    assert [row.split()[0] for row in rows] == [f"tai20_5.txt#{k}" for k in range(1, 11)]
    assert main(["solve", "--jsonl", "--method", "johnson", str(TAI)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["instance"] for r in records] == [f"tai20_5.txt#{k}" for k in range(1, 11)]


# --- coinfer solve: streaming, isolation, exit codes ---------------------------------------

def _patched_solve(monkeypatch, fail_on=None, exc=RuntimeError("boom"), calls=None):
    real = solvers.solve

    def solve(problem, *args, **kwargs):
        if calls is not None:
            calls.append((problem.name, kwargs.get("time_limit")))
        if problem.name == fail_on:
            raise exc
        return real(problem, *args, **kwargs)

    monkeypatch.setattr(solvers, "solve", solve)


def test_rows_are_printed_as_each_file_is_done(monkeypatch, capsys):
    real = solvers.solve
    seen = []

    def solve(problem, *args, **kwargs):
        seen.append(capsys.readouterr().out)
        return real(problem, *args, **kwargs)

    monkeypatch.setattr(solvers, "solve", solve)
    assert main(["solve", str(TINY), str(RESIDUAL)]) == 0
    assert seen[0].startswith("Instance") and "tiny_chain" not in seen[0]
    assert seen[1].startswith("tiny_chain.json") and "optimal" in seen[1]  # before the 2nd file is solved


@pytest.mark.parametrize("exc", [RuntimeError("boom"), ValueError("boom"), TypeError("boom")])
def test_a_solver_bug_is_exit_1_naming_the_file_and_the_batch_goes_on(monkeypatch, capsys, exc):
    name = formulations.load(TINY).name
    _patched_solve(monkeypatch, fail_on=name, exc=exc)
    assert main(["solve", str(TINY), str(RESIDUAL)]) == 1
    out, err = capsys.readouterr()
    assert f"{TINY}: internal error: {type(exc).__name__}: boom" in err and "Traceback" not in err
    assert "residual_block.json" in out and "optimal" in out
    assert main(["solve", "--json", str(BUDGET), str(TINY)]) == 1
    records = json.loads(capsys.readouterr().out)
    assert records[0]["status"] == "optimal" and records[1]["status"] == "error"
    assert "internal error" in records[1]["message"]


def test_option_errors_are_exit_2(monkeypatch, capsys):
    with pytest.raises(OptionError):
        solvers.solve(formulations.load(TINY), method="nope")
    assert main(["solve", "--method", "nope", str(TINY)]) == 2
    assert main(["solve", "--time-limit", "0", str(TINY)]) == 2
    assert main(["solve", "--seed", "1", str(TINY)]) == 2
    err = capsys.readouterr().err
    assert "unknown `method`" in err and "--time-limit" in err and "--seed needs" in err


def test_search_methods_get_a_default_time_limit(monkeypatch, capsys):
    calls = []
    _patched_solve(monkeypatch, calls=calls)
    assert main(["solve", str(BUDGET), str(TINY), str(BUDGET)]) == 0
    assert [limit for _, limit in calls] == [60.0, None, 60.0]  # ilp (default on budgets) searches; qdmp not
    err = capsys.readouterr().err
    assert err.count("default time limit 60 s") == 1
    calls.clear()
    assert main(["solve", "--time-limit", "5", str(BUDGET)]) == 0
    assert calls[0][1] == 5.0 and "default time limit" not in capsys.readouterr().err


def test_debug_is_accepted_after_the_subcommand(monkeypatch, capsys):
    _patched_solve(monkeypatch, fail_on=formulations.load(TINY).name)
    assert main(["solve", str(TINY), "--debug"]) == 1
    assert "Traceback" in capsys.readouterr().err
    assert main(["methods", "--debug", "pipeline"]) == 0
    assert main(["--debug", "methods", "pipeline"]) == 0


def test_validate_isolates_files_and_counts_instances(tmp_path, capsys):
    bad = tmp_path / "deep.json"
    bad.write_text("[" * 5000 + "]" * 5000)
    assert main(["validate", str(TINY), str(bad), str(TAI)]) == 2
    out = capsys.readouterr().out
    assert out.count("ok: ") == 11 and f"invalid: {bad}" in out and f"{TAI}#10" in out


def test_a_closed_pipe_ends_quietly():
    proc = subprocess.Popen([sys.executable, "-m", "solvers.cli", "solve", str(TINY), str(RESIDUAL)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first row is written (like `| head -0`)
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert err == ""


def test_gantt_plot_checks_matplotlib_before_solving(monkeypatch, capsys):
    calls = []
    _patched_solve(monkeypatch, calls=calls)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    path = str(INSTANCES / "flowshop" / "small_5x3.json")
    assert main(["gantt", path, "--plot", "out.png"]) == 2
    assert calls == [] and "pip install 'coinfer[plot]'" in capsys.readouterr().err


def test_simulate_progress_has_no_carriage_returns_off_a_terminal():
    res = subprocess.run([sys.executable, "-m", "solvers.cli", "simulate",
                          str(INSTANCES / "offloading" / "small_mixed.json"), "--slots", "300"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "\r" not in res.stderr and "300/300 slots" in res.stderr


def test_bandwidth_map_lookup_refuses_nan():
    bmap = solvers.bandwidth_map(formulations.load(RESIDUAL), 1, 100)
    for bad in (float("nan"), -1.0, None):
        with pytest.raises(ValueError, match="uplink_mbps"):
            bmap.lookup(bad)
    assert bmap.lookup(10.0) in bmap.pieces
