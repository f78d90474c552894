"""Make the shipped offloading instances (run from the repository root).

    python instances/offloading/make_instances.py [--keep-plan]

(``--keep-plan`` reuses the exit plan stored in ``resnet18_exits_edge.json``
instead of re-solving the exits instance.) Every cost is device energy in mJ
(``W x ms``), the unit of ``task_profile``'s ``local_mj`` and of ``slot_terms``.

- ``small_mixed.json``: 3 devices, 2 servers; Poisson and empirical arrivals,
  i.i.d., Markov and trace link states (a hand-checkable example).
- ``trace_wifi.json`` + ``wifi_trace.txt``: link states replayed from a trace file.
- ``vgg16_edge.json``: 12 devices running VGG16 and 2 edge servers, with
  capacities and energy costs derived from the real-model partition instance
  ``instances/partition/vgg16.json`` (per-layer device/server times and
  tensor sizes): whole task local, or whole task offloaded with its input
  tensor.
- ``resnet18_exits_edge.json``: 32 phones running multi-exit ResNet-18 under
  an exit policy and 2 edge servers, derived from the exit-placement instance
  ``instances/exits/resnet18_2node.json`` and its proven-optimal plan (from
  ``solvers.exits(method="exact")``, checked against the optimum recorded in
  the exits instance) by :func:`formulations.offloading.profiles.exit_task_profile`:
  the expected device and server work per task under the plan's exits and
  thresholds (means over the instance's 1,000 samples by its own evaluator)
  and the input tensor sent when offloaded. The plan is stored in the
  file's ``metadata.exit_plan``; ``python make_instances.py`` re-solves it,
  the tests rebuild the file from the stored plan.

Assumptions for the exit-derived scenario (not measured): slots of 500 ms;
device power 2.0 W while computing; radio power 1.0 W on Wi-Fi (the exits
instance's own 18.88 Mbps link) and 2.0 W on LTE / 3G (Neurosurgeon's 5.85 /
1.1 Mbps uplinks); the input is the exits instance's ``input_bytes`` (already
a uint8 224x224x3 image); link state processes as in ``vgg16_edge``.

Assumptions for the VGG16 scenario (not measured): device power 2.0 W
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
from formulations.offloading.profiles import exit_task_profile, slot_terms  # noqa: E402

SLOT_MS = 1000.0
DEVICE_POWER_W = 2.0
RADIO_W = {"wifi": 1.0, "lte": 2.0, "3g": 2.0}
BANDWIDTH_MBPS = {"wifi": 18.88, "lte": 5.85, "3g": 1.1}
# Wi-Fi links fade to LTE and 3G coverage (Markov); cellular-only links stay on LTE or 3G.
WIFI_CHAIN = [[0.8, 0.15, 0.05], [0.3, 0.6, 0.1], [0.3, 0.3, 0.4]]
CELL_CHAIN = [[0.8, 0.2], [0.5, 0.5]]


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
    """Tasks per slot and transmit energy (mJ/task) of a link technology for one task profile."""
    image_bytes = profile["input_bytes"] // 4
    tx_ms = image_bytes * 8.0 / (BANDWIDTH_MBPS[tech] * 1000.0)
    capacity = int(SLOT_MS // tx_ms)
    return {"capacity": capacity, "cost": round(RADIO_W[tech] * tx_ms, 2) if capacity else 0.0, "tech": tech,
            "tx_ms": round(tx_ms, 3)}


def vgg16_edge() -> dict:
    profile = task_profile(formulations.load(ROOT / "instances/partition/vgg16.json"), device_power_w=DEVICE_POWER_W)
    local_capacity = int(SLOT_MS // profile["local_ms"])
    server_capacity = int(SLOT_MS // profile["server_ms"])
    states = [link_state(profile, t) for t in ("wifi", "lte", "3g")]
    rates = [1.6, 1.8, 2.0, 2.2, 2.4, 2.6, 2.8, 3.0, 2.1, 2.3, 2.5, 2.7]
    devices, links = [], []
    for i, rate in enumerate(rates):
        devices.append({"name": f"phone{i}", "arrivals": {"poisson": rate}, "local_capacity": local_capacity,
                        "local_cost": round(profile["local_mj"], 2), "meta": {"model": "vgg16", "local_ms": round(profile["local_ms"], 3)}})
        near, far = f"edge{i % 2}", f"edge{(i + 1) % 2}"
        links.append({"device": f"phone{i}", "server": near, "transition": WIFI_CHAIN,
                      "states": [{"capacity": s["capacity"], "cost": s["cost"]} for s in states],
                      "meta": {"states": [f"{s['tech']} {BANDWIDTH_MBPS[s['tech']]} Mbps, {s['tx_ms']} ms/task" for s in states]}})
        links.append({"device": f"phone{i}", "server": far, "transition": CELL_CHAIN,
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
            "cost_unit": "mJ", "cost": "device energy per task (compute or radio), mJ = W x ms",
            "capacity_unit": "tasks per slot",
        },
    }


EXITS_SOURCE = "instances/exits/resnet18_2node.json"
EXITS_SLOT_MS = 500.0


def exit_plan(exits_problem) -> dict:
    """The proven-optimal plan of the exits instance (CP-SAT, one worker), checked
    against the optimum recorded in its metadata."""
    import solvers

    sol = solvers.exits(exits_problem, method="exact")
    recorded = exits_problem.metadata.get("optimum")
    if sol.status != "optimal" or (recorded is not None and abs(sol.objective - recorded) > 1e-6):
        raise SystemExit(f"{EXITS_SOURCE}: exact gave {sol.status} {sol.objective}, metadata optimum {recorded}")
    return sol.assignment


def resnet18_exits_edge(plan: dict | None = None) -> dict:
    """The exit-derived scenario; ``plan`` defaults to the exits instance's optimum."""
    exits_problem = formulations.load(ROOT / EXITS_SOURCE)
    plan = exit_plan(exits_problem) if plan is None else plan
    profile = exit_task_profile(exits_problem, plan, device_power_w=DEVICE_POWER_W, tx_power_w=RADIO_W["wifi"])
    wifi_mbps = exits_problem.links[0].mbps
    techs = [{"name": "wifi", "mbps": wifi_mbps, "radio_w": RADIO_W["wifi"]},
             {"name": "lte", "mbps": BANDWIDTH_MBPS["lte"], "radio_w": RADIO_W["lte"]},
             {"name": "3g", "mbps": BANDWIDTH_MBPS["3g"], "radio_w": RADIO_W["3g"]}]
    terms = slot_terms(profile, slot_ms=EXITS_SLOT_MS, device_power_w=DEVICE_POWER_W, link_states=techs)
    near_states = [{"capacity": s["capacity"], "cost": s["cost"]} for s in terms["states"]]
    rates = [2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 3.2, 3.8] * 4
    devices, links = [], []
    for i, rate in enumerate(rates):
        dev = f"phone{i}"
        devices.append({"name": dev, "arrivals": {"poisson": rate}, "local_capacity": terms["local_capacity"],
                        "local_cost": terms["local_cost"],
                        "meta": {"model": "resnet18 multi-exit", "local_ms": round(profile["local_ms"], 3)}})
        links.append({"device": dev, "server": f"edge{i % 2}", "transition": WIFI_CHAIN, "states": near_states,
                      "meta": {"states": [f"{s['name']} {t['mbps']} Mbps, {s['tx_ms']} ms/task" for s, t in zip(terms["states"], techs)]}})
        links.append({"device": dev, "server": f"edge{(i + 1) % 2}", "transition": CELL_CHAIN, "states": near_states[1:],
                      "meta": {"states": [f"{s['name']} {t['mbps']} Mbps" for s, t in zip(terms["states"][1:], techs[1:])]}})
    servers = [{"name": f"edge{j}", "capacity": terms["server_capacity"],
                "meta": {"server_ms_per_task": round(profile["server_ms"], 3)}} for j in range(2)]
    rounded = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in profile.items()}
    return {
        "kind": "offloading", "version": 1, "name": "resnet18_exits_edge", "slot_ms": EXITS_SLOT_MS,
        "devices": devices, "servers": servers, "links": links,
        "metadata": {
            "source": f"derived from {EXITS_SOURCE} and its optimal exit plan by instances/offloading/make_instances.py "
                      "(formulations.offloading.profiles.exit_task_profile)",
            "exit_plan": plan,
            "exit_plan_method": "exact (CP-SAT), objective = the exits instance's metadata.optimum",
            "profile": rounded,
            "assumptions": {"device_power_w": DEVICE_POWER_W, "radio_w": RADIO_W,
                            "bandwidth_mbps": {**BANDWIDTH_MBPS, "wifi": wifi_mbps},
                            "input": "the exits instance's input_bytes (uint8 image), sent whole; no split",
                            "local": "all blocks on the device with the plan's exits and thresholds",
                            "server": "all blocks on the edge node with the plan's exits and thresholds"},
            "cost_unit": "mJ", "cost": "device energy per task (compute or radio), mJ = W x ms",
            "capacity_unit": "tasks per slot",
        },
    }


