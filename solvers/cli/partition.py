"""``coinfer bandwidth-map``: the optimal partition as a function of uplink bandwidth.

coinfer bandwidth-map FILE [--min MBPS] [--max MBPS] [--method M] [--json]
"""

from __future__ import annotations

import json

from .framework import EXIT_OK, UsageError, fmt_number, format_table

__all__ = ["add_commands", "cmd_bandwidth_map"]


def cmd_bandwidth_map(args) -> int:
    import formulations
    import solvers

    problem = formulations.load(args.file)
    if problem.kind != "partition":
        raise UsageError(f"bandwidth-map needs a partition instance, got {problem.kind!r}")
    bmap = solvers.bandwidth_map(problem, args.min, args.max, method=args.method)  # OptionError: exit 2
    if args.json:
        print(json.dumps(bmap.to_dict(), indent=1))
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


def add_commands(sub) -> None:
    """Register ``bandwidth-map``."""
    p = sub.add_parser("bandwidth-map", help="optimal partition as a function of uplink bandwidth")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--min", type=float, default=0.1, metavar="MBPS")
    p.add_argument("--max", type=float, default=1000.0, metavar="MBPS")
    p.add_argument("--method", default="qdmp")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bandwidth_map)
