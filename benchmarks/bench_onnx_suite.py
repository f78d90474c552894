"""The suite's torchvision models as ONNX files: import, split, measured vs predicted latency.

Two steps, in two environments (torch is only needed to export)::

    # 1. in an environment with torch and torchvision (not the main venv):
    python benchmarks/bench_onnx_suite.py --export DIR [NAME...]
    # 2. in the main venv (onnx, onnxruntime):
    python benchmarks/bench_onnx_suite.py --files DIR/*.onnx [--runs 5] [--segments 0]

Step 2 writes ``benchmarks/results/onnx_suite.md`` (and ``.json``) unless
``--quick``.

Protocol
--------
The model-zoo benchmark's (:mod:`bench_onnx_zoo`, whose functions this
script runs: :func:`bench_onnx_zoo.run_models`, one process per model), on
any ONNX files:

- Export: torchvision architectures with random weights (``weights=None``,
  ``torch.manual_seed(0)``, no download) through
  :func:`formulations.partition.importers.torchfx.export_onnx` (TorchScript
  exporter, opset 17, static input ``1x3x224x224``), as ``coinfer import
  torchvision:NAME`` and ``instances/partition/suite/make_suite.py`` do.
- Import measured with onnxruntime (``runs`` timed runs after 1 warm-up,
  real-time priority when permitted, ``--segments`` cut vertices plus the
  additive optimum of every bandwidth range timed as real device and
  server parts), default ``datacentre-gpu`` server profile.
- At 1.1 / 5.85 / 18.88 / 100 Mbps: the additive optimum
  (``solvers.partition``) and the measured-segment choice
  (``solvers.split.choose_by_segments``) are split and both parts measured
  here (server part scaled by the profile's speed ratio); error = measured /
  predicted - 1; gain = (measured additive - measured segment choice) /
  measured additive.
- Reproduction: every split measured, and an interior split forced by pins,
  is run as ``server(device(x))`` and compared with the whole model on
  random inputs; the largest deviation in units of rtol = atol = 1e-3
  (below 1: reproduced).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_onnx_zoo import run_models, table  # noqa: E402

#: suite models exported by default (``instances/partition/suite``), cheapest first.
SUITE = ["squeezenet1_1", "shufflenet_v2_x1_0", "mobilenet_v2", "mobilenet_v3_large", "regnet_y_400mf",
         "efficientnet_b0", "googlenet", "resnet50"]


def export(out_dir: Path, names: list[str]) -> list[Path]:
    """Export torchvision ``names`` (random weights, seed 0) to ``out_dir/NAME.onnx``; needs torch."""
    import torch

    from formulations.partition.importers.torchfx import default_input_shape, export_onnx, torchvision_model

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        torch.manual_seed(0)
        path = out_dir / f"{name}.onnx"
        export_onnx(torchvision_model(name), path, default_input_shape(name))
        print(f"{path}: {path.stat().st_size / 1e6:.1f} MB", file=sys.stderr)
        paths.append(path)
    return paths


def compact_table(rows: list[dict]) -> str:
    """Markdown, one row per model and bandwidth: additive choice predicted / measured, segment choice measured.

    The reproduction column is the largest deviation (units of rtol = atol =
    1e-3) over the splits measured at that bandwidth and the forced interior
    split.
    """
    out = ["| Model | Mbps | Additive choice: device layers | Predicted (ms) | Measured (ms) | Error "
           "| Segment choice: device layers | Measured (ms) | Gain | Reproduction |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        for entry in row["bandwidths"]:
            additive, chosen = entry["additive"], entry["segments"]
            error_pct = 100 * (additive["measured_ms"] / additive["predicted_ms"] - 1)
            gain_pct = 100 * (additive["measured_ms"] - chosen["measured_ms"]) / additive["measured_ms"]
            same = all(additive[key] == chosen[key] for key in ("device_layers", "measured_ms"))  # one cached split
            worst = max(additive["reproduction_error"], chosen["reproduction_error"],
                        row["interior"]["reproduction_error"])
            out.append(f"| {row['model']} | {entry['mbps']:g} | {additive['device_layers']}/{row['layers']} "
                       f"| {additive['predicted_ms']:.2f} | {additive['measured_ms']:.2f} | {error_pct:+.1f}% "
                       f"| {chosen['device_layers']}/{row['layers']} | {chosen['measured_ms']:.2f} "
                       f"| {'same split' if same else f'{gain_pct:+.1f}%'} | {worst:.2g} |")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", type=Path, default=None, metavar="DIR",
                        help="export NAMEs (default: the suite models) to DIR/NAME.onnx and stop (needs torch)")
    parser.add_argument("names", nargs="*", default=None, help="torchvision names for --export")
    parser.add_argument("--files", nargs="+", type=Path, default=[], help="ONNX files to benchmark")
    parser.add_argument("--quick", action="store_true", help="2 runs, 4 segments, write nothing")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--segments", type=int, default=0, help="max cut vertices timed (0: all)")
    parser.add_argument("--server-profile", default="datacentre-gpu")
    parser.add_argument("--tag", default="", help="suffix of the result files")
    args = parser.parse_args(argv)
    if args.export is not None:
        export(args.export, args.names or SUITE)
        return 0
    if not args.files:
        if args.quick:  # benchmarks/run.py --quick: the suite's ONNX files are exported with torch, not shipped
            print("bench_onnx_suite: skipped (no --files; export them first with --export DIR in a torch venv)",
                  file=sys.stderr)
            return 0
        parser.error("give --files PATH... (or --export DIR)")
    missing = [str(p) for p in args.files if not p.is_file()]
    if missing:
        parser.error(f"--files: no such file: {', '.join(missing)}")
    runs, segments = (2, 4) if args.quick else (args.runs, args.segments)
    rows = run_models([(path.stem, path) for path in args.files], runs, segments, args.server_profile)
    text = compact_table(rows) + "\n" + table(rows)
    print(text)
    if not args.quick:
        (HERE / "results" / f"onnx_suite{args.tag}.md").write_text(text, encoding="utf-8")
        (HERE / "results" / f"onnx_suite{args.tag}.json").write_text(json.dumps(rows, indent=1) + "\n",
                                                                       encoding="utf-8")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
