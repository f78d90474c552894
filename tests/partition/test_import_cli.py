"""``coinfer import`` / ``coinfer profiles``: exit codes, files written, clean errors."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import formulations  # noqa: E402
from solvers import cli  # noqa: E402
from tests.partition.test_import_onnx import BROKEN_CASES, residual_model  # noqa: E402
from tests.helpers import FIXTURES, registered_commands

BROKEN = FIXTURES / "broken" / "onnx"


@pytest.fixture(autouse=True)
def import_command():
    """The ``import`` extension is registered."""
    assert "import" in registered_commands()


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "res.onnx"
    onnx.save(residual_model(), path)
    return path


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_import_with_profiles_writes_a_valid_instance(tmp_path, model_file, capsys):
    dest = tmp_path / "res.json"
    code, _, err = run(capsys, "import", model_file, "--device-profile", "phone-cpu", "--server-profile", "edge-gpu",
                       "--optimize", "none", "-o", dest)
    assert code == 0, err
    problem = formulations.load(dest)
    assert problem.n_layers == 8 and problem.metadata["server_costs"]["profile"] == "edge-gpu"
    code, out, _ = run(capsys, "solve", dest, "--uplink-mbps", "100")
    assert code == 0 and "optimal" in out


def test_measured_import_shows_progress_and_saves_profile(tmp_path, model_file, capsys):
    dest, prof = tmp_path / "res.json", tmp_path / "device_profile.json"
    code, out, err = run(capsys, "import", model_file, "--runs", "2", "--warmup", "1", "-o", dest,
                         "--save-profile", prof)
    assert code == 0, err
    assert "profiling 7 layers" in err and "8 layers" in err and out == ""
    problem = formulations.load(dest)
    saved = json.loads(prof.read_text())
    assert saved["kind"] == "measured_profile" and set(saved["layers_ms"]) == set(problem.names)
    # a measured profile works as the server side of another import
    code, _, err = run(capsys, "import", model_file, "--device-profile", "phone-cpu", "--server-profile", prof,
                       "-o", tmp_path / "again.json", "--quiet")
    assert code == 0, err
    again = formulations.load(tmp_path / "again.json")
    assert list(again.server_ms) == pytest.approx(list(problem.device_ms), rel=1e-3)


def test_device_costs_are_calibrated_by_default_or_additive(tmp_path, model_file, capsys):
    methods = {}
    for extra in ([], ["--device-costs", "additive"]):
        dest = tmp_path / f"res{len(extra)}.json"
        code, _, err = run(capsys, "import", model_file, "--runs", "2", "--warmup", "0", "-o", dest, *extra)
        assert code == 0, err
        assert ("device parts ending at cut vertices" in err) == (not extra)  # the progress names the step
        methods[tuple(extra)] = formulations.load(dest).metadata["device_costs"]["calibration"]["method"]
    assert methods[()] == "prefixes" and methods[("--device-costs", "additive")].startswith("none (additive")


def test_prefixes_time_that_many_cut_vertex_prefixes(tmp_path, model_file, capsys):
    """``--prefixes K`` adds K measured prefixes to the instance's latency metadata (0: none)."""
    got = {}
    for k in (0, 2):
        dest = tmp_path / f"res{k}.json"
        code, _, err = run(capsys, "import", model_file, "--runs", "1", "--warmup", "0", "--quiet", "-o", dest,
                           "--prefixes", k)
        assert code == 0, err
        got[k] = formulations.load(dest).metadata.get("latency", {}).get("prefixes") or []
    assert len(got[0]) == 0 and 1 <= len(got[2]) <= 2
    for row in got[2]:  # every timing carries its spread
        q1, q3 = row["measured_iqr_ms_all_opt"]
        assert q1 <= row["measured_ms_all_opt"] <= q3


def test_import_to_stdout(model_file, capsys):
    code, out, err = run(capsys, "import", model_file, "--device-profile", "phone-cpu", "--quiet")
    assert code == 0 and err == ""
    assert json.loads(out)["kind"] == "partition"


@pytest.mark.parametrize("name, message", BROKEN_CASES)
def test_broken_files_exit_2(name, message, capsys):
    code, _, err = run(capsys, "import", BROKEN / name, "--device-profile", "phone-cpu")
    assert code == 2
    assert err.startswith("error: ") and message in err and name in err


def test_dynamic_shape_given_on_the_command_line(tmp_path, capsys):
    code, _, err = run(capsys, "import", BROKEN / "dynamic_batch.onnx", "--input-shape", "x:1,4,8,8",
                       "--device-profile", "phone-cpu", "-o", tmp_path / "d.json")
    assert code == 0, err


