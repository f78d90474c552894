"""Reading and writing instance files of every kind.

Instance files are versioned JSON objects with a ``kind`` (``"partition"``,
``"exits"``, ``"pipeline"``, ``"flowshop"``, ``"offloading"``) and a
``version``, or Taillard's flow-shop text (recognised by its first line,
whatever the suffix: ``ta001.fsp``, ``tai20_5.txt``). :func:`load` reads a
file holding one instance and returns the matching problem object;
:func:`load_all` returns every instance of a file (Taillard's ``.txt`` files
hold ten). Errors name the file and the field.

Input limits, checked at load before any solver sees the data (each error
names the field):

- JSON nesting depth at most :data:`MAX_DEPTH` (checked by a scan of the
  text, before parsing, so a 100,000-deep file cannot exhaust the stack);
- integer literals of at most :data:`MAX_INT_DIGITS` digits;
- every number finite (``NaN``, ``Infinity`` and ``1e400`` are refused) and,
  outside ``metadata``/``meta`` objects, at most
  :data:`~formulations.validate.MAX_MAGNITUDE` (1e15) in magnitude.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import re
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .errors import InstanceError
from .validate import MAX_MAGNITUDE, naming_file

__all__ = [
    "load",
    "load_all",
    "load_dict",
    "save",
    "read_json",
    "check_limits",
    "register_kind",
    "KINDS",
    "TEXT_READERS",
    "TEXT_FORMATS",
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
]

#: kind -> "module:Class" of the problem class; the class must provide
#: ``from_dict(data, *, file=None, base_dir=None)``. Imported lazily so that a
#: kind's module is only loaded when one of its files is read.
KINDS: dict[str, str] = {
    "partition": "formulations.partition:PartitionProblem",
    "exits": "formulations.exits:ExitProblem",
    "pipeline": "formulations.pipeline:PipelineProblem",
    "flowshop": "formulations.pipeline:PipelineProblem",
    "offloading": "formulations.offloading:OffloadingProblem",
    "placement": "formulations.placement:PlacementProblem",
}

#: Text formats: name -> (pattern matched against the first non-blank line,
#: "module:function" returning the list of every instance of a file). A file
#: is read in a text format when its first line matches, whatever its suffix.
TEXT_FORMATS: dict[str, tuple[str, str]] = {
    "taillard": (r"^\s*number of jobs\b", "formulations.pipeline.taillard:read_taillard_all"),
}

#: file suffix -> text format name, for files whose first line is not
#: recognised (they then get that format's own error message, not a JSON one).
TEXT_READERS: dict[str, str] = {
    ".fsp": "taillard",
}

#: Deepest nesting of JSON arrays/objects accepted (shipped instances use 6).
MAX_DEPTH = 64

#: Longest integer literal accepted (digits); longer ones are refused naming the field.
MAX_INT_DIGITS = 30

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_SNIFF_BYTES = 4096


def register_kind(kind: str, target: str) -> None:
    """Register a problem class (``"module:Class"``) for instance files of ``kind``."""
    KINDS[kind] = target


def _resolve(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))


def _bracket_depth(raw: bytes) -> int:
    codes = np.frombuffer(raw.translate(None, _NOT_BRACKETS), dtype=np.uint8)
    if codes.size == 0:
        return 0
    return int(np.cumsum(np.where((codes == 0x5B) | (codes == 0x7B), 1, -1)).max(initial=0))


def _json_depth(raw: bytes) -> int:
    """Deepest bracket nesting of JSON text, no recursion; O(len(raw)).

    Counts every bracket first (fast); only when that exceeds
    :data:`MAX_DEPTH` are brackets inside strings skipped for the exact
    value (brackets in names must not cause a false refusal). Brackets in
    strings that hide real depth cannot get past the parser either: it
    raises ``RecursionError``, reported as an :class:`InstanceError`.
    """
    depth = _bracket_depth(raw)
    return depth if depth <= MAX_DEPTH else _bracket_depth(_STRING.sub(b'""', raw))


class _LongInt:
    """Placeholder for an integer literal longer than MAX_INT_DIGITS (reported with its field)."""

    def __init__(self, text: str):
        self.digits = len(text.lstrip("-"))

    def __repr__(self) -> str:
        return f"<an integer literal of {self.digits} digits>"


def _parse_int(text: str):
    return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else _LongInt(text)


def _parse_constant(text: str) -> float:
    return float(text)  # NaN, Infinity, -Infinity: refused by check_limits with the field named


def read_json(path: str | os.PathLike) -> Any:
    """Parse a JSON file, raising :class:`InstanceError` naming the file.

    The nesting depth is checked on the raw text first (O(size)); integer
    literals over :data:`MAX_INT_DIGITS` digits become placeholders that
    :func:`check_limits` (run on the result) reports with their field, so
    the ``from_json`` readers of every kind get the same limits.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InstanceError("no such file", file=str(path)) from None
    except OSError as exc:
        raise InstanceError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InstanceError(f"not UTF-8 text (byte {exc.start}): not a JSON instance", file=str(path)) from None
    depth = _json_depth(raw)
    if depth > MAX_DEPTH:
        raise InstanceError(f"JSON nested {depth} levels deep; at most {MAX_DEPTH} are accepted", file=str(path))
    try:
        data = json.loads(text, parse_int=_parse_int, parse_constant=_parse_constant)
    except json.JSONDecodeError as exc:
        raise InstanceError(
            f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})", file=str(path)
        ) from None
    except (ValueError, RecursionError) as exc:  # defensive: limits of the json module itself
        raise InstanceError(f"not readable as JSON: {exc}", file=str(path)) from None
    with naming_file(str(path)):
        check_limits(data)
    return data


