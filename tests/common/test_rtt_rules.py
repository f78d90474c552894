"""The RTT rule of every kind, from the formulas (README and docs/exits.md state them at each field).

- partition (two-tier): ``network.rtt_ms`` is a round trip, charged once when any layer is offloaded;
- partition (k tiers): ``links[b].rtt_ms`` once when some layer runs beyond tier b;
- exits: ``links[l].rtt_ms`` is one-way, charged per traversal: a sample that goes to the next
  node and back pays it twice.
"""

import numpy as np
import pytest

import formulations
from tests.helpers import INSTANCES


def test_two_tier_rtt_is_charged_once_per_offloaded_inference():
    problem = formulations.load(INSTANCES / "partition" / "tiny_chain.json")
    names = list(problem.names)
    offload = {"device": names[:2], "server": names[2:]}
    local = {"device": names, "server": []}
    with_rtt, without = problem.with_network(rtt_ms=7.0), problem.with_network(rtt_ms=0.0)
    assert with_rtt.latency(offload) - without.latency(offload) == pytest.approx(7.0)
    assert with_rtt.latency(local) == pytest.approx(without.latency(local))


def test_k_tier_rtt_is_charged_once_per_link_used():
    problem = formulations.load(INSTANCES / "partition" / "tiers" / "worked_example.json")
    n = problem.n_layers
    tiers = [0] + [2] * (n - 1)  # everything but the input in the cloud: both links used
    base = problem.measures(np.array(tiers))[0]
    data = problem.to_dict()
    data["network"]["links"][1]["rtt_ms"] += 5.0
    bumped = type(problem).from_dict(data)
    assert bumped.measures(np.array(tiers))[0] - base == pytest.approx(5.0)
    only_edge = [0] + [1] * (n - 1)  # link 1 unused: its RTT is not charged
    assert bumped.measures(np.array(only_edge))[0] == pytest.approx(
        problem.measures(np.array(only_edge))[0])


def test_exits_rtt_is_charged_per_traversal_each_way():
    problem = formulations.load(INSTANCES / "exits" / "worked_example.json")
    plan = {"placement": [0, 1], "thresholds": {"e1": 0.65}}
    placement, kept, _ = problem.parse(plan)
    base = problem.exit_latency_ms(placement, kept)
    data = problem.to_dict()
    data["links"][0]["rtt_ms"] += 2.0
    bumped = type(problem).from_dict(data)
    got = bumped.exit_latency_ms(placement, kept)
    assert got[0] == pytest.approx(base[0])  # stops on the device: no traversal
    assert got[-1] - base[-1] == pytest.approx(4.0)  # to the edge and back: twice
