"""Hypothesis strategies and a seeded generator for offloading instances.

``tiny_offloading()`` draws instances small enough for the brute-force
oracles (every deterministic stationary policy; every per-slot action);
``synthetic(n_devices, n_servers, seed=...)`` builds large instances for
benchmarks. Both build instances by construction, never by filtering.

>>> from formulations.offloading.strategies import synthetic
>>> synthetic(100, 10, seed=0).n_links
300
"""

from __future__ import annotations

import numpy as np

from .problem import OffloadingProblem

__all__ = ["tiny_offloading", "slot_views", "synthetic"]


def _instance(devices, servers, links, slot_ms=100.0, name=None) -> OffloadingProblem:
    return OffloadingProblem.from_dict(
        {"kind": "offloading", "version": 1, "name": name, "slot_ms": slot_ms,
         "devices": devices, "servers": servers, "links": links}
    )


def tiny_offloading(max_devices: int = 2, max_servers: int = 2, max_capacity: int = 2, max_states: int = 2):
    """Strategy for tiny instances (integer capacities, integer-valued costs).

    Devices have Poisson or empirical arrivals, servers small capacities, and
    each device links to most servers (each pair with probability about 3/4) with 1..``max_states``
    i.i.d. states. Arrival rates may exceed what can be served (the LP is
    then infeasible), so both outcomes are exercised.
    """
    from hypothesis import strategies as st

    @st.composite
    def build(draw):
        n_dev = draw(st.integers(1, max_devices))
        n_srv = draw(st.integers(1, max_servers))
        devices = []
        for i in range(n_dev):
            if draw(st.booleans()):
                arrivals = {"poisson": draw(st.integers(0, 8)) / 4}
            else:
                n_values = draw(st.integers(1, 3))
                weights = draw(st.lists(st.integers(1, 4), min_size=n_values, max_size=n_values))
                arrivals = {"values": sorted(draw(st.sets(st.integers(0, 3), min_size=n_values, max_size=n_values))),
                            "probs": [w / sum(weights) for w in weights]}
            devices.append({"name": f"d{i}", "arrivals": arrivals,
                            "local_capacity": draw(st.integers(0, max_capacity)),
                            "local_cost": draw(st.integers(0, 6))})
        servers = [{"name": f"s{j}", "capacity": draw(st.integers(0, 2 * max_capacity))} for j in range(n_srv)]
        links = []
        for i in range(n_dev):
            for j in range(n_srv):
                if draw(st.integers(0, 3)) == 3:  # most pairs get a link
                    continue
                n_states = draw(st.integers(1, max_states))
                states = [{"capacity": draw(st.integers(0, max_capacity)), "cost": draw(st.integers(0, 4))}
                          for _ in range(n_states)]
                weights = draw(st.lists(st.integers(1, 4), min_size=n_states, max_size=n_states))
                links.append({"device": f"d{i}", "server": f"s{j}", "states": states,
                              "probs": [w / sum(weights) for w in weights]})
        return _instance(devices, servers, links)

    return build()


def slot_views(problem, max_queue: int = 6):
    """Strategy for one slot's :class:`~formulations.offloading.simulator.SlotView` of ``problem``."""
    from hypothesis import strategies as st

    from .simulator import SlotView

    @st.composite
    def build(draw):
        q = np.array([draw(st.integers(0, max_queue)) for _ in range(problem.n_devices)], dtype=np.int64)
        h = np.array([draw(st.integers(0, 3 * max_queue)) for _ in range(problem.n_servers)], dtype=np.int64)
        state = np.array([draw(st.integers(0, l.n_states - 1)) for l in problem.links], dtype=np.int64)
        cap = np.zeros((problem.n_devices, problem.n_servers), dtype=np.int64)
        cost = np.zeros((problem.n_devices, problem.n_servers))
        rows = np.arange(problem.n_links)
        cap_l, cost_l = problem.link_capacity[rows, state], problem.link_cost[rows, state]
        cap[problem.link_device, problem.link_server] = cap_l
        cost[problem.link_device, problem.link_server] = cost_l
        return SlotView(0, q, h, problem.local_capacity, cap, cost, state, cap_l, cost_l)

    return build()


def synthetic(
    n_devices: int,
    n_servers: int,
    *,
    seed: int = 0,
    links_per_device: int = 3,
    load: float = 0.8,
    name: str | None = None,
) -> OffloadingProblem:
    """A random instance with ``n_devices`` x ``links_per_device`` links and 3 i.i.d. link states.

    Each server's capacity is 80% of the expected capacity of its links; a
    device's arrival rate is ``load x (local capacity + 0.6 x its links'
    expected capacity)``. Deterministic in ``seed``.
    O(n_devices x links_per_device).
    """
    rng = np.random.default_rng(seed)
    n_links_each = min(links_per_device, n_servers)
    probs = np.array([0.5, 0.3, 0.2])
    local_cap = rng.integers(1, 4, n_devices)
    links, link_mean = [], np.zeros(n_devices)
    into = np.zeros(max(n_servers, 1))
    for i in range(n_devices):
        for j in rng.choice(n_servers, size=n_links_each, replace=False):
            caps = np.sort(rng.integers(0, 5, 3))[::-1]
            costs = [round(float(rng.uniform(0.5, 2.0)) * (1 + w), 3) for w in range(3)]
            links.append({"device": f"d{i}", "server": f"s{int(j)}",
                          "states": [{"capacity": int(c), "cost": x} for c, x in zip(caps, costs)],
                          "probs": probs.tolist()})
            link_mean[i] += caps @ probs
            into[j] += caps @ probs
    # servers can take most of what their links bring; devices get `load` of their expected service
    srv_cap = np.ceil(0.8 * into[:n_servers]).astype(int)
    rates = load * (local_cap + 0.6 * link_mean)
    devices = [
        {"name": f"d{i}", "arrivals": {"poisson": round(float(rates[i]), 4)},
         "local_capacity": int(local_cap[i]), "local_cost": round(float(rng.uniform(3, 6)), 3)}
        for i in range(n_devices)
    ]
    servers = [{"name": f"s{j}", "capacity": int(srv_cap[j])} for j in range(n_servers)]
    return _instance(devices, servers, links, name=name or f"synthetic_{n_devices}x{n_servers}")