def finish(data: dict) -> tuple[dict, object, object]:
    """Add ``metadata.optimum`` (p*) and ``epsilon`` from the stationary LP."""
    import solvers

    problem = formulations.load_dict(data, base_dir=HERE)
    sol = solvers.offloading(problem)
    if sol.objective is not None:
        data.setdefault("metadata", {})["optimum"] = round(sol.objective, 9)
        data["metadata"]["epsilon"] = round(sol.details["epsilon"], 9)
    return data, problem, sol


def main(resolve_plan: bool = True) -> None:
    """Write every instance; ``resolve_plan=False`` reuses the exit plan stored in resnet18_exits_edge.json."""
    stored = json.loads((HERE / "resnet18_exits_edge.json").read_text(encoding="utf-8"))["metadata"]["exit_plan"]
    builds = (("small_mixed.json", small_mixed), ("trace_wifi.json", trace_wifi), ("vgg16_edge.json", vgg16_edge),
              ("resnet18_exits_edge.json", lambda: resnet18_exits_edge(None if resolve_plan else stored)))
    for name, build in builds:
        data, problem, sol = finish(build())
        write(name, data)
        print(f"{name}: {problem!r}, p* = {sol.objective}, epsilon = {sol.details.get('epsilon')}")


if __name__ == "__main__":
    main(resolve_plan="--keep-plan" not in sys.argv)
