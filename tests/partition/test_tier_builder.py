"""``coinfer import MODEL --tiers ... --links ... --radio ...`` and ``import_tiers`` (issue 22): a k-tier
instance from one profile per tier; each tier's times equal a two-tier import with that profile."""

from __future__ import annotations

import json

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

import solvers  # noqa: E402
from formulations import load  # noqa: E402
from formulations.errors import InstanceError  # noqa: E402
from formulations.partition.importers import import_onnx, import_tiers  # noqa: E402
from formulations.partition.importers.tier_builder import parse_link  # noqa: E402
from formulations.partition.radio import PRESETS  # noqa: E402
from formulations.partition.tiers import Link, TieredPartitionProblem  # noqa: E402
from solvers import cli  # noqa: E402
from tests.partition.test_import_onnx import residual_model  # noqa: E402

TIERS = ["phone-cpu", "edge-gpu", "datacentre-gpu"]


def test_each_tier_has_the_times_of_its_profile_and_the_radio_sets_the_energy():
    model = residual_model()
    problem = import_tiers(model, TIERS, ["100/100/5", (1000.0, None, 30.0)], radio="lte")
    assert isinstance(problem, TieredPartitionProblem) and problem.tiers == tuple(TIERS)
    for j, profile in enumerate(TIERS[1:], start=1):
        two = import_onnx(model, device_profile="phone-cpu", server_profile=profile)
        assert problem.names == two.names and list(map(tuple, problem.edges)) == list(map(tuple, two.edges))
        assert np.array_equal(problem.ms[:, j], two.server_ms) and np.array_equal(problem.ms[:, 0], two.device_ms)
    assert problem.links == (Link(100.0, 100.0, 5.0), Link(1000.0, None, 30.0))
    assert problem.energy.compute_w == 3.0 and problem.energy.tx_w == PRESETS["lte"].tx_w(100.0)
    assert problem.burst_mj == PRESETS["lte"].burst_mj and "assumed" in problem.metadata["power"]["compute_w"]
    again = TieredPartitionProblem.from_dict(json.loads(json.dumps(problem.to_dict())))
    assert again.to_dict() == problem.to_dict()
    sol = solvers.solve(problem.replace(objective="energy"))
    assert sol.status.value == "optimal"


@pytest.mark.parametrize(
    "tiers, links, kwargs, field",
    [
        (["phone-cpu"], [], {}, "tiers"),
        (TIERS, ["100/100/5"], {}, "links"),
        (TIERS, ["100/x/5", "1000"], {}, "links[0]"),
        (TIERS, ["100/100/5", "0"], {}, "links[1].uplink_mbps"),
        (TIERS, ["100", "1000/1/-1"], {}, "links[1].rtt_ms"),
        (["phone-cpu", "nope", "edge-gpu"], ["1", "1"], {}, "tiers[1]"),
        (TIERS, ["1", "1"], {"radio": "5g"}, "radio"),
        (TIERS, ["1", "1"], {"compute_w": -1}, "compute_w"),
        (["edge-gpu", "edge-gpu"], ["1"], {}, "tiers"),
    ],
)
def test_bad_tiers_links_and_radios_name_the_field(tiers, links, kwargs, field):
    with pytest.raises(InstanceError) as err:
        import_tiers(residual_model(), tiers, links, **kwargs)
    assert err.value.field == field


def test_parse_link_forms():
    assert parse_link("10", "l") == Link(10.0, None, 0.0)
    assert parse_link("10//4", "l") == Link(10.0, None, 4.0)
    assert parse_link([10, 20, 1], "l") == Link(10.0, 20.0, 1.0)


def test_the_cli_writes_a_k_tier_instance(tmp_path, capsys):
    path = tmp_path / "res.onnx"
    onnx.save(residual_model(), path)
    out = tmp_path / "res_3tier.json"
    code = cli.main(["import", str(path), "--tiers", ",".join(TIERS), "--links", "100/100/5,1000/1000/30",
                     "--radio", "wifi", "-o", str(out), "--quiet"])
    assert code == 0
    problem = load(out)
    assert problem.tiers == tuple(TIERS) and problem.radio == PRESETS["wifi"]
    assert problem.energy.tx_w <= 3.0
    code = cli.main(["solve", str(out)])
    assert code == 0 and "on phone-cpu/edge-gpu/datacentre-gpu" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--tiers", "phone-cpu,edge-gpu"], "--tiers needs --links"),
        (["--radio", "wifi"], "need --tiers"),
        (["--tiers", "phone-cpu,edge-gpu", "--links", "10", "--device-profile", "phone-cpu"], "drop --device-profile"),
        (["--tiers", "phone-cpu,edge-gpu", "--links", "10,20"], "links"),
    ],
)
def test_cli_misuse_exits_2_with_a_message(tmp_path, capsys, argv, message):
    path = tmp_path / "res.onnx"
    onnx.save(residual_model(), path)
    code = cli.main(["import", str(path), "--quiet", *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_each_tier_option_changes_the_instance(tmp_path):
    path = tmp_path / "res.onnx"
    onnx.save(residual_model(), path)
    base = ["import", str(path), "--quiet", "--tiers", "phone-cpu,edge-gpu", "--links", "10"]
    variants = {"base": [], "--tiers": ["--tiers", "phone-cpu,datacentre-gpu"], "--links": ["--links", "20"],
                "--radio": ["--radio", "3g"], "--compute-w": ["--radio", "3g", "--compute-w", "1.5"]}
    written = {}
    for label, extra in variants.items():
        out = tmp_path / f"{label.strip('-')}.json"
        assert cli.main(base + extra + ["-o", str(out)]) == 0
        written[label] = out.read_text()
    assert len(set(written.values())) == len(variants)
    assert json.loads(written["--compute-w"])["energy"] == {"compute_w": 1.5}
