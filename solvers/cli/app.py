"""The ``coinfer`` command line.

Commands
--------
coinfer solve FILE... [--method M] [--time-limit S] [--json | --jsonl] [--uplink-mbps X]
              [--workers N | --scheduler ADDRESS]
coinfer validate FILE...
coinfer methods [KIND]
coinfer plot WHAT FILE -o OUT.(png|svg|pdf)   (see :mod:`.plot`)

``solve`` prints the table header, then each instance's row as soon as it
is solved; a file that fails (of any kind of error) gets an error row and
the others are still solved. Exit codes: 0 when every file was read and
solved (an infeasible instance is a valid answer), 2 on bad input (invalid
file, unknown method, bad option), 1 on an internal error (a bug; the file
is named). No traceback is printed unless ``--debug`` (accepted anywhere on
the line). A closed stdout (``| head``) ends the command silently.

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

from formulations.errors import InstanceError, UnknownOptionError

from . import exits, offloading, partition, partition_import, pipeline, plot, split
from .framework import (
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_OK,
    INPUT_ERRORS,
    UsageError,
    apply_network_overrides,
    fmt_number,
    quiet_broken_pipe,
    require_extra,
)

#: The kind modules, each with ``add_commands(subparsers)``.
KIND_COMMANDS = (partition, partition_import, split, exits, pipeline, offloading, plot)

__all__ = ["main", "build_parser", "cmd_solve", "cmd_validate", "cmd_methods", "solve_file"]

SOLVE_COLUMNS = [
    ("instance", "Instance", "<"),
    ("kind", "Kind", "<"),
    ("method", "Method", "<"),
    ("status", "Status", "<"),
    ("objective", "Obj.", ">"),
    ("bound", "Bound", ">"),
    ("unit", "Unit", "<"),
    ("gap", "Gap", ">"),
    ("time", "Time(s)", ">"),
    ("detail", "Solution", "<"),
]


#: Seconds given to a search method (``Method.searches``: CP-SAT / ILP) when
#: ``coinfer solve`` gets no ``--time-limit``; printed on stderr when used.
DEFAULT_TIME_LIMIT_S = 60.0

#: Fixed widths of the streamed table (the instance column is sized from the file names).
_WIDTHS = {"kind": 10, "method": 13, "status": 10, "objective": 10, "bound": 10, "unit": 8, "gap": 7, "time": 8}
_MAX_NAME = 40


def _time_limit(problem, args, noted: set) -> float | None:
    """``--time-limit``, or the default for a search method (noted once per method on stderr)."""
    from ..registry import default_method, get_method

    if args.time_limit is not None:
        return args.time_limit
    name = args.method or default_method(problem)
    if not getattr(get_method(problem.kind, name), "searches", False):
        return None
    noted.add(name)  # the caller prints the note once per method
    return DEFAULT_TIME_LIMIT_S


def _solve_problem(problem, args, noted: set):
    import solvers

    problem = apply_network_overrides(problem, args)
    options = {} if args.seed is None else {"seed": args.seed}
    time_limit = _time_limit(problem, args, noted)
    try:
        return problem, solvers.solve(problem, method=args.method, time_limit=time_limit, **options)
    except UnknownOptionError:  # by class, not by message text
        raise UsageError(f"method {args.method!r} does not take --seed") from None


def _solution_row(label: str, problem, sol) -> dict:
    detail = ""
    if sol.assignment is not None:
        detail = problem.summarize(sol.assignment)
    elif sol.message:
        detail = sol.message
    gap = sol.gap
    return {
        "instance": label,
        "kind": sol.kind,
        "method": sol.method,
        "status": sol.status.value,
        "objective": fmt_number(sol.objective),
        "bound": fmt_number(sol.bound),
        "unit": sol.unit or "-",
        "gap": "-" if gap is None else ("inf" if math.isinf(gap) else f"{100 * gap:.2f}%"),
        "time": f"{sol.runtime_s:.3f}",
        "detail": detail,
    }


def _solution_record(path: str, label: str, problem, sol) -> dict:
    record = {"file": path, **({"instance": label} if "#" in label else {}), **sol.to_dict()}
    breakdown = problem.breakdown(sol.assignment) if sol.assignment is not None else {}
    if breakdown:
        record["details"] = {**record["details"], "breakdown": breakdown}
    return record


class _Table:
    """Prints the solve table row by row: header first, each row when its file is done. O(1) per row."""

    def __init__(self, files: Sequence[str]):
        longest = max([len(Path(f).name) + 3 for f in files] + [len("Instance")])
        self.widths = {"instance": min(longest, _MAX_NAME), **_WIDTHS}

    def _cell(self, key: str, text: str, align: str) -> str:
        if key == "detail":
            return text
        width = self.widths[key]
        if len(text) > width and key == "instance":
            text = text[: width - 2] + ".."
        return f"{text:{align}{width}}"

    def line(self, row: dict) -> str:
        return "  ".join(self._cell(k, str(row.get(k, "")), a) for k, _, a in SOLVE_COLUMNS).rstrip()

    def header(self) -> str:
        return self.line({k: h for k, h, _ in SOLVE_COLUMNS})


def _instances(path: str):
    """``(label, problem)`` for every instance of ``path`` (``name#k`` when a file holds several)."""
    import formulations

    problems = formulations.load_all(path)
    name = Path(path).name
    if len(problems) == 1:
        return [(name, problems[0])]
    return [(f"{name}#{k + 1}", p) for k, p in enumerate(problems)]


def _check_solve_options(args) -> None:
    if args.time_limit is not None and not (args.time_limit > 0 and math.isfinite(args.time_limit)):
        raise UsageError(f"--time-limit must be a number of seconds > 0, got {args.time_limit}")
    if args.seed is not None and args.method is None:
        raise UsageError("--seed needs an explicit --method")
    if args.workers is not None and args.workers < 0:
        raise UsageError(f"--workers must be >= 0 (0: one per core), got {args.workers}")
    if args.workers is not None and args.scheduler:
        raise UsageError("give --workers (local processes) or --scheduler (a Dask cluster), not both")
    if args.workers == 0:
        from .batch import default_workers

        args.workers = default_workers()


def _error_entry(path: str, label: str, exc: BaseException, debug: bool) -> tuple[dict, dict, int, str]:
    """The table row, JSON record, exit code and stderr text of a file that failed."""
    if isinstance(exc, INPUT_ERRORS):
        message, code = str(exc), EXIT_INPUT
        if path not in message:
            message = f"{path}: {message}"
        text = f"error: {message}\n"
    else:
        message, code = f"{path}: internal error: {type(exc).__name__}: {exc}", EXIT_INTERNAL
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)) if debug else ""
        text += f"{message} (a bug in coinfer; rerun with --debug for the traceback)\n"
    row = {"instance": label, "status": "error", "detail": message.replace(f"{path}: ", "", 1)}
    return row, {"file": path, "status": "error", "message": message}, code, text


