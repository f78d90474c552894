"""Regenerate the 3-tier (phone, edge GPU, cloud GPU) partition instances.

Usage::

    python instances/partition/make_tiers.py     # writes tiers/*.json and tiers_energy.json

Each shipped real model (ResNet-18, VGG-16, GoogLeNet) and the 700-layer
synthetic DAG becomes a 3-tier instance:

- ``phone``: the file's ``device_ms`` (roofline ``phone-cpu`` profile);
- ``edge``: the file's ``server_ms`` (roofline ``edge-gpu``, Jetson Orin Nano);
- ``cloud``: the edge time rescaled to the roofline ``datacentre-gpu``
  profile (A100): ``cloud = 0.010 + (edge - 0.030) * 512 / 9750`` ms for
  layers with a cost (the edge launch overhead of 30 us replaced by 10 us;
  the rest scaled by the ratio of effective FP32 throughputs,
  1280 GFLOP/s * 0.4 versus 19500 GFLOP/s * 0.5), 0 for input layers;
- link 0 (phone to edge): Wi-Fi, uplink = downlink = 100 Mbps (stored
  optima also at 18.88 Mbps, the QDMP / DADS Wi-Fi figure of the two-tier
  instances, and 300 Mbps), RTT 5 ms (assumed);
- link 1 (edge to cloud): wired WAN, 1000 Mbps both ways, RTT 30 ms (assumed);
- the phone's power (:data:`POWER`): ``"radio": "wifi"``, the Wi-Fi preset
  of :mod:`formulations.partition.radio` (Huang et al., MobiSys 2012,
  Table 4: ``P = alpha_u * u + beta`` while sending at ``u`` Mbps,
  ``alpha_d * d + beta`` while receiving, **saturated** beyond the measured
  range (10 Mbps up, 15 Mbps down), never extrapolated; waiting with the
  radio connected: the tail base power of Table 3; promotion + tail energy
  once per offloaded inference); compute power an assumption (3 W, four
  big cores busy).

``worked_example_lte.json`` is the hand-made worked example
(``tiers/worked_example.json``) over LTE (``"radio": "lte"``) at 3 Mbps up
and 13 Mbps down (13 Mbps: the median LTE downlink of Huang et al.'s
4GTest users; 3 Mbps: an assumed cell-edge uplink, where the LTE model
stays below 3 W), RTT 40 ms (assumed).

The optima for the latency and the energy objective at link-0 uplinks of
18.88, 100 and 300 Mbps (radio powers re-evaluated at each) are stored in
``metadata.tiers_optimum``; for the real models the exact Pareto front at
100 Mbps in ``metadata.pareto``. ``tiers_energy.json`` is ResNet-18 with
the energy objective. tests/partition/test_tiers_instances.py proves every
stored figure again.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import solvers  # noqa: E402
from formulations import load  # noqa: E402
from formulations.partition.radio import PRESETS, SOURCE  # noqa: E402
from formulations.partition.tiers import EnergyModel, Link, TierLayer, TieredPartitionProblem  # noqa: E402

TIERS = ("phone", "edge", "cloud")
MODELS = ("resnet18", "vgg16", "googlenet", "synthetic_700")
WITH_FRONT = ("resnet18", "vgg16", "googlenet")
#: Link-0 (Wi-Fi) uplinks at which optima are stored (Mbps).
UPLINKS_MBPS = (18.88, 100.0, 300.0)
DEFAULT_UPLINK_MBPS = 100.0
WIFI_RTT_MS, WAN_MBPS, WAN_RTT_MS = 5.0, 1000.0, 30.0
EDGE_OVERHEAD_MS, CLOUD_OVERHEAD_MS = 0.030, 0.010
EDGE_TO_CLOUD = (1280.0 * 0.4) / (19500.0 * 0.5)
#: The phone's radio (a preset of formulations.partition.radio) and the assumed compute power (W).
RADIO = "wifi"
COMPUTE_W = 3.0
#: The worked example over LTE: link 0 uplink, downlink (Mbps), RTT (ms).
LTE_LINK = (3.0, 13.0, 40.0)

POWER = {
    "source": SOURCE,
    "radio": (
        "wifi preset: tx_w = (283.17 mW/Mbps * min(uplink_mbps, 10) + 132.86 mW) / 1000, "
        "rx_w = (137.01 mW/Mbps * min(downlink_mbps, 15) + 132.86 mW) / 1000 (saturated beyond the measured range), "
        "idle_w = 119.3 mW tail base, promotion 124.4 mW x 79.1 ms + tail 119.3 mW x 238.1 ms once per offload"
    ),
    "compute_w": "3.0 W: an assumption (4 big Cortex-A78 cores busy), not a measurement",
}


def energy_model() -> EnergyModel:
    """The phone's compute power; the radio powers follow from ``RADIO`` at the link's rates."""
    return EnergyModel(compute_w=COMPUTE_W, tx_w=0.0, rx_w=0.0, idle_w=0.0)


def links(uplink_mbps: float) -> list[Link]:
    return [Link(uplink_mbps, uplink_mbps, WIFI_RTT_MS), Link(WAN_MBPS, WAN_MBPS, WAN_RTT_MS)]


def at_uplink(problem: TieredPartitionProblem, uplink_mbps: float, objective) -> TieredPartitionProblem:
    """The instance with Wi-Fi at ``uplink_mbps`` (radio powers re-evaluated) and ``objective``."""
    return problem.replace(links=links(uplink_mbps), objective=objective)


def three_tier(name: str) -> TieredPartitionProblem:
    base = load(HERE / f"{name}.json")
    layers = []
    for layer in base.layers:
        edge = float(layer.server_ms)
        cloud = 0.0 if edge == 0 else round(CLOUD_OVERHEAD_MS + (edge - EDGE_OVERHEAD_MS) * EDGE_TO_CLOUD, 9)
        layers.append(TierLayer(layer.name, (float(layer.device_ms), edge, cloud), int(layer.output_bytes),
                                flops=layer.flops, op=layer.op))
    meta = {
        "source": f"instances/partition/{name}.json made 3-tier by instances/partition/make_tiers.py",
        "units": {"ms": "ms per tier (phone, edge, cloud)", "output_bytes": "bytes", "energy": "W", "optima": "ms, mJ"},
        "tiers": {
            "phone": base.metadata.get("device_profile"),
            "edge": base.metadata.get("server_profile"),
            "cloud": "datacentre-gpu roofline profile (A100 SXM4, formulations/data/device_profiles.json): "
                     "cloud_ms = 0.010 + (edge_ms - 0.030) * 512 / 9750 for layers with a cost",
        },
        "links": {"0": "Wi-Fi phone-edge, RTT 5 ms (assumed)", "1": "wired WAN edge-cloud, 1000 Mbps, RTT 30 ms (assumed)"},
        "power": POWER,
    }
    return TieredPartitionProblem(
        TIERS, layers, base.edges, links(DEFAULT_UPLINK_MBPS), energy=energy_model(), radio=RADIO,
        metadata=meta, name=f"{name}_3tier",
    )


def point(problem, assignment) -> dict:
    value = problem.evaluate(assignment)
    counts = [len(assignment[t]) for t in problem.tiers]
    return {"latency_ms": value.latency_ms, "energy_mj": value.energy_mj, "layers_per_tier": counts}


def optima(problem) -> dict:
    """Optimal latency and energy points at each link-0 uplink (mincut, checked by ilp below 100 layers)."""
    out = {}
    for mbps in UPLINKS_MBPS:
        entry = {}
        for objective in ("latency", "energy"):
            inst = at_uplink(problem, mbps, objective)
            sol = solvers.solve(inst, method="mincut")
            assert sol.status.value == "optimal", sol.message
            if inst.n_layers < 100:
                check = solvers.solve(inst, method="ilp")
                assert abs(check.objective - sol.objective) <= 1e-6 * max(1.0, sol.objective), (check, sol)
            entry[objective] = point(inst, sol.assignment)
        out[str(mbps)] = entry
    return out


def front(problem) -> list:
    inst = at_uplink(problem, DEFAULT_UPLINK_MBPS, problem.objective)
    return [
        [s.details["latency_ms"], s.details["energy_mj"], s.details["layers_per_tier"], s.details["supported"]]
        for s in solvers.pareto(inst)
    ]


def write(problem, path: Path) -> None:
    path.write_text(json.dumps(problem.to_dict(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)}")


def worked_example_lte() -> TieredPartitionProblem:
    """The hand-made worked example over LTE (promotion + tail energy once per offloaded inference)."""
    base = load(HERE / "tiers" / "worked_example.json")
    up, down, rtt = LTE_LINK
    meta = {
        "source": "instances/partition/tiers/worked_example.json over LTE, by instances/partition/make_tiers.py",
        "units": {"ms": "ms", "output_bytes": "bytes", "energy": "W"},
        "radio": f"lte preset ({SOURCE}); link 0: {up} Mbps up (assumed, cell edge), {down} Mbps down "
                 f"(median LTE downlink of Huang et al.'s 4GTest users), RTT {rtt} ms (assumed)",
    }
    return base.replace(links=(Link(up, down, rtt), *base.links[1:]), energy=energy_model(), radio="lte",
                        metadata=meta, name="worked_example_lte")


def main() -> int:
    (HERE / "tiers").mkdir(exist_ok=True)
    write(worked_example_lte(), HERE / "tiers" / "worked_example_lte.json")
    for name in MODELS:
        problem = three_tier(name)
        meta = dict(problem.metadata)
        meta["tiers_optimum"] = optima(problem)
        if name in WITH_FRONT:
            meta["pareto"] = front(problem)
        write(problem.replace(metadata=meta), HERE / "tiers" / f"{name}_3tier.json")
        if name == "resnet18":
            energy = problem.replace(objective="energy", name="tiers_energy")
            meta = dict(meta, source=meta["source"] + "; objective: the phone's energy")
            meta["pareto"] = front(energy)
            write(energy.replace(metadata=meta), HERE / "tiers_energy.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
