"""``coinfer split`` and ``coinfer bandwidth-map --export``: deployable splits of an ONNX model.

Commands
--------
coinfer split MODEL.onnx INSTANCE.json --out-dir DIR [--uplink-mbps X | --solution SOL.json]
              [--segments] [--measure] [--runs N] [--warmup N] [--threads N]
coinfer bandwidth-map FILE --export TABLE.json [--rtt-ms MS] [--downlink-mbps X]

``split`` solves the instance (or reads a ``coinfer solve --json`` file, or
with ``--segments`` takes the cut-vertex split with the lowest measured
latency) and writes ``DIR/device.onnx``, ``DIR/server.onnx`` and
``DIR/split.json``. ``--export`` writes the bandwidth map as a table a phone
app can embed (ONNX tensor names to send per bandwidth range). Registered by
:mod:`solvers.cli.partition_import`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

__all__ = ["add_commands", "cmd_split"]


def _usage(message: str):
    from .framework import UsageError

    return UsageError(message)


def _load_instance(path: str):
    import formulations

    problem = formulations.load(path)
    if problem.kind != "partition":
        raise _usage(f"{path}: split needs a partition instance made by `coinfer import`, got {problem.kind!r}")
    return problem


def cmd_split(args) -> int:
    """Split a model at the solver's (or the measured) choice and write the two parts."""
    from ..split import choose_by_segments, solution_assignment, split_onnx

    if args.solution and (args.uplink_mbps is not None or args.segments):
        raise _usage("give either --solution or --uplink-mbps/--segments, not both")
    if args.runs < 1 or args.warmup < 0 or args.threads < 1:
        raise _usage("--runs and --threads must be >= 1, --warmup >= 0")
    problem = _load_instance(args.instance)
    if args.measure:
        from formulations.partition.importers.segments import device_origin

        reason = device_origin(problem)
        if reason is not None:
            raise _usage(f"{args.instance}: --measure would time the device part on this machine and compare it "
                         f"with another device's costs: {reason}. Import the model here with measured device costs "
                         "(no --device-profile) to compare, or split without --measure")
    if args.uplink_mbps is not None:
        if args.uplink_mbps <= 0:
            raise _usage(f"--uplink-mbps must be > 0, got {args.uplink_mbps}")
        problem = problem.with_network(uplink_mbps=args.uplink_mbps)
    assignment, choice = None, None
    if args.solution:
        assignment = solution_assignment(args.solution, problem)
    elif args.segments:
        from formulations.partition.importers.segments import segment_mask
        from formulations.validate import naming_file

        with naming_file(args.instance):
            choice = choose_by_segments(problem)
        assignment = problem.assignment(segment_mask(problem, choice["segments"]))
    try:
        record = split_onnx(args.model, problem, args.out_dir, assignment=assignment, measure=args.measure,
                            runs=args.runs, warmup=args.warmup, threads=args.threads)
    except ImportError as exc:
        raise _usage(str(exc)) from None
    if choice is not None:
        record["segments_choice"] = choice
        (Path(args.out_dir) / "split.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    _report(record)
    return 0


def _report(record) -> None:
    predicted = record["predicted"]
    sent = ", ".join(f"{s['tensor']} ({s['bytes']} B)" for s in record["sent"]) or "nothing (all on the device)"
    server = (f"server.onnx: {len(record['server_layers'])} layers" if record["files"].get("server")
              else "no server.onnx (nothing is offloaded)")
    lines = [f"device.onnx: {len(record['device_layers'])} layers; {server}; sends {sent}",
             f"reproduction: max deviation {record.get('reproduction_error', float('nan')):.3g} "
             "(< 1: within rtol=atol=1e-3)"]
    choice = record.get("segments_choice")
    if choice is not None:
        lines.append(_choice_line(choice))
    measured = record.get("measured")
    device_key = "device_estimate_ms" if measured and "device_estimate_ms" in measured["measured"] else "device_ms"
    terms = [("device_compute_ms", device_key, "device_iqr_ms", "device part"),
             ("uplink_ms", "uplink_ms", None, "uplink"), ("rtt_ms", "rtt_ms", None, "RTT"),
             ("server_compute_ms", "server_ms", "server_iqr_ms_here", "server part"),
             ("downlink_ms", "downlink_ms", None, "downlink"), ("total_ms", "total_ms", "total_iqr_ms", "end to end")]
    header = f"{'term':<12} {'predicted(ms)':>14}"
    if measured:
        header += f" {'measured(ms)':>13} {'IQR(ms)':>17}  how"
    lines.append(header)
    for key, mkey, iqr_key, label in terms:
        row = f"{label:<12} {predicted[key]:>14.3f}"
        if measured:
            m = measured["measured"]
            iqr = m.get(iqr_key) if iqr_key else None
            if iqr and mkey == "server_ms":
                iqr = [q * (m["server_ratio"] or 0.0) for q in iqr]
            span = f"{iqr[0]:.3f}-{iqr[1]:.3f}" if iqr else "-"
            how = measured.get("terms", {}).get(mkey.replace("_estimate", ""), "sum of the terms").split(":")[0]
            row += f" {m[mkey]:>13.3f} {span:>17}  {how}"
        lines.append(row)
    if measured:
        m = measured["measured"]
        ratio = m["server_ratio"]
        stat = "fastest of >=" if "statistic" in m else "medians of"
        lines.append(f"measured vs predicted: {measured['error_pct']:+.1f}% ({stat} {m.get('runs', '?')} runs, "
                     f"timed on {measured.get('timed_on', 'this machine')}); server part "
                     + (f"{m.get('server_estimate_ms_here', m['server_ms_here']):.3f} ms here x speed ratio {ratio:.4g} "
                        "(server profile / this CPU)" if ratio is not None else "none"))
        if m.get("probe_ms") is not None:
            ref = m.get("probe_reference_ms")
            lines.append(f"speed probe: {m['probe_ms']:.3f} ms in the window kept ({m['window'] + 1} of "
                         f"{m['windows']}); at the calibration "
                         + (f"{ref:.3f} ms" if ref is not None else "not recorded"))
    print("\n".join(lines), file=sys.stderr)


def _choice_line(choice) -> str:
    """One line on the measured-segment choice: which, why, and the ties."""
    low, high = choice["measured_iqr_ms"]
    why = {"model": "the model's choice: no measured split is faster beyond the noise",
           "measured": "faster than the model's choice beyond the noise (IQRs separated)",
           "fastest measured": "the fastest measured split (the model's choice was not measured)"}[choice["decision"]]
    ties = ", ".join(f"{t['cut'] or str(t['device_layers']) + ' layers'} {t['measured_ms']:.3f} ms"
                     for t in choice["ties"][:5])
    more = f" (+{len(choice['ties']) - 5} more)" if len(choice["ties"]) > 5 else ""
    return (f"segments: {choice['measured_ms']:.3f} ms measured (IQR {low:.3f}-{high:.3f}), {why}"
            + (f"; ties within the noise: {ties}{more}" if ties else "; no ties"))


def cmd_bandwidth_map_export(args, fallback) -> int:
    """``bandwidth-map --export FILE``: the phone table; otherwise the usual command."""
    if not args.export:
        return fallback(args)
    import solvers

    from ..split import phone_table

    from .framework import bandwidth_map_problem, check_writable, write_output

    check_writable(args.export, "--export")
    problem = bandwidth_map_problem(args)  # --rtt-ms / --downlink-mbps applied, as for the table
    if getattr(problem, "throughput", False):
        raise _usage(f"{args.file}: --export writes latency lines for the latency objective; "
                     "a throughput instance's map is printed (or --json), not exported")
    try:
        bmap = solvers.bandwidth_map(problem, args.min, args.max, method=args.method)
    except ValueError as exc:
        raise _usage(f"{args.file}: {exc}") from None
    table = phone_table(problem, bmap)
    text = json.dumps(table, separators=(",", ":")) + "\n"
    write_output(args.export, "--export", lambda: Path(args.export).write_text(text, encoding="utf-8"))
    print(f"{args.export}: {len(table['ranges'])} bandwidth ranges, {len(text)} bytes", file=sys.stderr)
    return 0


def add_commands(subparsers) -> None:
    """Register ``split`` and add ``--export`` to ``bandwidth-map``."""
    p = subparsers.add_parser("split", help="split an ONNX model where the solver says: device.onnx + server.onnx")
    p.add_argument("model", metavar="MODEL", help="the .onnx file the instance was imported from")
    p.add_argument("instance", metavar="INSTANCE", help="the instance written by `coinfer import`")
    p.add_argument("--out-dir", required=True, metavar="DIR", help="where to write device.onnx, server.onnx, split.json")
    p.add_argument("--uplink-mbps", type=float, default=None, help="solve at this uplink (default: the instance's)")
    p.add_argument("--solution", metavar="SOL.json", default=None, help="use the split in a `coinfer solve --json` file")
    p.add_argument("--segments", action="store_true",
                   help="take the cut-vertex split with the lowest measured latency (instance imported with --segments)")
    p.add_argument("--measure", action="store_true",
                   help="run both parts here and report measured vs predicted latency")
    p.add_argument("--runs", type=int, default=20, help="timed runs per part with --measure (the fastest is the "
                   "estimate, as in the import's calibration; median and IQR kept)")
    p.add_argument("--warmup", type=int, default=3, help="untimed warm-up runs")
    p.add_argument("--threads", type=int, default=1, help="onnxruntime threads")
    p.set_defaults(func=cmd_split)

    bmap = subparsers.choices.get("bandwidth-map")
    if bmap is not None:
        bmap.add_argument("--export", metavar="FILE", default=None,
                          help="write a compact table for an app: per bandwidth range the ONNX tensors to send and "
                               "the latency line (RTT and downlink included)")
        fallback = bmap.get_default("func")
        bmap.set_defaults(func=lambda args: cmd_bandwidth_map_export(args, fallback))
