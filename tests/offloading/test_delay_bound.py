"""The delay lower bound: exact where the answer is known, never above what a policy achieves."""

from __future__ import annotations

from pathlib import Path

import pytest

import formulations
from formulations.offloading.delay_bound import delay_lower_bound
from formulations.offloading.simulator import simulate
from solvers.algorithms.offloading import FQLA, DriftPlusPenalty

INST = Path(__file__).resolve().parents[2] / "instances" / "offloading"


def _local_only() -> formulations.offloading.OffloadingProblem:
    """Two devices that run everything locally at once (capacity far above any arrival count that matters)."""
    return formulations.load_dict({
        "kind": "offloading", "version": 1, "name": "local_only", "slot_ms": 100.0,
        "devices": [{"name": "d0", "arrivals": {"poisson": 1.5}, "local_capacity": 40, "local_cost": 2.0},
                    {"name": "d1", "arrivals": {"values": [0, 2], "probs": [0.5, 0.5]}, "local_capacity": 40,
                     "local_cost": 3.0}],
        "servers": [{"name": "s", "capacity": 1}],
        "links": [{"device": "d0", "server": "s", "states": [{"capacity": 0, "cost": 0.0}], "probs": [1.0]}],
    })


def test_serving_at_once_is_the_least_backlog_when_nothing_else_is_cheaper():
    """Every task waits exactly one slot (queued when recorded, served the next): backlog = sum of rates."""
    p = _local_only()
    b = delay_lower_bound(p, within=0.01, etas=[1e-9, 1e-3, 0.1], q_max=80)
    assert b.backlog == pytest.approx(2.5, rel=1e-3)
    assert b.delay_ms == pytest.approx(100.0, rel=1e-3)  # one slot


@pytest.mark.parametrize("policy", ["dpp5", "fqla100"])
def test_bound_never_exceeds_a_policys_measured_delay_at_its_cost(policy):
    p = formulations.load(INST / "small_mixed.json")
    pol = {"dpp5": lambda: DriftPlusPenalty(p, 5.0), "dpp50": lambda: DriftPlusPenalty(p, 50.0),
           "fqla100": lambda: FQLA(p, 100.0)}[policy]()
    run = simulate(p, pol, slots=5000, seed=0)
    gap = max(run.average_penalty / p.lp_optimum.p_star - 1.0, 0.0)
    b = delay_lower_bound(p, within=gap + 0.005, etas=[10.0, 100.0], q_max=200)
    assert 0.0 < b.delay_ms <= run.mean_delay_ms
    assert b.budget == pytest.approx((1.0 + gap + 0.005) * p.lp_optimum.p_star)

