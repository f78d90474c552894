"""Make the shipped placement instances: ``python instances/placement/make_instances.py``.

Device figures are assumptions from vendors' public specifications (peak
FP16 GFLOP/s, memory bandwidth in GB/s, memory left for the model in MB),
rounded; a user's own measured ``ms`` per layer override the roofline.

- ``llama8b_home``: Llama-3-8B shapes (32 blocks, FP16, 16.1 GB) on a home
  cluster: a phone (the source), a laptop, a mini PC and a desktop GPU with
  12 GB; Wi-Fi 300 Mbps / 2 ms, the desktop and the mini PC on 1 Gbit/s
  Ethernet (0.5 ms). Context 4096 tokens.
- ``llama70b_8dev``: Llama-3-70B shapes (80 blocks, 4-bit weights, 35 GB) on
  eight devices (two 24 GB desktop GPUs, two 32 GB laptops, two 16 GB mini
  PCs, a 64 GB Jetson AGX Orin, a phone). Context 4096 tokens.
- ``resnet18_jetsons``: ResNet-18's chain of blocks between cut vertices
  (``instances/partition/resnet18.json``, FLOPs per layer) on three
  Jetson-class boards (Nano with the camera, Xavier NX, Orin Nano), 100 Mbps
  Wi-Fi / 3 ms; weights not counted (the partition instance has no weight
  sizes), so the roofline is compute-bound.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import formulations  # noqa: E402
from formulations.placement import Device, PlacementProblem, decoder, from_partition  # noqa: E402

SOURCE = "assumed device figures from vendors' public specifications (peak FP16, memory bandwidth), rounded"


def llama8b_home() -> PlacementProblem:
    devices = [Device("phone0", 2000.0, 60.0, 6000.0), Device("laptop1", 3500.0, 100.0, 12000.0),
               Device("minipc", 1000.0, 80.0, 24000.0), Device("desktop", 29000.0, 504.0, 11000.0)]
    return PlacementProblem(decoder(32, 4096, 14336, 32, 8, 128256, 2), devices, input_bytes=4,
                            default_link=(300.0, 2.0), links={(2, 3): (1000.0, 0.5)}, source="phone0",
                            context_tokens=4096, name="llama8b_home",
                            metadata={"source": SOURCE, "model": "Llama-3-8B shapes, FP16 (no weights)"})


def llama70b_8dev() -> PlacementProblem:
    devices = [Device("desktop_a", 35000.0, 936.0, 23000.0), Device("desktop_b", 35000.0, 936.0, 23000.0),
               Device("laptop_a", 6800.0, 200.0, 24000.0), Device("laptop_b", 6800.0, 200.0, 24000.0),
               Device("minipc_a", 1000.0, 80.0, 12000.0), Device("minipc_b", 1000.0, 80.0, 12000.0),
               Device("orin", 5300.0, 204.8, 48000.0), Device("phone", 2000.0, 60.0, 8000.0)]
    return PlacementProblem(decoder(80, 8192, 28672, 64, 8, 128256, 0.5), devices, input_bytes=4,
                            default_link=(300.0, 2.0), links={(0, 1): (10000.0, 0.2)}, source="phone",
                            context_tokens=4096, name="llama70b_8dev",
                            metadata={"source": SOURCE, "model": "Llama-3-70B shapes, 4-bit weights (no weights)"})


def resnet18_jetsons() -> PlacementProblem:
    partition = formulations.load(ROOT / "instances" / "partition" / "resnet18.json")
    layers = [type(layer)(layer.name, layer.gflop, layer.weight_mb, layer.output_bytes, 0.0, {})
              for layer in from_partition(partition)]
    devices = [Device("nano", 472.0, 25.6, 3000.0), Device("xavier_nx", 1690.0, 51.2, 6000.0),
               Device("orin_nano", 5000.0, 68.0, 6000.0)]
    return PlacementProblem(layers, devices, input_bytes=int(partition.output_bytes[0]), default_link=(100.0, 3.0),
                            source="nano", name="resnet18_jetsons",
                            metadata={"source": SOURCE, "model": "ResNet-18 blocks between cut vertices, FLOPs only"})


def main() -> None:
    for make in (llama8b_home, llama70b_8dev, resnet18_jetsons):
        problem = make()
        path = HERE / f"{problem.name}.json"
        path.write_text(json.dumps(problem.to_dict(), indent=1) + "\n")
        print(f"wrote {path.name}: {problem.n_layers} layers, {problem.n_devices} devices")


if __name__ == "__main__":
    main()
