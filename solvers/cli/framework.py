"""What every ``coinfer`` command shares: exit codes, errors, tables, JSON, progress.

Kind modules (:mod:`.partition`, :mod:`.partition_import`, :mod:`.exits`,
:mod:`.pipeline`, :mod:`.offloading`) import from here and never from each
other; :mod:`.app` builds the parser from all of them.
"""

from __future__ import annotations

import importlib
import math
import os
import sys
import time
from typing import Sequence

from formulations.errors import InstanceError, OptionError

__all__ = [
    "EXIT_OK",
    "EXIT_INTERNAL",
    "EXIT_INPUT",
    "EXIT_PIPE",
    "INPUT_ERRORS",
    "UsageError",
    "OptionError",
    "require_extra",
    "quiet_broken_pipe",
    "fmt_number",
    "format_table",
    "ProgressBar",
    "apply_network_overrides",
    "bandwidth_map_problem",
    "check_writable",
    "write_output",
]

#: Exit codes: every file solved / an internal error (a solver bug) / bad input or option.
EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2
#: Exit code when the reader of stdout went away (``coinfer solve ... | head``): 128 + SIGPIPE.
EXIT_PIPE = 141


class UsageError(Exception):
    """Bad command-line input (exit code 2)."""


#: The errors that mean bad input or a bad option (exit code 2); any other
#: exception is an internal error (exit code 1).
INPUT_ERRORS = (InstanceError, OptionError, UsageError)  # by class only (CoinferError's input kinds)


def require_extra(module: str, extra: str, what: str = "this command") -> None:
    """Fail fast, before any work, when an optional extra is not installed.

    Parameters
    ----------
    module : str
        The module to import, e.g. ``"matplotlib"``.
    extra : str
        The pip extra that installs it, e.g. ``"plot"``.
    what : str
        What needs it, for the message (e.g. ``"--plot"``).

    Raises
    ------
    UsageError
        ``"--plot needs matplotlib: pip install 'coinfer[plot]'"``.
    """
    try:
        importlib.import_module(module)
    except ImportError:
        raise UsageError(f"{what} needs {module}: pip install 'coinfer[{extra}]'") from None


