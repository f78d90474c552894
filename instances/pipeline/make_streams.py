"""Build the co-inference stream instances of ``instances/pipeline/``.

Each task runs one of the real-architecture partition instances of
``instances/partition/`` (ResNet-18, VGG-16, GoogLeNet, with
their roofline device/server profiles), re-timed for a Wi-Fi uplink of
18.88 Mbps (Neurosurgeon's Wi-Fi figure). A task's configurations are its
cut-vertex splits times the compression levels of
``formulations.pipeline.configs.COMPRESSION_TABLE`` (5 kept per task, see
``task_configs``). Full-model accuracies: ImageNet top-1 of the torchvision
model zoo (ResNet-18 69.758%, VGG-16 71.592%, GoogLeNet 69.778%). Which model each task runs is drawn with a fixed seed.

Run from the repository root: ``python instances/pipeline/make_streams.py``.
"""

from pathlib import Path

import formulations
from formulations.pipeline.configs import stream_problem

HERE = Path(__file__).resolve().parent
PARTITION = HERE.parent / "partition"
WIFI_MBPS = 18.88
MODELS = [
    ("resnet18", "resnet18.json", 0.69758),
    ("vgg16", "vgg16.json", 0.71592),
    ("googlenet", "googlenet.json", 0.69778),
]
ACCURACY_SOURCE = "torchvision model zoo, ImageNet-1k top-1 (IMAGENET1K_V1 weights)"

#: (file name, tasks, objective, accuracy floor, interarrival ms, seed, models used)
STREAMS = [
    ("coinfer_6tasks.json", 6, "makespan", 0.68, 0.0, 1, ["resnet18", "googlenet"]),
    ("coinfer_10tasks_releases.json", 10, "makespan", 0.66, 20.0, 2, None),
    ("coinfer_rate_8tasks.json", 8, "rate", 0.67, 0.0, 3, None),
    ("coinfer_stream_50x5.json", 50, "makespan", 0.66, 0.0, 4, None),
]


def models(names=None):
    out = []
    for label, rel, acc in MODELS:
        if names is None or label in names:
            problem = formulations.load(PARTITION / rel).with_network(uplink_mbps=WIFI_MBPS)
            out.append((label, problem, acc))
    return out


def main() -> None:
    for fname, n, objective, floor, gap_ms, seed, names in STREAMS:
        problem = stream_problem(
            models(names), n, seed=seed, interarrival_ms=gap_ms, objective=objective, accuracy_min=floor,
            keep=5, name=Path(fname).stem,
            metadata={
                "source": "instances/pipeline/make_streams.py from instances/partition/ (real architectures)",
                "uplink_mbps": WIFI_MBPS,
                "accuracy_source": ACCURACY_SOURCE,
            },
        )
        formulations.save(problem, HERE / fname)
        print(f"wrote {fname}: {problem!r}")


if __name__ == "__main__":
    main()
