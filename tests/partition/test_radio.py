"""The phone radio model (issue 22): presets from Huang et al. (MobiSys'12), saturation beyond the
measured range, promotion + tail energy once per offloaded inference, exact solvers against brute
force with a radio, errors naming the field, and no shipped instance above 3 W of radio power."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given

import solvers
from formulations import load
from formulations.io import load_dict
from formulations.errors import InstanceError
from formulations.partition.radio import PRESETS, RadioModel, radio_from_spec
from formulations.partition.tier_strategies import tiered_instances
from formulations.partition.tiers import TieredPartitionProblem
from hypothesis import settings

from tests.helpers import examples

ROOT = Path(__file__).resolve().parents[2]
WORKED = ROOT / "instances/partition/tiers/worked_example.json"
#: Largest radio power (W) any shipped instance may use: phone radios draw about 0.1-2.5 W.
MAX_RADIO_W = 3.0


def worked(radio="lte", **energy):
    data = json.loads(WORKED.read_text())
    data["radio"] = radio
    data["energy"] = {"compute_w": 3.0, **energy}
    return data


def test_presets_hold_the_published_coefficients_and_saturate():
    lte = PRESETS["lte"]
    # Table 4: alpha_u, alpha_d (mW/Mbps), beta (mW); Table 3: promotion and tail
    assert (lte.alpha_up_mw_per_mbps, lte.alpha_down_mw_per_mbps, lte.beta_mw) == (438.39, 51.97, 1288.04)
    assert lte.tail_mj == pytest.approx(1060.0 * 11.576)
    assert lte.promotion_mj == pytest.approx(1210.7 * 0.2601)
    assert lte.tx_w(1.0) == pytest.approx((438.39 + 1288.04) / 1000)
    assert lte.tx_w(lte.max_up_mbps) == lte.tx_w(100.0) == lte.tx_w(1e6)  # saturated, not extrapolated
    assert PRESETS["wifi"].tx_w(100.0) < MAX_RADIO_W
    assert PRESETS["3g"].tail_mj == pytest.approx(803.9 * 8.0882 + 601.3 * 0.8242)


def test_a_single_offloaded_inference_pays_the_lte_promotion_and_tail_once():
    problem = TieredPartitionProblem.from_dict(worked())
    assert problem.evaluate({"phone": problem.names}).terms["radio_burst_mj"] == 0.0
    value = problem.evaluate({"phone": ["input", "conv1", "conv2"], "edge": ["conv3", "fc"]})
    burst = PRESETS["lte"].burst_mj
    assert value.terms["radio_burst_mj"] == burst
    e = problem.energy
    # 48 ms on the phone at 3 W; 200 kB up at 40 Mbps = 40 ms; 4 kB back = 0.8 ms; edge 11 ms + RTT 4 ms waiting
    by_hand = 3.0 * 48 + e.tx_w * 40 + e.rx_w * 0.8 + e.idle_w * (11 + 4) + burst
    assert value.energy_mj == pytest.approx(by_hand, rel=1e-12)
    assert e.tx_w == PRESETS["lte"].tx_w(5.0)  # 40 Mbps is beyond the measured range: saturated
    assert burst > 12_000 > value.energy_mj - burst  # the tail dwarfs the rest of the inference
    both = problem.evaluate({"phone": ["input"], "edge": ["conv1"], "cloud": ["conv2", "conv3", "fc"]})
    assert both.terms["radio_burst_mj"] == burst  # once per inference, not per link or per transfer


def test_the_radio_is_reevaluated_at_a_new_link_rate_and_round_trips():
    problem = TieredPartitionProblem.from_dict(worked("wifi"))
    slow = problem.with_network(uplink_mbps=2.0, downlink_mbps=4.0)
    wifi = PRESETS["wifi"]
    assert slow.energy.tx_w == wifi.tx_w(2.0) and slow.energy.rx_w == wifi.rx_w(4.0)
    again = TieredPartitionProblem.from_dict(problem.to_dict())
    assert again.to_dict() == problem.to_dict() and again.to_dict()["radio"] == "wifi"
    custom = TieredPartitionProblem.from_dict(worked({"preset": "lte", "tail_ms": 5000}))
    assert custom.burst_mj == pytest.approx(PRESETS["lte"].promotion_mj + 1060.0 * 5.0)
    assert TieredPartitionProblem.from_dict(custom.to_dict()).burst_mj == custom.burst_mj


@pytest.mark.parametrize(
    "radio, energy, field",
    [
        ("5g", {}, "radio"),
        ({"preset": "lte", "tail_mss": 1}, {}, "radio"),
        ({"preset": "lte", "tail_ms": -1}, {}, "radio.tail_ms[0]"),
        ({"preset": "lte", "tail_ms": [1, 2]}, {}, "radio.tail_ms"),
        ({"preset": "lte", "max_up_mbps": 0}, {}, "radio.max_up_mbps"),
        ({"alpha_up_mw_per_mbps": 1.0}, {}, "radio.alpha_down_mw_per_mbps"),
        ({"preset": "nope"}, {}, "radio.preset"),
        ("lte", {"tx_w": 2.0}, "energy"),
    ],
)
def test_bad_radios_name_the_field(radio, energy, field):
    with pytest.raises(InstanceError) as err:
        TieredPartitionProblem.from_dict(worked(radio, **energy), file="x.json")
    assert err.value.field == field and err.value.file == "x.json"


def test_a_radio_needs_an_energy_model():
    data = worked()
    del data["energy"]
    with pytest.raises(InstanceError, match="compute_w") as err:
        TieredPartitionProblem.from_dict(data)
    assert err.value.field == "energy"


def test_a_two_tier_file_with_a_radio_loads_as_k_tier():
    data = json.loads((ROOT / "instances/partition/tiny_chain.json").read_text())
    data["radio"], data["energy"] = "3g", {"compute_w": 2.0}
    problem = load_dict(data)
    assert problem.n_tiers == 2 and problem.burst_mj == PRESETS["3g"].burst_mj


@settings(max_examples=examples(40))
@given(tiered_instances(objectives=("energy", "weighted"), radio=True))
def test_mincut_equals_brute_force_with_a_radio(problem):
    truth = solvers.solve(problem, method="brute_force")
    sol = solvers.solve(problem, method="mincut")
    assert sol.status.value == truth.status.value
    if truth.status.value != "optimal":
        return
    assert math.isclose(sol.objective, truth.objective, rel_tol=1e-9, abs_tol=1e-6)
    assert problem.evaluate(sol.assignment).objective == pytest.approx(sol.objective, rel=1e-9, abs=1e-6)


@settings(max_examples=examples(20))
@given(tiered_instances(n_tiers=(2, 3), objectives=("latency", "energy"), constraints=True, radio=True))
def test_ilp_equals_brute_force_with_a_radio(problem):
    truth = solvers.solve(problem, method="brute_force")
    sol = solvers.solve(problem, method="ilp")
    assert sol.status.value == truth.status.value
    if truth.status.value == "optimal":
        assert math.isclose(sol.objective, truth.objective, rel_tol=1e-9, abs_tol=1e-6)


def _shipped_partition_files():
    for path in sorted((ROOT / "instances").rglob("*.json")):
        data = json.loads(path.read_text())
        if isinstance(data, dict) and data.get("kind") == "partition" and ("energy" in data or "radio" in data):
            yield path


def test_no_shipped_instance_has_a_radio_power_above_3_w():
    files = list(_shipped_partition_files())
    assert any(p.parent.name == "tiers" for p in files)
    for path in files:
        problem = load(path)
        link = problem.links[0]
        powers = [problem.energy.tx_w, problem.energy.rx_w, problem.energy.idle_w]
        if problem.radio is not None:
            powers.append(problem.radio.max_power_w(link.uplink_mbps, link.effective_downlink_mbps))
        assert max(powers) <= MAX_RADIO_W, (path, powers)
        for mbps in (problem.metadata.get("tiers_optimum") or {}):  # the rates the stored optima use
            moved = problem.with_network(uplink_mbps=float(mbps), downlink_mbps=float(mbps))
            assert max(moved.energy.tx_w, moved.energy.rx_w) <= MAX_RADIO_W, (path, mbps)


def _radio_watts(node, key=""):
    """Every number stored under a radio-power key (tx_w, rx_w, idle_w, radio_w...) anywhere in a JSON tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _radio_watts(v, k if k in ("tx_w", "rx_w", "idle_w", "radio_w") else key)
    elif isinstance(node, list):
        for v in node:
            yield from _radio_watts(v, key)
    elif key and isinstance(node, (int, float)) and not isinstance(node, bool):
        yield key, float(node)


def test_no_shipped_file_of_any_kind_stores_a_radio_power_above_3_w():
    seen = 0
    for path in sorted((ROOT / "instances").rglob("*.json")):
        for key, watts in _radio_watts(json.loads(path.read_text())):
            seen += 1
            assert watts <= MAX_RADIO_W, (path, key, watts)
    assert seen >= 4  # worked_example.json's tx/rx/idle and the offloading instances' radio_w


def test_radio_from_spec_accepts_a_model():
    model = RadioModel(1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
    assert radio_from_spec(model) is model and model.burst_mj == 0.0