def quiet_broken_pipe() -> int:
    """End quietly after stdout's reader closed the pipe (e.g. ``| head``).

    Points stdout at ``os.devnull`` so that the interpreter's final flush
    raises nothing (the recipe of the Python ``signal`` documentation) and
    returns :data:`EXIT_PIPE`.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor (tests)
        pass
    return EXIT_PIPE


def fmt_number(x, digits: int = 2) -> str:
    """A table cell for a number: ``-`` for None, ``inf``, 3 significant digits below 0.1."""
    if x is None:
        return "-"
    if isinstance(x, float) and math.isinf(x):
        return "inf"
    if x != 0 and abs(x) < 0.1:
        return f"{x:.3g}"  # keep microsecond-scale objectives readable
    return f"{x:.{digits}f}"


def format_table(rows: Sequence[dict], columns: Sequence[tuple[str, str, str]]) -> str:
    """Render ``rows`` as a fixed-width text table.

    ``columns`` are ``(key, header, align)`` with align ``"<"`` or ``">"``.
    """
    widths = [max([len(h)] + [len(str(r.get(k, ""))) for r in rows]) for k, h, _ in columns]
    lines = ["  ".join(f"{h:{a}{w}}" for (k, h, a), w in zip(columns, widths)).rstrip()]
    for r in rows:
        lines.append("  ".join(f"{str(r.get(k, '')):{a}{w}}" for (k, h, a), w in zip(columns, widths)).rstrip())
    return "\n".join(lines)


class ProgressBar:
    """The one progress bar of the CLI, on a stream (stderr by default).

    Call it as ``bar(done, total)`` or ``bar(done, total, label)``. On a
    terminal the line is redrawn in place with the percentage and, once a stage
    has run 2 s, an ETA; otherwise (a log, a pipe) only each stage's completion is
    printed, so logs get one line per stage and never a ``\\r`` frame.

    Parameters
    ----------
    stream : file-like, optional
        Where to draw; ``sys.stderr`` when omitted.
    width : int
        Characters of the bar.
    label : str
        Default label when a call gives none (e.g. ``"slots"``).
    """

    def __init__(self, stream=None, width: int = 30, label: str = ""):
        self.stream = stream or sys.stderr
        self.width = width
        self.label = label
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._stage: tuple[str, float] | None = None  # (label, time of its first step)

    def _eta(self, done: int, total: int, label: str) -> str:
        """`` ETA 12s`` once a stage has run over 2 s and is unfinished, else ``""``.

        The rate is measured from the stage's first step, so a slow start
        (model loading) does not count.
        """
        now = time.monotonic()
        if self._stage is None or self._stage[0] != label or done <= 1:
            self._stage = (label, now)
        elapsed = now - self._stage[1]
        if done >= total or elapsed < 2.0 or done <= 1:
            return ""
        return f" ETA {elapsed / (done - 1) * (total - done):.0f}s"

    def __call__(self, done: int, total: int, label: str | None = None) -> None:
        label = self.label if label is None else label
        total = max(int(total), 1)
        eta = self._eta(done, total, label)
        if self.tty:
            filled = int(self.width * min(done, total) / total)
            bar = "#" * filled + "." * (self.width - filled)
            end = "\n" if done >= total else ""
            self.stream.write(f"\r[{bar}] {100 * done // total:3d}% {done}/{total} {label}{eta}\x1b[K{end}")
            self.stream.flush()
        elif done >= total:
            self.stream.write(f"[{'#' * self.width}] {total}/{total} {label}\n")
            self.stream.flush()


def load_instance(path: str, kind: str | None, command: str):
    """``formulations.load(path)``, refusing another kind with a :class:`UsageError` (exit 2)
    that names the file and the command: ``FILE: COMMAND needs a KIND instance, got kind 'x'``."""
    import formulations

    problem = formulations.load(path)
    if kind is not None and problem.kind != kind:
        article = "an" if kind[0] in "aeiou" else "a"
        raise UsageError(f"{path}: {command} needs {article} {kind} instance, got kind {problem.kind!r}")
    return problem


def apply_network_overrides(problem, args, file: str | None = None):
    """``problem`` with ``--uplink-mbps`` / ``--downlink-mbps`` / ``--rtt-ms`` applied (those given).

    The one place every command that takes these options applies them, so
    each option acts on every output it is accepted with. Raises
    :class:`UsageError` naming the option (and ``file``) for a bad value or a
    problem without a network.
    """
    from formulations.errors import InstanceError

    net = {key: getattr(args, key) for key in ("uplink_mbps", "downlink_mbps", "rtt_ms")
           if getattr(args, key, None) is not None}
    if not net:
        return problem
    where = f"{file}: " if file else ""
    if not hasattr(problem, "with_network"):
        raise UsageError(f"{where}--uplink-mbps/--downlink-mbps/--rtt-ms apply to partition instances, "
                         f"not {problem.kind!r}")
    try:
        return problem.with_network(**net)
    except InstanceError as exc:
        raise UsageError(where + str(exc).replace("network.", "--").replace("_", "-")) from None


#: The largest bandwidth a map may span (the input limit of instance files).
MAX_MBPS = 1e15


def bandwidth_map_problem(args):
    """The two-tier problem of ``bandwidth-map FILE`` with ``--rtt-ms`` / ``--downlink-mbps`` applied
    (for the printed table, ``--json`` and ``--export`` alike). Errors name the file and the option."""
    import formulations
    from formulations.partition import TieredPartitionProblem

    problem = formulations.load(args.file)
    stream = getattr(problem, "throughput", False)  # a throughput instance maps link 0 (any form)
    if problem.kind != "partition" or (isinstance(problem, TieredPartitionProblem) and not stream):
        raise UsageError(f"{args.file}: bandwidth-map needs a two-tier partition instance or the objective "
                         "\"throughput\" (for k tiers see `coinfer pareto`)")
    for option, value in (("--min", args.min), ("--max", args.max)):
        if not (math.isfinite(value) and 0 < value <= MAX_MBPS):
            raise UsageError(f"{args.file}: {option} must be a bandwidth in (0, {MAX_MBPS:g}] Mbps, got {value:g}")
    if args.min > args.max:
        raise UsageError(f"{args.file}: --min ({args.min:g}) must be <= --max ({args.max:g})")
    return apply_network_overrides(problem, args, args.file)


def check_writable(path, option: str) -> None:
    """Refuse (exit 2, before any work) an output path that cannot be written: its folder
    missing or not a folder, or the path itself a folder. Names the option."""
    import os
    from pathlib import Path

    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise UsageError(f"{option} {path}: is a folder, not a file")
    if not folder.is_dir():
        raise UsageError(f"{option} {path}: the folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"{option} {path}: the folder {str(folder)!r} is not writable")


def write_output(path, option: str, write) -> None:
    """Run ``write()`` (which writes ``path``), turning an OS error into a one-line
    :class:`UsageError` naming the option and the path (exit 2), not an internal error."""
    try:
        write()
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot write: {exc.strerror or exc}") from None
