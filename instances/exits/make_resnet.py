"""Exit instances with ResNet-18 stage costs and synthetic sample data (1, 2, 3 nodes).

Block costs come from ResNet-18's published per-stage multiply-accumulates
(ImageNet, 224x224 input; He et al. 2016 architecture, counted layer by
layer) divided by an assumed effective throughput per node; output sizes
are the stages' float32 tensors. Exit heads are a 1x1 conv to 128 channels,
global pooling and FC(1000) (the final head: pooling and FC(512 -> 1000)).

==========  ===========  ==================  ===========================
block       MMACs        output (C x H x W)  output bytes (float32)
==========  ===========  ==================  ===========================
stem        118.0        64 x 56 x 56        802,816
layer1      462.4        64 x 56 x 56        802,816
layer2      411.0        128 x 28 x 28       401,408
layer3      411.0        256 x 14 x 14       200,704
layer4      411.0        512 x 7 x 7         100,352
==========  ===========  ==================  ===========================

Node throughputs (assumed, GMAC/s): device 10 (mobile CPU), edge 200
(embedded GPU), cloud 2000 (server GPU). Links: device-edge Wi-Fi 18.88 Mbps
(Neurosurgeon's figure), 2 ms per traversal; edge-cloud 50 Mbps, 10 ms.

Samples are synthetic (seed 2026): each sample has a difficulty; the
confidence at exit ``e`` rises with depth (a noisy logistic of depth minus
difficulty, rounded to 0.01), correctness is Bernoulli with a probability
rising with confidence, and with probability 0.06 a sample "overthinks":
its deepest correct exit is followed by wrong ones. ``resnet18_3node_fixed``
uses the running maximum of the confidences (never falling with depth) and
fixed thresholds that never rise with depth: nested exit sets, where the
``dp`` method is exact (LEIME-style exit setting with given thresholds).

Run ``python instances/exits/make_resnet.py`` to regenerate (numpy only).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
STAGES = [("stem", 118.0, 802816), ("layer1", 462.4, 802816), ("layer2", 411.0, 401408),
          ("layer3", 411.0, 200704), ("layer4", 411.0, 100352)]
#: exit name, block it follows, head MMACs (1x1 conv C->128 on H x W + FC(128->1000); final: FC(512->1000))
EXITS = [("exit1", "layer1", 64 * 128 * 56 * 56 / 1e6 + 0.128), ("exit2", "layer2", 128 * 128 * 28 * 28 / 1e6 + 0.128),
         ("exit3", "layer3", 256 * 128 * 14 * 14 / 1e6 + 0.128), ("final", "layer4", 0.512)]
GMACS = {"device": 10.0, "edge": 200.0, "cloud": 2000.0}
LINKS = [{"mbps": 18.88, "rtt_ms": 2.0}, {"mbps": 50.0, "rtt_ms": 10.0}]
SAMPLES_FILE = "resnet18_synthetic_samples.npz"
#: the same samples with confidence made nondecreasing with depth (running maximum)
MONOTONE_FILE = "resnet18_synthetic_monotone.npz"


def synthetic_samples(n: int, n_exits: int, seed: int = 2026, overthink: float = 0.06):
    """Confidence (n, E) rising with depth and 0/1 correctness, with overthinking."""
    rng = np.random.default_rng(seed)
    depth = (np.arange(n_exits) + 1) / n_exits
    difficulty = rng.beta(2.0, 2.5, size=n)
    z = 6.0 * (depth[None, :] - difficulty[:, None]) + rng.normal(0, 0.8, size=(n, n_exits))
    conf = np.round(1 / (1 + np.exp(-z)), 2)
    p_correct = 0.25 + 0.72 * conf
    correct = (rng.random((n, n_exits)) < p_correct).astype(np.int8)
    over = rng.random(n) < overthink
    for s in np.nonzero(over)[0]:
        good = np.nonzero(correct[s])[0]
        if len(good):
            correct[s, good[0] + 1 :] = 0
    return conf, correct


def instance(nodes: list[str], *, objective="latency", constraints=None, fixed=None, name=None, samples=SAMPLES_FILE):
    blocks = [{"name": nm, "ms": [round(m / GMACS[n], 4) for n in nodes], "output_bytes": b} for nm, m, b in STAGES]
    exits = []
    for nm, after, m in EXITS:
        x = {"name": nm, "after": after, "ms": [round(m / GMACS[n], 4) for n in nodes]}
        if fixed and nm in fixed:
            x["threshold"] = fixed[nm]
        exits.append(x)
    return {
        "kind": "exits", "version": 1, "name": name, "nodes": nodes, "links": LINKS[: len(nodes) - 1],
        "input_bytes": 150528, "result_bytes": 4000, "blocks": blocks, "exits": exits,
        "samples": samples, "objective": objective, "constraints": constraints or {},
        "metadata": {
            "source": "ResNet-18 stage MACs / assumed node throughput; synthetic samples (make_resnet.py)",
            "units": {"ms": "milliseconds", "bytes": "bytes", "mbps": "megabits per second"},
            "node_gmacs": {n: GMACS[n] for n in nodes},
        },
    }


def main():
    conf, correct = synthetic_samples(1000, len(EXITS))
    np.savez_compressed(HERE / SAMPLES_FILE, confidence=conf, correct=correct)
    np.savez_compressed(HERE / MONOTONE_FILE, confidence=np.maximum.accumulate(conf, axis=1), correct=correct)
    final_acc = float(correct[:, -1].mean())
    amin = round(final_acc - 0.02, 3)
    files = {
        "resnet18_1node.json": instance(["device"], constraints={"accuracy_min": amin}, name="resnet18_1node"),
        "resnet18_2node.json": instance(["device", "edge"], constraints={"accuracy_min": amin}, name="resnet18_2node"),
        "resnet18_3node.json": instance(["device", "edge", "cloud"], constraints={"accuracy_min": amin, "max_exits": 2},
                                        name="resnet18_3node"),
        "resnet18_2node_accuracy.json": instance(["device", "edge"], objective="accuracy",
                                                 constraints={"latency_max_ms": 90.0}, name="resnet18_2node_accuracy"),
        "resnet18_3node_fixed.json": instance(["device", "edge", "cloud"], constraints={"accuracy_min": amin},
                                              fixed={"exit1": 0.9, "exit2": 0.85, "exit3": 0.8}, name="resnet18_3node_fixed",
                                              samples=MONOTONE_FILE),
    }
    for fname, data in files.items():
        (HERE / fname).write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {len(files)} instances; final-exit accuracy {final_acc:.3f}, accuracy_min {amin}")


if __name__ == "__main__":
    main()
