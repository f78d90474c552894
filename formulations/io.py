"""Reading and writing instance files of every kind.

Instance files are versioned JSON objects with a ``kind`` (``"partition"``,
``"exits"``, ``"pipeline"``, ``"flowshop"``, ``"offloading"``) and a
``version``. :func:`load` reads any of them and returns the matching problem
object; errors name the file and the field.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any, Callable

from .errors import InstanceError
from .validate import naming_file

__all__ = ["load", "load_dict", "save", "read_json", "register_kind", "KINDS", "TEXT_READERS"]

#: kind -> "module:Class" of the problem class; the class must provide
#: ``from_dict(data, *, file=None, base_dir=None)``. Imported lazily so that a
#: kind's module is only loaded when one of its files is read.
KINDS: dict[str, str] = {
    "partition": "formulations.partition:PartitionProblem",
    "exits": "formulations.exits:ExitProblem",
    "pipeline": "formulations.pipeline:PipelineProblem",
    "flowshop": "formulations.pipeline:PipelineProblem",
    "offloading": "formulations.offloading:OffloadingProblem",
}

#: file suffix -> "module:function" for non-JSON formats (e.g. Taillard text).
TEXT_READERS: dict[str, str] = {
    ".fsp": "formulations.pipeline.taillard:read_taillard",
}


def register_kind(kind: str, target: str) -> None:
    """Register a problem class (``"module:Class"``) for instance files of ``kind``."""
    KINDS[kind] = target


def _resolve(target: str) -> Callable[..., Any]:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def read_json(path: str | os.PathLike) -> Any:
    """Parse a JSON file, raising :class:`InstanceError` naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InstanceError("no such file", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InstanceError(f"cannot read: {exc}", file=str(path)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InstanceError(
            f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})", file=str(path)
        ) from None


def load_dict(data: Any, *, file: str | None = None, base_dir: str | os.PathLike | None = None):
    """Build the problem object for an already-parsed instance dict."""
    if not isinstance(data, dict):
        raise InstanceError("an instance must be a JSON object", file=file)
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


def load(path: str | os.PathLike):
    """Read any instance file and return its problem object.

    Parameters
    ----------
    path : str or path-like
        A JSON instance file (dispatched on its ``kind``), or a file in one
        of the text formats of :data:`TEXT_READERS` (by suffix).

    Returns
    -------
    problem
        E.g. a :class:`~formulations.partition.PartitionProblem`.

    Raises
    ------
    InstanceError
        For a missing file, invalid JSON, unknown kind or version, or any
        invalid field; the message names the file and the field.
    """
    path = Path(path)
    reader = TEXT_READERS.get(path.suffix.lower())
    if reader is not None:
        with naming_file(str(path)):
            return _resolve(reader)(path)
    data = read_json(path)
    return load_dict(data, file=str(path), base_dir=path.parent)


def save(problem, path: str | os.PathLike, *, indent: int | None = 1) -> None:
    """Write ``problem.to_dict()`` as a JSON instance file."""
    Path(path).write_text(json.dumps(problem.to_dict(), indent=indent) + "\n", encoding="utf-8")
