"""Predicted vs measured end-to-end latency of ``coinfer split --measure``: additive vs calibrated costs.

One command (run it on a quiet machine; ``nice -n 10`` on a shared one)::

    python benchmarks/bench_predict.py [--repeats 3] [--quick] [MODEL...]

writes ``benchmarks/results/predict_zoo{--tag}.md`` (and ``.json``) unless ``--quick``.

Protocol
--------
- Models: five model-zoo graphs of the onnx wheel
  (``onnx/backend/test/data/light/light_*.onnx``): SqueezeNet, Inception v1,
  ResNet-50, ShuffleNet, DenseNet-121; each in its own process.
- Per repeat and per cost model: the model is imported with ``coinfer
  import``'s defaults (``import_onnx(path)``: 20 runs after 3 warm-ups, one
  thread, ``datacentre-gpu`` server profile), once with ``device_costs=
  "additive"`` (per-layer medians) and once with the default
  ``"calibrated"`` (QDMP's method, :mod:`formulations.partition.importers.blocks`).
- At 0.5, 18.88 and 100 Mbps the model's optimum is split and measured as
  ``coinfer split MODEL INSTANCE --uplink-mbps X --measure`` does
  (:func:`solvers.split.split_onnx` with ``measure=True``: the device part
  and the server part timed in 20 interleaved rounds after 3 warm-ups, paced
  to span at least 3 s, each timed run after an untimed run of the same part,
  in two to four windows with the speed probe (the window kept: the first at
  full speed, ``segments._timed_parts``), the estimate their fastest run as in the
  import's calibration (:data:`formulations.partition.importers.profiling.STATISTIC`);
  the server part scaled by the profile's speed ratio, the transfers
  modelled), and so is the split with every layer on the device
  (``split.json`` ``error_pct``).
- Spread: each cell gives the median over the repeats of the predicted and
  the measured ms (``total_ms``, the estimate) with half the median IQR of
  the runs, and of ``error_pct``, with the range of ``error_pct`` over the
  repeats; every repeat re-imports (so the import's own noise is in the
  spread). The 1-minute load average is recorded at every measurement.
- ``--costs calibrated`` runs only the default cost model (``additive,calibrated``: both).
- ``--quick``: SqueezeNet only, one repeat, no result files.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

MODELS = ["squeezenet", "inception_v1", "resnet50", "shufflenet", "densenet121"]
MBPS = (0.5, 18.88, 100.0)
COSTS = ("additive", "calibrated")


def one(name: str, repeats: int, tmp: Path, costs_list=COSTS) -> dict:
    """All repeats of one model (run in a child process)."""
    import os
    import warnings

    from bench_onnx_zoo import zoo_path
    from formulations.partition.importers.onnx import import_onnx
    from solvers.split import split_onnx

    path = zoo_path(name)
    out: dict = {"model": name, "runs": []}
    for rep in range(repeats):
        for costs in costs_list:
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                problem = import_onnx(path, device_costs=costs)
            entry = {"repeat": rep, "costs": costs, "import_s": time.perf_counter() - start,
                     "layers": problem.n_layers, "blocks": len(problem.metadata["device_costs"]
                                                               .get("calibration", {}).get("blocks", [])),
                     "splits": []}
            calibration = problem.metadata["device_costs"].get("calibration", {})
            entry.update(probe_ms=calibration.get("probe_ms"), checks=calibration.get("checks"),
                         machine_probe_ms=calibration.get("machine_probe_ms"))
            cases = [(mbps, None) for mbps in MBPS] + [(MBPS[0], {"device": problem.names, "server": []})]
            for mbps, assignment in cases:
                record = split_onnx(path, problem, tmp / f"{name}_{costs}", uplink_mbps=mbps, assignment=assignment,
                                    measure=True, check=False)
                m = record["measured"]
                entry["splits"].append({"mbps": None if assignment else mbps,
                                        "device_layers": len(record["device_layers"]),
                                        "predicted_ms": record["predicted"]["total_ms"],
                                        "measured_ms": m["measured"]["total_ms"],
                                        "measured_iqr_ms": m["measured"]["total_iqr_ms"],
                                        "measured_median_ms": m["measured"].get("total_median_ms"),
                                        "load_1min": os.getloadavg()[0],
                                        "windows": m["measured"].get("windows"),
                                        "window_kept": m["measured"].get("window"),
                                        "probe_ms_by_window": m["measured"].get("probe_ms_by_window"),
                                        "probe_reference_ms": m["measured"].get("probe_reference_ms"),
                                        "error_pct": m["error_pct"]})
            out["runs"].append(entry)
            print(f"{name} {costs} repeat {rep}: import {entry['import_s']:.1f} s, errors "
                  + ", ".join(f"{s['error_pct']:+.1f}% ({s['windows']} windows, kept {s['window_kept']})"
                              for s in entry["splits"]), file=sys.stderr)
    return out


def _cell(entries: list[dict]) -> str:
    """``predicted / measured (IQR) / error median [min, max]`` over the repeats of one split case."""
    pred = statistics.median(e["predicted_ms"] for e in entries)
    meas = statistics.median(e["measured_ms"] for e in entries)
    iqr = statistics.median(e["measured_iqr_ms"][1] - e["measured_iqr_ms"][0] for e in entries)
    errors = [e["error_pct"] for e in entries]
    layers = sorted({e["device_layers"] for e in entries})
    spread = f" [{min(errors):+.1f}, {max(errors):+.1f}]" if len(errors) > 1 else ""
    return (f"{'/'.join(map(str, layers))} | {pred:.2f} | {meas:.2f} ± {iqr / 2:.2f} | "
            f"{statistics.median(errors):+.1f}%{spread}")


def table(rows: list[dict]) -> str:
    """Markdown: per model and bandwidth, each cost model's prediction against measurement."""
    costs_run = [c for c in COSTS if any(r["costs"] == c for row in rows for r in row["runs"])]
    head = "| Model | Uplink | " + " | ".join(f"{c.capitalize()}: device layers | predicted (ms) | measured (ms) | "
                                               "error" for c in costs_run) + " |"
    out = [head, "|---|---|" + "---|---|---|---|" * len(costs_run)]
    worst = {c: 0.0 for c in costs_run}
    within = {c: [0, 0, 0] for c in costs_run}  # cells with median |error| <= 15%, with every repeat, cells
    for row in rows:
        n = row["runs"][0]["layers"]
        for k, label in enumerate([f"{m:g} Mbps" for m in MBPS] + ["all on device"]):
            cells = []
            for costs in costs_run:
                entries = [r["splits"][k] for r in row["runs"] if r["costs"] == costs]
                errors = [abs(e["error_pct"]) for e in entries]
                worst[costs] = max(worst[costs], max(errors))
                within[costs][0] += statistics.median(errors) <= 15.0
                within[costs][1] += max(errors) <= 15.0
                within[costs][2] += 1
                cells.append(_cell(entries))
            out.append(f"| {row['model']} ({n} layers) | {label} | " + " | ".join(cells) + " |")
    out += ["", "Largest |error| over all splits and repeats: "
            + "; ".join(f"{c} {worst[c]:.1f}%" for c in costs_run) + "."]
    out.append("Cells within 15% (median over repeats; every repeat): "
               + "; ".join(f"{c} {w[0]}/{w[2]}; {w[1]}/{w[2]}" for c, w in within.items()) + ".")
    imports = {c: [r["import_s"] for row in rows for r in row["runs"] if r["costs"] == c] for c in costs_run}
    out.append("Import wall time, median over models and repeats: "
               + "; ".join(f"{c} {statistics.median(v):.1f} s" for c, v in imports.items() if v) + ".")
    probes = [r["probe_ms"] for row in rows for r in row["runs"] if r.get("probe_ms")]
    if probes:
        checks = [r.get("checks") or 1 for row in rows for r in row["runs"] if r.get("probe_ms")]
        windows = [e.get("windows") or 1 for row in rows for r in row["runs"] for e in r["splits"]]
        out.append(f"Speed probe at the calibrations: {min(probes):.3f}-{max(probes):.3f} ms; calibrations that "
                   f"re-checked while the machine was slow: {sum(c > 1 for c in checks)}/{len(checks)}; "
                   f"measurements that timed more than 2 windows: {sum(w > 2 for w in windows)}/{len(windows)}.")
    loads = [e["load_1min"] for row in rows for r in row["runs"] for e in r["splits"] if "load_1min" in e]
    if loads:
        out.append(f"1-minute load average at the measurements: median {statistics.median(loads):.1f}, "
                   f"range [{min(loads):.1f}, {max(loads):.1f}] (2 cores).")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--tag", default="", help="suffix of the result files")
    parser.add_argument("--costs", default=",".join(COSTS), help="cost models to compare (comma-separated)")
    parser.add_argument("--from-json", nargs="+", default=None, metavar="FILE",
                        help="render the table of saved result files (rows concatenated) instead of running")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(one(args.one, args.repeats, Path(tmp), tuple(args.costs.split(",")))))
        return 0
    if args.from_json:
        rows = [row for f in args.from_json for row in json.loads(Path(f).read_text(encoding="utf-8"))]
        print(table(sorted(rows, key=lambda r: MODELS.index(r["model"]) if r["model"] in MODELS else len(MODELS))))
        return 0
    names = ["squeezenet"] if args.quick else (args.models or MODELS)
    repeats = 1 if args.quick else args.repeats
    import os

    from formulations.partition.importers.profiling import cpu_name

    load_before = os.getloadavg()
    rows = []
    for name in names:
        proc = subprocess.run([sys.executable, __file__, "--one", name, "--repeats", str(repeats), "--costs", args.costs],
                              stdout=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            print(f"{name}: failed (exit {proc.returncode})", file=sys.stderr)
            continue
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    load_after = os.getloadavg()
    text = (f"{cpu_name()}, one onnxruntime thread, {repeats} repeat(s); 1-minute load average "
            f"{load_before[0]:.1f} at the start, {load_after[0]:.1f} at the end (2 cores: above ~1 the "
            f"machine was shared). Cells: device layers | predicted | measured ± IQR/2 | error_pct median "
            f"[min, max over repeats].\n\n" + table(rows))
    print(text)
    if not args.quick:
        (HERE / "results" / f"predict_zoo{args.tag}.md").write_text(text, encoding="utf-8")
        (HERE / "results" / f"predict_zoo{args.tag}.json").write_text(json.dumps(rows, indent=1) + "\n",
                                                                        encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
