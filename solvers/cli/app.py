"""The ``coinfer`` command line.

Commands
--------
coinfer solve FILE... [--method M] [--time-limit S] [--json] [--uplink-mbps X]
coinfer validate FILE...
coinfer methods [KIND]
coinfer plot WHAT FILE -o OUT.(png|svg|pdf)   (see :mod:`.plot`)

Exit codes: 0 when every file was read and solved (an infeasible instance is
a valid answer), 2 on bad input (invalid file, unknown method, bad option),
1 on an internal error. No traceback is printed unless ``--debug``.

The commands of each problem kind live in one module per kind
(:data:`KIND_COMMANDS`), each with an ``add_commands(subparsers)`` function
that registers sub-parsers whose ``func(args) -> int`` runs the command;
what they share (exit codes, tables, the progress bar) is in
:mod:`.framework`.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import traceback
from pathlib import Path
from typing import Sequence

from formulations.errors import InstanceError

from . import exits, offloading, partition, partition_import, pipeline, plot
from .framework import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, UsageError, fmt_number, format_table

#: The kind modules, each with ``add_commands(subparsers)``.
KIND_COMMANDS = (partition, partition_import, exits, pipeline, offloading, plot)

__all__ = ["main", "build_parser", "cmd_solve", "cmd_validate", "cmd_methods"]

SOLVE_COLUMNS = [
    ("instance", "Instance", "<"),
    ("kind", "Kind", "<"),
    ("method", "Method", "<"),
    ("status", "Status", "<"),
    ("objective", "Obj.", ">"),
    ("bound", "Bound", ">"),
    ("gap", "Gap", ">"),
    ("time", "Time(s)", ">"),
    ("detail", "Solution", "<"),
]


def _apply_overrides(problem, args):
    net = {}
    if getattr(args, "uplink_mbps", None) is not None:
        net["uplink_mbps"] = args.uplink_mbps
    if getattr(args, "downlink_mbps", None) is not None:
        net["downlink_mbps"] = args.downlink_mbps
    if getattr(args, "rtt_ms", None) is not None:
        net["rtt_ms"] = args.rtt_ms
    if net:
        if not hasattr(problem, "with_network"):
            raise UsageError(f"--uplink-mbps/--downlink-mbps/--rtt-ms apply to partition instances, not {problem.kind!r}")
        try:
            problem = problem.with_network(**net)
        except InstanceError as exc:
            raise UsageError(str(exc).replace("network.", "--").replace("_", "-")) from None
    return problem


def _solve_one(path: str, args):
    import formulations
    import solvers

    problem = _apply_overrides(formulations.load(path), args)
    options = {}
    if args.seed is not None:
        options["seed"] = args.seed
    try:
        solution = solvers.solve(problem, method=args.method, time_limit=args.time_limit, **options)
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise UsageError(f"method {args.method!r} does not take --seed") from None
        raise
    except ValueError as exc:
        raise UsageError(f"{path}: {exc}") from None
    return problem, solution


def cmd_solve(args) -> int:
    rows, records = [], []
    counts = {"optimal": 0, "feasible": 0, "infeasible": 0, "time_limit": 0, "unknown": 0, "errors": 0}
    code = EXIT_OK
    for path in args.files:
        name = Path(path).name
        try:
            problem, sol = _solve_one(path, args)
        except (InstanceError, UsageError) as exc:
            counts["errors"] += 1
            code = max(code, EXIT_INPUT)
            print(f"error: {exc}", file=sys.stderr)
            rows.append({"instance": name, "status": "error"})
            records.append({"file": path, "status": "error", "message": str(exc)})
            continue
        counts[sol.status.value] += 1
        detail = ""
        if sol.assignment is not None and hasattr(problem, "summarize"):
            detail = problem.summarize(sol.assignment)
        elif sol.message:
            detail = sol.message
        gap = sol.gap
        rows.append(
            {
                "instance": name,
                "kind": sol.kind,
                "method": sol.method,
                "status": sol.status.value,
                "objective": fmt_number(sol.objective),
                "bound": fmt_number(sol.bound),
                "gap": "-" if gap is None else ("inf" if math.isinf(gap) else f"{100 * gap:.2f}%"),
                "time": f"{sol.runtime_s:.3f}",
                "detail": detail,
            }
        )
        record = {"file": path, **sol.to_dict()}
        if hasattr(problem, "breakdown") and sol.assignment is not None and sol.kind == "partition":
            record["details"] = {**record["details"], "breakdown": problem.breakdown(sol.assignment)}
        records.append(record)
    if args.json:
        print(json.dumps(records, indent=1))
    else:
        print(format_table(rows, SOLVE_COLUMNS))
        print("  " + "  ".join(f"{k}: {v}" for k, v in counts.items()))
    return code


def cmd_validate(args) -> int:
    import formulations

    code = EXIT_OK
    for path in args.files:
        try:
            problem = formulations.load(path)
        except InstanceError as exc:
            print(f"invalid: {exc}")
            code = EXIT_INPUT
            continue
        reason = getattr(problem, "infeasibility_reason", lambda: None)()
        extra = f" (infeasible: {reason})" if reason else ""
        print(f"ok: {path}: {problem!r}{extra}")
    return code


def cmd_methods(args) -> int:
    from ..registry import SOLVER_PACKAGES, methods

    kinds = [args.kind] if args.kind else list(SOLVER_PACKAGES)
    for kind in kinds:
        try:
            table = methods(kind)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        print(f"{kind}:")
        for m in table:
            tag = "exact" if m.exact else "heuristic"
            print(f"  {m.name:<14} {tag:<9} {m.summary}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coinfer", description="Solve edge-AI co-inference optimization problems.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on internal errors")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("solve", help="solve instance files and print a table (or JSON)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--method", "-m", default=None, help="method name (default: the kind's default)")
    p.add_argument("--time-limit", type=float, default=None, metavar="S", help="seconds, for search methods")
    p.add_argument("--seed", type=int, default=None, help="random seed for methods that take one")
    p.add_argument("--json", action="store_true", help="print a JSON array, one solution per file")
    p.add_argument("--uplink-mbps", type=float, default=None, help="override the instance's uplink (partition)")
    p.add_argument("--downlink-mbps", type=float, default=None, help="override the downlink (partition)")
    p.add_argument("--rtt-ms", type=float, default=None, help="override the RTT (partition)")
    p.set_defaults(func=cmd_solve)

    p = sub.add_parser("validate", help="check instance files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("methods", help="list the methods of each problem kind")
    p.add_argument("kind", nargs="?", default=None)
    p.set_defaults(func=cmd_methods)

    for module in KIND_COMMANDS:
        module.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (InstanceError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a raw traceback
        if args.debug:
            traceback.print_exc()
        print(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