def solve_file(path: str, args) -> list[dict]:
    """Solve every instance of one file: the unit of work of ``coinfer solve``, serial or parallel.

    Returns one entry per instance, plain data only (so it pickles to and
    from a worker process or a Dask worker): ``row`` (the table cells),
    ``record`` (the JSON record), ``status`` (a status name or ``"errors"``),
    ``code`` (exit code), ``stderr`` (text to print) and ``notes`` (default
    time-limit notes, printed once per method by the caller).
    """
    try:
        entries = _instances(path)
    except Exception as exc:  # noqa: BLE001 - one bad file never loses the batch
        entries = [(Path(path).name, exc)]
    out = []
    for label, problem in entries:
        noted: set = set()
        try:
            if isinstance(problem, Exception):
                raise problem
            problem, sol = _solve_problem(problem, args, noted)
            row, record = _solution_row(label, problem, sol), _solution_record(path, label, problem, sol)
            entry = {"status": sol.status.value, "code": EXIT_OK, "stderr": ""}
        except Exception as exc:  # noqa: BLE001 - reported as this file's error row
            row, record, code, text = _error_entry(path, label, exc, args.debug)
            entry = {"status": "errors", "code": code, "stderr": text}
        out.append({**entry, "row": row, "record": record, "notes": sorted(noted)})
    return out


def cmd_solve(args) -> int:
    """Solve every file, printing each row (or JSON line) as soon as its file is done.

    Every per-file failure, of any kind, becomes that file's error row; the
    other files are still solved. With ``--workers N`` (local processes) or
    ``--scheduler ADDRESS`` (a Dask cluster) the files are solved in
    parallel and printed in input order, each row as soon as it and every row
    before it are done: the output equals the serial run's but for the
    timings. Exit code: 1 if any file hit an internal error, else 2 if any
    file or option was bad, else 0.
    """
    from .batch import run_ordered

    _check_solve_options(args)
    if args.scheduler:
        require_extra("dask.distributed", "dask", "--scheduler")
    counts = {"optimal": 0, "feasible": 0, "infeasible": 0, "time_limit": 0, "unknown": 0, "errors": 0}
    records, codes, noted = [], {EXIT_OK}, set()
    table = None if (args.json or args.jsonl) else _Table(args.files)
    if table:
        print(table.header(), flush=True)
    results = run_ordered(solve_file, args.files, args, workers=args.workers, scheduler=args.scheduler)
    for entries in results:
        for entry in entries:
            for name in entry["notes"]:
                if name not in noted:
                    noted.add(name)
                    print(f"note: {name}: default time limit {DEFAULT_TIME_LIMIT_S:g} s; set --time-limit",
                          file=sys.stderr)
            sys.stderr.write(entry["stderr"])
            counts[entry["status"]] += 1
            codes.add(entry["code"])
            records.append(entry["record"])
            if table:
                print(table.line(entry["row"]), flush=True)
            elif args.jsonl:
                print(json.dumps(entry["record"]), flush=True)
    if args.json:
        print(json.dumps(records, indent=1))
    elif table:
        print("  " + "  ".join(f"{k}: {v}" for k, v in counts.items()))
    return EXIT_INTERNAL if EXIT_INTERNAL in codes else max(codes)