def _field(link) -> str:
    """Render a path kept as nested ``(parent, key)`` pairs, e.g. ``layers[1].output_bytes``."""
    keys = []
    while link is not None:
        link, key = link
        keys.append(key)
    out = ""
    for key in reversed(keys):
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out or "<root>"


def check_limits(data: Any) -> None:
    """Refuse data beyond the input limits, naming the field; iterative, O(size).

    Checks the nesting depth (:data:`MAX_DEPTH`), integer literal length
    (:data:`MAX_INT_DIGITS`), finiteness of every number and, outside
    ``metadata``/``meta`` objects, magnitude (``MAX_MAGNITUDE``). Paths are
    kept as ``(parent, key)`` links and only rendered for an error.

    Raises
    ------
    InstanceError
        Naming the first offending field, e.g. ``layers[1].output_bytes``.
    """
    stack: list[tuple[Any, Any, int, bool]] = [(data, None, 0, False)]
    while stack:
        value, link, depth, free = stack.pop()
        if isinstance(value, (dict, list, tuple)):
            if depth >= MAX_DEPTH:
                raise InstanceError(f"nested deeper than {MAX_DEPTH} levels", field=_field(link))
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, child in items:
                if isinstance(child, (dict, list, tuple, _LongInt, float, int, np.number)):
                    stack.append((child, (link, key), depth + 1, free or key in ("metadata", "meta")))
        elif isinstance(value, _LongInt):
            raise InstanceError(
                f"integer literal of {value.digits} digits; at most {MAX_INT_DIGITS} are accepted", field=_field(link)
            )
        elif isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_)):
            _check_number(value, link, free)  # (a top-level null or string is refused by the loader)


def _check_number(value, path, free: bool) -> None:
    if isinstance(value, (int, np.integer)):
        if not free and abs(int(value)) > MAX_MAGNITUDE:
            raise InstanceError(f"too large ({int(value)} > {MAX_MAGNITUDE:g})", field=_field(path))
        return
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise InstanceError(f"must be a finite number, got {number!r}", field=_field(path))
    if not free and abs(number) > MAX_MAGNITUDE:
        raise InstanceError(f"too large ({number!r} > {MAX_MAGNITUDE:g})", field=_field(path))


def load_dict(data: Any, *, file: str | None = None, base_dir: str | os.PathLike | None = None,
              check: bool = True):
    """Build the problem object for an already-parsed instance dict.

    The input limits (:func:`check_limits`) are checked first unless
    ``check=False`` (data from :func:`read_json`, already checked).
    """
    if not isinstance(data, dict):
        raise InstanceError("an instance must be a JSON object", file=file)
    if check:
        with naming_file(file):
            check_limits(data)
    kind = data.get("kind")
    if kind is None:
        raise InstanceError("missing required field", field="kind", file=file)
    if not isinstance(kind, str) or kind not in KINDS:
        raise InstanceError(f"unknown kind {kind!r}; known: {sorted(KINDS)}", field="kind", file=file)
    try:
        cls = _resolve(KINDS[kind])
    except ModuleNotFoundError:
        raise InstanceError(f"kind {kind!r} is not available in this build", field="kind", file=file) from None
    with naming_file(file):
        return cls.from_dict(data, file=file, base_dir=base_dir)


def _text_format(path: Path) -> str | None:
    """The text format of ``path`` by its first non-blank line, else by suffix; None for JSON."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except FileNotFoundError:
        raise InstanceError("no such file", file=str(path)) from None
    except OSError as exc:
        raise InstanceError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None
    first = next((ln for ln in head.decode("utf-8", errors="replace").splitlines() if ln.strip()), "")
    for name, (pattern, _) in TEXT_FORMATS.items():
        if re.search(pattern, first, re.IGNORECASE):
            return name
    if first.lstrip().startswith(("{", "[")):
        return None
    return TEXT_READERS.get(path.suffix.lower())


def load_all(path: str | os.PathLike) -> list:
    """Every instance of a file, in file order.

    Parameters
    ----------
    path : str or path-like
        A JSON instance file (one instance) or a text file of a format in
        :data:`TEXT_FORMATS`, recognised by its first non-blank line (e.g.
        Taillard's ``tai20_5.txt``, ten instances named ``tai20_5#1`` ...
        ``tai20_5#10``).

    Returns
    -------
    list
        One problem object per instance (a one-element list for JSON).

    Raises
    ------
    InstanceError
        As :func:`load`.
    """
    path = Path(path)
    fmt = _text_format(path)
    if fmt is not None:
        with naming_file(str(path)):
            return list(_resolve(TEXT_FORMATS[fmt][1])(path))
    data = read_json(path)  # checks the input limits
    return [load_dict(data, file=str(path), base_dir=path.parent, check=False)]


def load(path: str | os.PathLike):
    """Read an instance file holding one instance and return its problem object.

    Parameters
    ----------
    path : str or path-like
        A JSON instance file (dispatched on its ``kind``), or a text file of
        a format in :data:`TEXT_FORMATS` (recognised by content).

    Returns
    -------
    problem
        E.g. a :class:`~formulations.partition.PartitionProblem`.

    Raises
    ------
    InstanceError
        For a missing file, invalid JSON, an input limit exceeded, unknown
        kind or version, any invalid field (the message names the file and
        the field), or a file with several instances (use :func:`load_all`).
    """
    problems = load_all(path)
    if len(problems) != 1:
        raise InstanceError(
            f"holds {len(problems)} instances; use formulations.load_all to read them all", file=str(path)
        )
    return problems[0]


def save(problem, path: str | os.PathLike, *, indent: int | None = 1) -> None:
    """Write ``problem.to_dict()`` as a JSON instance file."""
    Path(path).write_text(json.dumps(problem.to_dict(), indent=indent) + "\n", encoding="utf-8")
