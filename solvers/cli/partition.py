"""``coinfer bandwidth-map``: the optimal partition as a function of uplink bandwidth;
``coinfer pareto``: the latency-energy Pareto front of a k-tier instance, or the latency-throughput
front of a partition instance (both forms; the default for a throughput instance).

coinfer bandwidth-map FILE [--min MBPS] [--max MBPS] [--method M] [--rtt-ms MS] [--downlink-mbps X] [--json]
coinfer pareto FILE [--objectives latency,energy|latency,throughput] [--time-limit S] [--max-points N] [--json]
"""

from __future__ import annotations

import json
import math
import sys

from formulations.errors import OptionError

from .framework import EXIT_INPUT, EXIT_OK, UsageError, bandwidth_map_problem, fmt_number, format_table
from formulations.partition import TieredPartitionProblem
from ..pareto_front import FRONTS

__all__ = ["add_commands", "cmd_bandwidth_map", "cmd_pareto"]


def cmd_bandwidth_map(args) -> int:
    import formulations
    import solvers

    problem = bandwidth_map_problem(args)
    try:
        bmap = solvers.bandwidth_map(problem, args.min, args.max, method=args.method)
    except OptionError as exc:
        raise UsageError(f"{args.file}: {exc}") from None
    if args.json:
        print(json.dumps(bmap.to_dict(), indent=1))
        return EXIT_OK
    if getattr(problem, "throughput", False):
        print(_stream_map_table(problem, bmap))
        return EXIT_OK
    rows = [
        {
            "lo": f"{p.min_mbps:.4g}",
            "hi": f"{p.max_mbps:.4g}",
            "dev": f"{len(p.device)}/{problem.n_layers}",
            "lat_lo": fmt_number(p.latency(p.min_mbps), 3),
            "lat_hi": fmt_number(p.latency(p.max_mbps), 3),
            "formula": f"{p.fixed_ms:.3f} + {p.per_mbps_ms:.3f}/Mbps",
        }
        for p in bmap.pieces
    ]
    cols = [
        ("lo", "From(Mbps)", ">"),
        ("hi", "To(Mbps)", ">"),
        ("dev", "Device layers", ">"),
        ("lat_lo", "Latency@from(ms)", ">"),
        ("lat_hi", "Latency@to(ms)", ">"),
        ("formula", "Latency(ms)", "<"),
    ]
    print(format_table(rows, cols))
    print(f"  pieces: {len(bmap.pieces)}  solves: {bmap.solves}  method: {bmap.method}")
    return EXIT_OK


def cmd_pareto(args) -> int:
    import formulations
    import solvers

    problem = formulations.load(args.file)
    objectives = None if args.objectives is None else tuple(args.objectives.split(","))
    if objectives is not None and objectives not in FRONTS:
        raise UsageError(f"--objectives must be one of {', '.join(','.join(f) for f in FRONTS)}, got {args.objectives}")
    stream = objectives == FRONTS[1] or (objectives is None and getattr(problem, "throughput", False))
    if not stream and (not isinstance(problem, TieredPartitionProblem) or problem.energy is None):
        raise UsageError(f"{args.file}: the latency-energy front needs a k-tier partition instance with an "
                         "`energy` model (for the latency-throughput front: --objectives latency,throughput)")
    if args.time_limit is not None and not (args.time_limit > 0 and math.isfinite(args.time_limit)):
        raise UsageError(f"--time-limit must be a number of seconds > 0, got {args.time_limit}")
    if args.max_points < 1:
        raise UsageError(f"--max-points must be >= 1, got {args.max_points}")
    try:
        front = solvers.pareto(problem, objectives=objectives, time_limit=args.time_limit,
                               max_points=args.max_points)
    except OptionError as exc:
        raise UsageError(f"{args.file}: {exc}") from None
    code = EXIT_OK
    if front.message:
        print(f"{'error' if not front.complete else 'note'}: {args.file}: {front.message}", file=sys.stderr)
    if not front.complete:  # the points listed are Pareto-optimal, but the front is cut short
        code = EXIT_INPUT
    if args.json:
        print(json.dumps([sol.to_dict() for sol in front], indent=1))  # completeness: exit code and stderr
        return code
    if stream:
        print(_stream_table(problem, front))
        return code
    rows = [
        {
            "i": str(i),
            "lat": fmt_number(sol.details["latency_ms"], 3),
            "en": fmt_number(sol.details["energy_mj"], 3),
            "tiers": "/".join(map(str, sol.details["layers_per_tier"])),
            "sup": "yes" if sol.details["supported"] else "no",
        }
        for i, sol in enumerate(front)
    ]
    cols = [
        ("i", "#", ">"),
        ("lat", "Latency(ms)", ">"),
        ("en", "Energy(mJ)", ">"),
        ("tiers", "Layers " + "/".join(problem.tiers), ">"),
        ("sup", "Supported", ">"),
    ]
    print(format_table(rows, cols))
    print(f"  points: {len(front)}  supported: {sum(s.details['supported'] for s in front)}"
          + ("" if front.complete else "  (incomplete)") + ("" if front.exact else "  (not proven: coarse scaling)"))
    return code


