"""Make the shipped offloading instances (run from the repository root).

    python instances/offloading/make_instances.py

- ``small_mixed.json``: 3 devices, 2 servers; Poisson and empirical arrivals,
  i.i.d., Markov and trace link states (a hand-checkable example).
- ``trace_wifi.json`` + ``wifi_trace.txt``: link states replayed from a trace file.
- ``vgg16_edge.json``: 12 devices running VGG16 and 2 edge servers, with
  capacities and energy costs derived from the real-model partition instance
  ``instances/partition/vgg16.json`` (per-layer device/server times and
  tensor sizes). Profiles come from *partition* instances for now (whole
  task local, or whole task offloaded with its input tensor); when
  exit-placement instances exist, the expected work under an exit policy
  can replace ``local_ms``/``server_ms`` the same way.

Assumptions for the derived scenario (not measured): device power 2.0 W
while computing, radio power 1.0 W on Wi-Fi and 2.0 W on LTE; link
bandwidths are Neurosurgeon's Wi-Fi / LTE / 3G uplinks (18.88 / 5.85 / 1.1
Mbps); each slot is 1000 ms; a task's input is sent as a uint8 image
(a quarter of the float32 input tensor's bytes).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

import formulations  # noqa: E402
from formulations.offloading import task_profile  # noqa: E402

SLOT_MS = 1000.0
DEVICE_POWER_W = 2.0
RADIO_W = {"wifi": 1.0, "lte": 2.0, "3g": 2.0}
BANDWIDTH_MBPS = {"wifi": 18.88, "lte": 5.85, "3g": 1.1}


def write(name: str, data: dict) -> None:
    (HERE / name).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def small_mixed() -> dict:
    return {
        "kind": "offloading", "version": 1, "name": "small_mixed", "slot_ms": 100,
        "devices": [
            {"name": "d0", "arrivals": {"poisson": 2.2}, "local_capacity": 1, "local_cost": 4.0},
            {"name": "d1", "arrivals": {"values": [0, 1, 3], "probs": [0.3, 0.4, 0.3]}, "local_capacity": 2, "local_cost": 3.0},
            {"name": "d2", "arrivals": {"poisson": 1.0}, "local_capacity": 1, "local_cost": 5.0},
        ],
        "servers": [{"name": "s0", "capacity": 3}, {"name": "s1", "capacity": 2}],
        "links": [
            {"device": "d0", "server": "s0", "states": [{"capacity": 2, "cost": 1.0}, {"capacity": 1, "cost": 2.0}], "probs": [0.6, 0.4]},
            {"device": "d0", "server": "s1", "states": [{"capacity": 1, "cost": 1.5}, {"capacity": 0, "cost": 0}], "probs": [0.7, 0.3]},
            {"device": "d1", "server": "s0", "states": [{"capacity": 2, "cost": 0.5}, {"capacity": 1, "cost": 1.0}],
             "transition": [[0.9, 0.1], [0.3, 0.7]]},
            {"device": "d2", "server": "s1", "states": [{"capacity": 2, "cost": 1.0}, {"capacity": 1, "cost": 1.2}], "trace": [0, 0, 1, 0, 1]},
        ],
        "metadata": {"source": "hand-made example", "cost_unit": "mJ", "capacity_unit": "tasks per slot"},
    }


def trace_wifi() -> dict:
    states = [0] * 6 + [1] * 3 + [2] + [0] * 4 + [1] * 2 + [0] * 4  # 20 slots of a Wi-Fi link fading
    (HERE / "wifi_trace.txt").write_text(" ".join(map(str, states)) + "\n", encoding="utf-8")
    return {
        "kind": "offloading", "version": 1, "name": "trace_wifi", "slot_ms": 100,
        "devices": [{"name": "phone", "arrivals": {"poisson": 1.8}, "local_capacity": 1, "local_cost": 6.0}],
        "servers": [{"name": "edge", "capacity": 4}],
        "links": [{"device": "phone", "server": "edge", "trace_file": "wifi_trace.txt",
                   "states": [{"capacity": 3, "cost": 1.0}, {"capacity": 1, "cost": 2.5}, {"capacity": 0, "cost": 0.0}]}],
        "metadata": {"source": "hand-made trace example", "cost_unit": "mJ", "capacity_unit": "tasks per slot"},
    }


def link_state(profile: dict, tech: str) -> dict:
    """Tasks per slot and transmit energy (J/task) of a link technology for one task profile."""
    image_bytes = profile["input_bytes"] // 4
    tx_ms = image_bytes * 8.0 / (BANDWIDTH_MBPS[tech] * 1000.0)
    capacity = int(SLOT_MS // tx_ms)
    return {"capacity": capacity, "cost": round(RADIO_W[tech] * tx_ms / 1000.0, 5) if capacity else 0.0, "tech": tech,
            "tx_ms": round(tx_ms, 3)}


def vgg16_edge() -> dict:
    profile = task_profile(formulations.load(ROOT / "instances/partition/vgg16.json"), device_power_w=DEVICE_POWER_W)
    local_capacity = int(SLOT_MS // profile["local_ms"])
    server_capacity = int(SLOT_MS // profile["server_ms"])
    states = [link_state(profile, t) for t in ("wifi", "lte", "3g")]
    # Wi-Fi links fade to LTE and 3G coverage (Markov); cellular-only links stay on LTE or 3G.
    wifi_chain = [[0.8, 0.15, 0.05], [0.3, 0.6, 0.1], [0.3, 0.3, 0.4]]
    cell_chain = [[0.8, 0.2], [0.5, 0.5]]
    rates = [1.6, 1.8, 2.0, 2.2, 2.4, 2.6, 2.8, 3.0, 2.1, 2.3, 2.5, 2.7]
    devices, links = [], []
    for i, rate in enumerate(rates):
        devices.append({"name": f"phone{i}", "arrivals": {"poisson": rate}, "local_capacity": local_capacity,
                        "local_cost": round(profile["local_mj"] / 1000.0, 5), "meta": {"model": "vgg16", "local_ms": round(profile["local_ms"], 3)}})
        near, far = f"edge{i % 2}", f"edge{(i + 1) % 2}"
        links.append({"device": f"phone{i}", "server": near, "transition": wifi_chain,
                      "states": [{"capacity": s["capacity"], "cost": s["cost"]} for s in states],
                      "meta": {"states": [f"{s['tech']} {BANDWIDTH_MBPS[s['tech']]} Mbps, {s['tx_ms']} ms/task" for s in states]}})
        links.append({"device": f"phone{i}", "server": far, "transition": cell_chain,
                      "states": [{"capacity": s["capacity"], "cost": s["cost"]} for s in states[1:]],
                      "meta": {"states": [f"{s['tech']} {BANDWIDTH_MBPS[s['tech']]} Mbps" for s in states[1:]]}})
    servers = [{"name": f"edge{j}", "capacity": server_capacity, "meta": {"server_ms_per_task": round(profile["server_ms"], 3)}}
               for j in range(2)]
    return {
        "kind": "offloading", "version": 1, "name": "vgg16_edge", "slot_ms": SLOT_MS,
        "devices": devices, "servers": servers, "links": links,
        "metadata": {
            "source": "derived from instances/partition/vgg16.json by instances/offloading/make_instances.py",
            "profile": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in profile.items()},
            "assumptions": {"device_power_w": DEVICE_POWER_W, "radio_w": RADIO_W, "bandwidth_mbps": BANDWIDTH_MBPS,
                            "input": "uint8 image, input_bytes / 4"},
            "cost_unit": "J", "cost": "device energy per task (compute or radio)",
            "capacity_unit": "tasks per slot",
        },
    }


def main() -> None:
    for name, build in (("small_mixed.json", small_mixed), ("trace_wifi.json", trace_wifi), ("vgg16_edge.json", vgg16_edge)):
        data = build()
        problem = formulations.load_dict(data, base_dir=HERE)
        import solvers

        sol = solvers.offloading(problem)
        if sol.objective is not None:
            data.setdefault("metadata", {})["optimum"] = round(sol.objective, 9)
            data["metadata"]["epsilon"] = round(sol.details["epsilon"], 9)
        write(name, data)
        print(f"{name}: {problem!r}, p* = {sol.objective}, epsilon = {sol.details.get('epsilon')}")


if __name__ == "__main__":
    main()