@pytest.mark.parametrize("argv, message", [
    (["--server-profile", "nope"], "unknown profile 'nope'"),
    (["--device-profile", "nope"], "device_profile"),
    (["--runs", "0"], "--runs"),
    (["--input-shape", "1,a"], "input_shape"),
])
def test_bad_options_exit_2(model_file, capsys, argv, message):
    code, _, err = run(capsys, "import", model_file, *argv)
    assert code == 2 and message in err


def test_missing_file_exits_2(capsys):
    code, _, err = run(capsys, "import", "/nonexistent/model.onnx", "--device-profile", "phone-cpu")
    assert code == 2 and "no such file" in err


@pytest.mark.skipif(importlib.util.find_spec("torch") is not None, reason="torch is installed")
def test_torchvision_without_torch_names_the_extra(capsys):
    code, _, err = run(capsys, "import", "torchvision:resnet18")
    assert code == 2 and "coinfer[torch]" in err


def test_torch_without_torchvision_names_the_extra(capsys, monkeypatch):
    """torch installed, torchvision not: exit 2 naming the extra (was an internal ModuleNotFoundError)."""
    import sys
    import types

    if importlib.util.find_spec("torch") is None:
        monkeypatch.setitem(sys.modules, "torch", types.ModuleType("torch"))
    monkeypatch.setitem(sys.modules, "torchvision", None)  # import torchvision raises ImportError
    code, _, err = run(capsys, "import", "torchvision:resnet18")
    assert code == 2 and "coinfer[torch]" in err and "torchvision is missing" in err


def test_profiles_lists_the_shipped_profiles(capsys):
    code, out, _ = run(capsys, "profiles")
    assert code == 0
    for name in ("phone-cpu", "edge-gpu", "datacentre-gpu"):
        assert name in out


# ------------------------------------------------------------ torch route
needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs the torch extra")
#: The torchvision routes need both packages of the extra (torch alone: these skip).
needs_torchvision = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None or importlib.util.find_spec("torchvision") is None,
    reason="needs the torch extra (torch and torchvision)")


def _small_net():
    import torch

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
            self.fc = torch.nn.Linear(4 * 8 * 8, 10)

        def forward(self, x):
            c = self.conv(x)
            r = torch.relu(c) + c  # a branch joined by a residual add
            return self.fc(torch.flatten(r, 1))

    return Net().eval()


@needs_torch
def test_torchfx_layers_edges_bytes():
    from formulations.partition.importers.torchfx import import_fx

    p = import_fx(_small_net(), [1, 3, 8, 8], device_profile="phone-cpu")
    assert p.names == ["x", "conv", "relu", "add", "flatten", "fc"]
    assert set(p.edges) == {("x", "conv"), ("conv", "relu"), ("conv", "add"), ("relu", "add"), ("add", "flatten"),
                            ("flatten", "fc")}
    act = 4 * 64 * 4
    assert list(p.output_bytes) == [3 * 64 * 4, act, act, act, act, 10 * 4]
    assert p.layers[p.index["conv"]].flops == 2 * (4 * 64) * 3 * 9
    measured = import_fx(_small_net(), [1, 3, 8, 8], runs=2, warmup=1)
    assert (measured.device_ms[1:] > 0).all() and measured.metadata["device_costs"]["model"] == "measured"


@needs_torchvision
def test_unknown_torchvision_architecture_exits_2(capsys):
    code, _, err = run(capsys, "import", "torchvision:resnet5")
    assert code == 2 and "unknown torchvision architecture" in err


@needs_torchvision
@pytest.mark.slow
def test_import_torchvision_name(tmp_path, capsys):
    dest = tmp_path / "squeezenet.json"
    code, _, err = run(capsys, "import", "torchvision:squeezenet1_1", "--runs", "2", "--warmup", "1", "-o", dest)
    assert code == 0, err
    problem = formulations.load(dest)
    assert problem.metadata["source"]["model"] == "torchvision.models.squeezenet1_1"
    assert problem.n_layers > 50 and problem.inputs == ["input"]


@needs_torchvision
@pytest.mark.slow
def test_torchfx_traces_every_torchvision_classifier():
    """All of torchvision's classification architectures import (roofline costs, no timing; minutes)."""
    from formulations.partition.importers.torchfx import default_input_shape, import_fx, torchvision_model, torchvision_names

    failed = []
    for name in torchvision_names():
        try:
            problem = import_fx(torchvision_model(name), default_input_shape(name), device_profile="phone-cpu")
            assert problem.n_layers > 10 and problem.inputs == ["x"]
        except Exception as exc:  # noqa: BLE001 - collect every failure, report all at once
            failed.append(f"{name}: {type(exc).__name__}: {exc}")
    assert not failed, failed