def _stream_map_table(problem, bmap) -> str:
    """The throughput bandwidth map as a table: per piece the split, frames/s at both ends, the period
    formula and the single-frame latency at the low end (RTT included)."""
    rows = [
        {
            "lo": f"{p.min_mbps:.4g}",
            "hi": f"{p.max_mbps:.4g}",
            "tiers": "/".join(map(str, p.layers_per_tier)),
            "fps_lo": fmt_number(p.throughput(p.min_mbps), 3),
            "fps_hi": fmt_number(p.throughput(p.max_mbps), 3),
            "period": f"max({p.stage_ms:.3f}, {p.per_mbps_stage_ms:.3f}/Mbps)",
            "lat_lo": fmt_number(p.latency(p.min_mbps), 3),
        }
        for p in bmap.pieces
    ]
    cols = [
        ("lo", "From(Mbps)", ">"),
        ("hi", "To(Mbps)", ">"),
        ("tiers", "Layers " + "/".join(problem.tiers), ">"),
        ("fps_lo", "Frames/s@from", ">"),
        ("fps_hi", "Frames/s@to", ">"),
        ("period", "Period(ms)", "<"),
        ("lat_lo", "Latency@from(ms)", ">"),
    ]
    return (format_table(rows, cols)
            + f"\n  pieces: {len(bmap.pieces)}  solves: {bmap.solves}  method: {bmap.method}  objective: throughput")


def _stream_table(problem, front) -> str:
    """The latency-throughput front as a table (one row per point) and a summary line."""
    rows = [
        {
            "i": str(i),
            "lat": fmt_number(sol.details["latency_ms"], 3),
            "fps": fmt_number(sol.details["throughput_fps"], 3),
            "bottleneck": sol.details["bottleneck"],
            "tiers": "/".join(map(str, sol.details["layers_per_tier"])),
        }
        for i, sol in enumerate(front)
    ]
    cols = [
        ("i", "#", ">"),
        ("lat", "Latency(ms)", ">"),
        ("fps", "Throughput(frames/s)", ">"),
        ("bottleneck", "Bottleneck", "<"),
        ("tiers", "Layers " + "/".join(problem.tiers), ">"),
    ]
    return format_table(rows, cols) + (f"\n  points: {len(front)}" + ("" if front.complete else "  (incomplete)")
                                       + ("" if front.exact else "  (not proven: coarse scaling)"))


def add_commands(sub) -> None:
    """Register ``bandwidth-map`` and ``pareto``."""
    p = sub.add_parser("pareto", help="exact latency-energy (k tiers) or latency-throughput Pareto front "
                                      "of a partition instance")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--objectives", default=None, metavar="A,B",
                   help="latency,energy or latency,throughput (default: latency,throughput for an instance "
                        "whose objective is throughput, else latency,energy)")
    p.add_argument("--time-limit", type=float, default=None, metavar="S",
                   help="seconds for the whole front; when reached, the points found so far and exit code 2")
    p.add_argument("--max-points", type=int, default=2000, metavar="N",
                   help="stop after N points (then exit code 2 with a message; default 2000)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_pareto)
    p = sub.add_parser("bandwidth-map", help="optimal partition as a function of uplink bandwidth")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--min", type=float, default=0.1, metavar="MBPS")
    p.add_argument("--max", type=float, default=1000.0, metavar="MBPS")
    p.add_argument("--method", default=None, help="exact method per probe (default qdmp; ilp for throughput)")
    p.add_argument("--rtt-ms", type=float, default=None, help="the RTT (ms) for the map (default: the instance's)")
    p.add_argument("--downlink-mbps", type=float, default=None,
                   help="a fixed downlink for the map (default: the instance's, else it follows the uplink)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bandwidth_map)
