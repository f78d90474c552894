"""The nine model-zoo graphs in the onnx wheel: import, split, measured vs predicted latency.

Run ``python benchmarks/bench_onnx_zoo.py [--quick] [MODEL...]``. Writes
``benchmarks/results/onnx_zoo.md`` (and ``.json``) unless ``--quick``.

Protocol
--------
- Models: ``onnx/backend/test/data/light/light_*.onnx`` (AlexNet,
  DenseNet-121, Inception v1/v2, ResNet-50, ShuffleNet, SqueezeNet, VGG-19,
  ZFNet-512): IR-3 files whose weights are ``ConstantOfShape`` outputs.
- Each model in its own process (peak memory per model):
  ``import_onnx(runs=R, warmup=1, segments=S, realtime=True)`` with the
  default ``datacentre-gpu`` server profile; import wall time and peak RSS.
- Reproduction: a split forced interior by pins (the middle cut vertex on
  the device, its successors on the server) is written with
  ``solvers.split.split_onnx`` and the composition is compared with the whole
  model on random inputs (``reproduction_error`` < 1: within rtol = atol =
  1e-3).
- At 1.1 / 5.85 / 18.88 / 100 Mbps: the additive optimum
  (``solvers.partition``) is split and measured
  (:func:`formulations.partition.importers.segments.measure_split`: device part and
  server part run here with all optimizations, the server part scaled by the
  profile's speed ratio); the measured-segment choice
  (``solvers.split.choose_by_segments``) is the split with the lowest
  measured latency among the cut-vertex splits and the additive optimum of
  every bandwidth range (``solvers.split.additive_candidates``), timed at import. Both measured the same way, so "gain" is
  (measured additive choice - measured segment choice) / measured additive choice.
- ``--server-profile NAME``, ``--input-dtype uint8`` and ``--device-costs
  additive|calibrated`` change the instance as for ``coinfer import``;
  ``--tag`` suffixes the result files. The "additive choice" is the model's
  optimum with the instance's costs: calibrated by default since issue 22;
  the recorded ``results/onnx_zoo*.md`` tables predate it (additive).
- ``--quick``: SqueezeNet only, 2 runs, 4 segments.

:func:`one` takes any ONNX file (``path``) and :func:`run_models` runs a list
of them, one process each; ``bench_onnx_suite.py`` uses both for the suite's
torchvision exports. Every split measured at a bandwidth is also checked for
reproduction (``reproduction_error`` of each choice).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

MODELS = ["bvlc_alexnet", "densenet121", "inception_v1", "inception_v2", "resnet50", "shufflenet", "squeezenet",
          "vgg19", "zfnet512"]
MBPS = (1.1, 5.85, 18.88, 100.0)


def zoo_path(name: str) -> Path:
    import onnx

    return Path(onnx.__file__).parent / "backend" / "test" / "data" / "light" / f"light_{name}.onnx"


def _pinned_interior(problem):
    from formulations.partition import PartitionProblem

    cuts = problem.cut_vertices
    middle = cuts[len(cuts) // 2]
    successors = sorted({v for u, v in problem.edges if u == middle})
    return PartitionProblem(problem.layers, problem.edges, problem.network,
                            pinned={"device": [middle], "server": successors}, metadata=problem.metadata,
                            name=problem.name), middle


def _measured_total(parts: dict, problem) -> float:
    """A measured split's end-to-end ms on ``problem``'s network (compute parts reused)."""
    b = problem.breakdown(parts["mask"])
    return parts["device_ms"] + parts["server_ms"] + b["uplink_ms"] + b["downlink_ms"] + b["rtt_ms"]


def one(name: str, runs: int, segments: int, tmp: Path, server_profile: str = "datacentre-gpu",
        input_dtype: str | None = None, path: Path | None = None, device_costs: str = "calibrated") -> dict:
    """Import, reproduce and measure one model (run in a child process).

    ``path`` is the ONNX file (default: the zoo model ``name``). Cost: the
    import (per-node profile, whole model, ``segments`` timed cut vertices),
    then per distinct split of the four bandwidths one reproduction check and
    ``runs + 1`` runs of each part.
    """
    import numpy as np

    import solvers
    from formulations.partition.importers.onnx import import_onnx
    from formulations.partition.importers.onnx_split import (device_tensors, instance_tensors, load_for_split,
                                                             max_split_error, split_model)
    from formulations.partition.importers.profiling import make_feeds
    from formulations.partition.importers.segments import measure_split, segment_mask
    from solvers.split import additive_candidates, choose_by_segments, split_onnx

    path = Path(path) if path is not None else zoo_path(name)
    start = time.perf_counter()
    problem = import_onnx(path, runs=runs, warmup=1, segments=segments, realtime=True,
                          segment_candidates=additive_candidates, server_profile=server_profile,
                          input_dtype=input_dtype, device_costs=device_costs)
    row = {"model": name, "import_s": time.perf_counter() - start, "layers": problem.n_layers,
           "cut_vertices": len(problem.cut_vertices), "costs": problem.metadata["device_costs"]["model"],
           "latency": problem.metadata.get("latency", {}), "segments": len(problem.metadata.get("segments", []))}
    pinned, middle = _pinned_interior(problem)
    record = split_onnx(path, pinned, tmp / name)
    row["interior"] = {"cut": middle, "sent": record["sent"], "reproduction_error": record["reproduction_error"],
                       "device_layers": len(record["device_layers"])}
    shapes = problem.metadata["import"]["input_shapes"]
    model = load_for_split(path, shapes, tensors=instance_tensors(problem),
                           optimize=problem.metadata["import"]["optimize"])
    feeds = make_feeds(shapes, {k: np.float32 for k in shapes}, seed=1)
    cache: dict[bytes, dict] = {}
    row["bandwidths"] = []
    for mbps in MBPS:
        net_problem = problem.with_network(uplink_mbps=mbps)
        choice = choose_by_segments(net_problem)
        entries = {}
        for label, mask in (("additive", net_problem.device_mask(solvers.partition(net_problem).assignment)),
                            ("segments", segment_mask(net_problem, choice["segments"]))):
            key = np.packbits(mask).tobytes()
            if key not in cache:
                split = split_model(model, device_tensors(problem, mask))
                result = measure_split(net_problem, mask, split, feeds, runs=runs, warmup=1)
                cache[key] = {"mask": mask, "device_ms": result["measured"]["device_ms"],
                              "server_ms": result["measured"]["server_ms"],
                              "reproduction_error": max_split_error(model, split, feeds)}
            entries[label] = {"device_layers": int(mask.sum()),
                              "predicted_ms": net_problem.breakdown(mask)["total_ms"],
                              "measured_ms": _measured_total(cache[key], net_problem),
                              "reproduction_error": cache[key]["reproduction_error"]}
        row["bandwidths"].append({"mbps": mbps, **entries})
    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


def table(rows: list[dict]) -> str:
    """Markdown: the import table and the predicted-vs-measured table."""
    out = ["| Model | Layers | Cut vertices | Import (s) | Peak RSS (MB) | Whole, all opt. (ms) | Sum of layers (ms) "
           "| Interior split: sent | Reproduction error |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lat, inner = r["latency"], r["interior"]
        out.append(f"| {r['model']} | {r['layers']} | {r['cut_vertices']} | {r['import_s']:.1f} | "
                   f"{r['peak_rss_mb']:.0f} | {lat.get('whole_model_ms_all_opt', float('nan')):.2f} | "
                   f"{lat.get('sum_of_layers_ms', float('nan')):.2f} | "
                   f"{', '.join(s['tensor'] for s in inner['sent'])} | {inner['reproduction_error']:.2g} |")
    out += ["", "| Model | Mbps | Additive choice (device layers) | Predicted (ms) | Measured (ms) | Error "
            "| Segment choice (device layers) | Its prediction (ms) | Measured (ms) | Gain vs additive choice |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        for b in r["bandwidths"]:
            a, s = b["additive"], b["segments"]
            gain = (a["measured_ms"] - s["measured_ms"]) / a["measured_ms"]
            out.append(f"| {r['model']} | {b['mbps']:g} | {a['device_layers']}/{r['layers']} | {a['predicted_ms']:.2f} "
                       f"| {a['measured_ms']:.2f} | {100 * (a['measured_ms'] / a['predicted_ms'] - 1):+.1f}% | "
                       f"{s['device_layers']}/{r['layers']} | {s['predicted_ms']:.2f} | {s['measured_ms']:.2f} | "
                       f"{'same split' if a['device_layers'] == s['device_layers'] else f'{100 * gain:+.1f}%'} |")
    return "\n".join(out) + "\n"


def run_models(models: list[tuple[str, Path | None]], runs: int, segments: int,
               server_profile: str = "datacentre-gpu", input_dtype: str | None = None,
               device_costs: str = "calibrated") -> list[dict]:
    """Run :func:`one` for each ``(name, path)`` in its own process; the rows of those that succeed.

    ``path`` None means the zoo model ``name``. A failing model is reported
    on stderr (its last error line) and left out.
    """
    import tempfile

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in models:
            cmd = [sys.executable, __file__, "--one", name, "--runs", str(runs), "--segments", str(segments),
                   "--tmp", tmp, "--server-profile", server_profile, "--device-costs", device_costs]
            cmd += ["--input-dtype", input_dtype] if input_dtype else []
            cmd += ["--path", str(path)] if path is not None else []
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"{name}: failed: {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
                continue
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(f"{name}: {rows[-1]['import_s']:.1f} s", file=sys.stderr)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--segments", type=int, default=0, help="max cut vertices timed (0: all)")
    parser.add_argument("--server-profile", default="datacentre-gpu")
    parser.add_argument("--input-dtype", default=None)
    parser.add_argument("--device-costs", default="calibrated", choices=("calibrated", "additive"),
                        help="the import's device costs (the recorded tables predate calibration: additive)")
    parser.add_argument("--tag", default="", help="suffix of the result files")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--path", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--tmp", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.one, args.runs, args.segments or True, Path(args.tmp), args.server_profile,
                             args.input_dtype, args.path, args.device_costs)))
        return 0
    names = ["squeezenet"] if args.quick else (args.models or MODELS)
    runs, segments = (2, 4) if args.quick else (args.runs, args.segments)
    rows = run_models([(name, None) for name in names], runs, segments, args.server_profile, args.input_dtype,
                      args.device_costs)
    text = table(rows)
    print(text)
    if not args.quick:
        suffix = args.tag
        (HERE / "results" / f"onnx_zoo{suffix}.md").write_text(text, encoding="utf-8")
        (HERE / "results" / f"onnx_zoo{suffix}.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