def cmd_validate(args) -> int:
    """Load every file (each instance of a multi-instance file); one line per instance.

    Exit code: 1 if a file hit an internal error, else 2 if any was invalid, else 0.
    """
    codes = {EXIT_OK}
    for path in args.files:
        try:
            entries = _instances(path)
        except Exception as exc:  # noqa: BLE001 - one bad file never loses the batch
            if not isinstance(exc, INPUT_ERRORS):
                sys.stderr.write(_error_entry(path, Path(path).name, exc, args.debug)[3])
                codes.add(EXIT_INTERNAL)
                continue
            print(f"invalid: {exc}", flush=True)
            codes.add(EXIT_INPUT)
            continue
        for label, problem in entries:
            reason = problem.infeasibility_reason()
            extra = f" (infeasible: {reason})" if reason else ""
            where = path if label == Path(path).name else f"{path}{label[len(Path(path).name):]}"
            print(f"ok: {where}: {problem!r}{extra}", flush=True)
    return EXIT_INTERNAL if EXIT_INTERNAL in codes else max(codes)


def cmd_methods(args) -> int:
    """List the methods of each file kind (``KIND`` as in instance files: partition, exits, ...)."""
    from formulations.io import KINDS

    from ..registry import SOLVER_PACKAGES, methods

    file_kinds = [k for k in SOLVER_PACKAGES if k in KINDS]
    if args.kind is not None and args.kind not in file_kinds:
        raise UsageError(f"unknown kind {args.kind!r}; choose from {file_kinds}")
    for kind in [args.kind] if args.kind else file_kinds:
        print(f"{kind}:")
        for m in methods(kind):
            tag = "exact" if m.exact else "heuristic"
            print(f"  {m.name:<14} {tag:<9} {m.summary}")
    return EXIT_OK


def _add_debug_everywhere(subparsers) -> None:
    """Accept ``--debug`` after the sub-command too (``coinfer solve --debug f.json``)."""
    for parser in set(subparsers.choices.values()):
        if not any("--debug" in action.option_strings for action in parser._actions):
            parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                                help="show tracebacks on internal errors")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coinfer", description="Solve edge-AI co-inference optimization problems.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on internal errors (anywhere on the line)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("solve", help="solve instance files and print a table (or JSON), a row as each file is done")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--method", "-m", default=None, help="method name (default: the kind's default)")
    p.add_argument("--time-limit", type=float, default=None, metavar="S",
                   help=f"seconds, for search methods (default for them: {DEFAULT_TIME_LIMIT_S:g})")
    p.add_argument("--seed", type=int, default=None, help="random seed for methods that take one")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print a JSON array, one record per instance, at the end")
    out.add_argument("--jsonl", action="store_true", help="print one JSON record per line as each instance is done")
    p.add_argument("--uplink-mbps", type=float, default=None, help="override the instance's uplink (partition)")
    p.add_argument("--downlink-mbps", type=float, default=None, help="override the downlink (partition)")
    p.add_argument("--rtt-ms", type=float, default=None, help="override the RTT (partition)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="solve files on N local processes (0: one per core); rows in input order")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="solve files on a Dask cluster (tcp://host:port; needs coinfer[dask]); rows in input order")
    p.set_defaults(func=cmd_solve)

    p = sub.add_parser("validate", help="check instance files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("methods", help="list the methods of each problem kind")
    p.add_argument("kind", nargs="?", default=None)
    p.set_defaults(func=cmd_methods)

    for module in KIND_COMMANDS:
        module.add_commands(sub)
    _add_debug_everywhere(sub)
    return parser


def _files_of(args) -> str:
    files = [getattr(args, "file", None)] + list(getattr(args, "files", None) or [])
    named = [f for f in files if f]
    return f" ({', '.join(named)})" if named and len(named) <= 3 else ""


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``coinfer`` command; returns the exit code.

    0: done; 2: bad input or option (``InstanceError``, ``OptionError``,
    ``UsageError``), one line naming the file; 1: internal error (a bug),
    one line naming the file, the traceback with ``--debug``; 130 on
    Ctrl-C; 141 when stdout's reader went away (``| head``), silently.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        return quiet_broken_pipe()
    except INPUT_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a raw traceback
        if args.debug:
            traceback.print_exc()
        print(f"internal error{_files_of(args)}: {type(exc).__name__}: {exc} (a bug in coinfer; "
              "rerun with --debug for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
