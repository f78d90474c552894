"""Regenerate the real-architecture partition instances (ResNet-18, GoogLeNet, VGG-16).

Usage::

    python instances/partition/make_real.py            # writes resnet18.json etc. here
    python instances/partition/make_real.py --check    # only print FLOP totals

Each layer's FLOPs and output tensor size are computed analytically from the
published architecture (input 1x3x224x224, float32), without torch. One layer
per fused group: conv + batch-norm (+ ReLU) is one ``conv`` layer; a ResNet
``add`` includes its ReLU; pools, fully connected layers, concats and the
input are one layer each; dropout, LRN and softmax are omitted (negligible
cost, no change of tensor). Costs come from the roofline model of
``formulations.partition.importers.profiles`` with the ``phone-cpu`` (device) and
``edge-gpu`` (server) profiles of ``formulations/data/device_profiles.json``
(figures and sources are copied into each file's ``metadata``).

The proven optimum at the 3G / LTE / Wi-Fi / 100 Mbps uplinks is computed by
``qdmp``, ``mincut`` and ``ilp``, checked to agree, and stored in
``metadata.optimum`` keyed by uplink (Mbps, as a string), in ms.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import solvers
from formulations.partition.generators import ROOFLINE_DOC, GraphBuilder
from formulations.partition import Network

HERE = Path(__file__).resolve().parent
#: 3G, LTE, Wi-Fi, 100 Mbps uplinks (Mbps), as in the QDMP / DADS evaluations.
UPLINKS_MBPS = (1.1, 5.85, 18.88, 100.0)
DEFAULT_UPLINK_MBPS = 5.85
#: Roofline profiles (formulations/data/device_profiles.json) of the two sides.
DEVICE, SERVER = "phone-cpu", "edge-gpu"


def _conv_side(side: int, k: int, stride: int, pad: int) -> int:
    return (side + 2 * pad - k) // stride + 1


class Net:
    """A thin shape-tracking layer on :class:`GraphBuilder` (square tensors)."""

    def __init__(self, side: int = 224):
        self.g = GraphBuilder()
        self.x = self.g.add("input", "input", [], 3, side)

    def conv(self, name, x, cout, k, stride=1, pad=None, groups=1):
        pad = k // 2 if pad is None else pad
        side = _conv_side(self.g.sides[x], k, stride, pad)
        return self.g.add(name, "conv", [x], cout, side, k=k, groups=groups)

    def pool(self, name, x, k, stride, pad=0, ceil=False):
        s = self.g.sides[x]
        side = (math.ceil if ceil else math.floor)((s + 2 * pad - k) / stride) + 1
        return self.g.add(name, "pool", [x], self.g.channels[x], side, k=k)

    def global_pool(self, name, x):
        return self.g.add(name, "pool", [x], self.g.channels[x], 1, k=self.g.sides[x])

    def fc(self, name, x, cout):
        return self.g.add(name, "fc", [x], cout, 1, k=self.g.sides[x])

    def add(self, name, a, b):
        return self.g.add(name, "add", [a, b], self.g.channels[a], self.g.sides[a])

    def concat(self, name, xs):
        return self.g.add(name, "concat", xs, sum(self.g.channels[u] for u in xs), self.g.sides[xs[0]])


def resnet18() -> Net:
    """ResNet-18 (He et al. 2016, Table 1; torchvision layout)."""
    n = Net()
    x = n.conv("conv1", n.x, 64, 7, stride=2, pad=3)
    x = n.pool("maxpool", x, 3, 2, pad=1)
    for stage, (width, stride) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)], start=1):
        for block in range(2):
            tag = f"layer{stage}.{block}"
            s = stride if block == 0 else 1
            y = n.conv(f"{tag}.conv1", x, width, 3, stride=s)
            y = n.conv(f"{tag}.conv2", y, width, 3)
            if s != 1 or n.g.channels[x] != width:
                x = n.conv(f"{tag}.downsample", x, width, 1, stride=s, pad=0)
            x = n.add(f"{tag}.add", y, x)
    x = n.global_pool("avgpool", x)
    n.fc("fc", x, 1000)
    return n


#: GoogLeNet inception modules (Szegedy et al. 2015, Table 1):
#: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
_INCEPTION = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


def googlenet() -> Net:
    """GoogLeNet / Inception v1 (Szegedy et al. 2015, Table 1, with 5x5 branches)."""
    n = Net()
    x = n.conv("conv1", n.x, 64, 7, stride=2, pad=3)
    x = n.pool("pool1", x, 3, 2, ceil=True)
    x = n.conv("conv2_reduce", x, 64, 1)
    x = n.conv("conv2", x, 192, 3)
    x = n.pool("pool2", x, 3, 2, ceil=True)
    for tag, (c1, r3, c3, r5, c5, pp) in _INCEPTION.items():
        if tag in ("4a", "5a"):
            x = n.pool(f"pool_{tag[0]}", x, 3, 2, ceil=True)
        b1 = n.conv(f"inception_{tag}.1x1", x, c1, 1)
        b3 = n.conv(f"inception_{tag}.3x3", n.conv(f"inception_{tag}.3x3_reduce", x, r3, 1), c3, 3)
        b5 = n.conv(f"inception_{tag}.5x5", n.conv(f"inception_{tag}.5x5_reduce", x, r5, 1), c5, 5)
        bp = n.conv(f"inception_{tag}.pool_proj", n.pool(f"inception_{tag}.pool", x, 3, 1, pad=1), pp, 1)
        x = n.concat(f"inception_{tag}.concat", [b1, b3, b5, bp])
    x = n.global_pool("avgpool", x)
    n.fc("fc", x, 1000)
    return n


def vgg16() -> Net:
    """VGG-16, configuration D (Simonyan & Zisserman 2015, Table 1)."""
    n = Net()
    x = n.x
    for block, (width, convs) in enumerate([(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)], start=1):
        for i in range(1, convs + 1):
            x = n.conv(f"conv{block}_{i}", x, width, 3)
        x = n.pool(f"pool{block}", x, 2, 2)
    x = n.fc("fc6", x, 4096)
    x = n.fc("fc7", x, 4096)
    n.fc("fc8", x, 1000)
    return n


#: name -> (builder, published multiply-accumulates, citation)
ARCHITECTURES = {
    "resnet18": (resnet18, 1.82e9, "He et al., Deep Residual Learning for Image Recognition, CVPR 2016, Table 1 (1.8e9 FLOPs = multiply-adds); torchvision: 1.81 GFLOPS"),
    "googlenet": (googlenet, 1.5e9, "Szegedy et al., Going Deeper with Convolutions, CVPR 2015, Table 1 / Sec. 5 (1.5 billion multiply-adds)"),
    "vgg16": (vgg16, 15.47e9, "Simonyan & Zisserman, Very Deep Convolutional Networks, ICLR 2015, config D; torchvision: 15.47 GFLOPS (multiply-adds)"),
}


def exact_optimum(problem) -> dict:
    """The proven optimum of ``problem``; ``qdmp``, ``mincut`` and ``ilp`` must agree.

    Returns ``{"uplink_mbps", "latency_ms", "device", "methods"}`` (the
    format of a single ``metadata.optimum`` entry). Raises ``RuntimeError``
    if a method does not prove optimality or the values differ.
    """
    methods = ("qdmp", "mincut", "ilp")
    sols = {m: solvers.solve(problem, method=m) for m in methods}
    ref = sols["qdmp"].objective
    for method, sol in sols.items():
        if sol.status.value != "optimal":
            raise RuntimeError(f"{method} did not prove optimality: {sol.status} {sol.message}")
        if abs(sol.objective - ref) > 1e-6 * max(1.0, ref):
            raise RuntimeError(f"{method} {sol.objective} != qdmp {ref}")
    return {
        "uplink_mbps": problem.network.uplink_mbps,
        "latency_ms": ref,
        "device": sols["qdmp"].assignment["device"],
        "methods": list(methods),
    }


def store_optima(problem):
    """Write the proven optimum at every uplink of :data:`UPLINKS_MBPS` into ``metadata``."""
    optimum = {f"{mbps:g}": exact_optimum(problem.with_network(uplink_mbps=mbps)) for mbps in UPLINKS_MBPS}
    note = ("keyed by uplink_mbps (3G, LTE, Wi-Fi, 100 Mbps; downlink = uplink, rtt 0): "
            "proven optimal latency_ms and its device set; qdmp, mincut and ilp agreed")
    return problem.replace(metadata={**problem.metadata, "optimum": optimum, "optimum_note": note})


def build(name: str):
    """The PartitionProblem of architecture ``name`` with provenance and optima."""
    make, published_macs, citation = ARCHITECTURES[name]
    net = make()
    g = net.g
    conv_fc_macs = sum(m for m, op in zip(g.macs, g.ops) if op in ("conv", "fc"))
    metadata = {
        "source": f"{name}: {citation}",
        "generator": "instances/partition/make_real.py (analytic shapes, no torch)",
        "input": "1x3x224x224 float32",
        "layers": (
            "one layer per fused group: conv+batch-norm(+ReLU) = conv; add(+ReLU); pool; fc; concat; "
            "input. Dropout, LRN and softmax omitted"
        ),
        "units": {
            "device_ms": "ms",
            "server_ms": "ms",
            "output_bytes": "bytes (float32 output tensor)",
            "flops": "FLOPs (multiply-add = 2; pools and adds: 1 per element op)",
        },
        "costs": ROOFLINE_DOC,
        "macs": {
            "conv_fc_total": conv_fc_macs,
            "published": published_macs,
            "relative_difference": (conv_fc_macs - published_macs) / published_macs,
        },
    }
    problem = g.problem(
        Network(DEFAULT_UPLINK_MBPS), device=DEVICE, server=SERVER, metadata=metadata, name=name
    )
    return store_optima(problem)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only print MAC totals against the published ones")
    parser.add_argument("--out", default=str(HERE), help="output directory")
    args = parser.parse_args(argv)
    for name, (make, published, _) in ARCHITECTURES.items():
        g = make().g
        macs = sum(m for m, op in zip(g.macs, g.ops) if op in ("conv", "fc"))
        print(f"{name}: {len(g)} layers, {len(g.src)} edges, conv+fc {macs / 1e9:.3f} GMACs "
              f"(published {published / 1e9:.2f}, {100 * (macs - published) / published:+.1f}%)")
        if args.check:
            continue
        problem = build(name)
        path = Path(args.out) / f"{name}.json"
        path.write_text(json.dumps(problem.to_dict(), indent=1) + "\n")
        best = {k: round(v["latency_ms"], 3) for k, v in problem.metadata["optimum"].items()}
        print(f"  wrote {path}: optimum (ms) by uplink (Mbps) {best}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
