"""Small validators shared by every instance kind.

Each function checks one value and raises :class:`InstanceError` naming the
field on failure. Problem classes call them from ``from_dict`` so that every
kind reports bad input the same way.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Any, Iterator, Mapping

import numpy as np

from .errors import InstanceError

__all__ = [
    "require",
    "as_number",
    "as_nonneg",
    "as_positive",
    "as_bytes",
    "as_probability",
    "as_name",
    "as_list",
    "as_mapping",
    "check_header",
    "MAX_MAGNITUDE",
    "MAX_BYTES",
    "naming_file",
    "reject_unknown",
]


@contextmanager
def naming_file(file: str | None) -> Iterator[None]:
    """Re-raise any :class:`InstanceError` from the block with ``file`` named.

    >>> with naming_file("a.json"):
    ...     pass
    """
    try:
        yield
    except InstanceError as exc:
        raise exc.with_file(file) if file and not exc.file else exc


#: Largest magnitude accepted for any number of an instance (1e15: ~31,700
#: years in ms, a petabyte in bytes). Larger finite values (``1e308``,
#: ``2**63``, a 400-digit integer) are refused at load with the field named,
#: instead of overflowing inside a solver (sums, integer scaling to ns).
MAX_MAGNITUDE = 1e15

#: Largest byte count accepted (10**15 bytes: exact in a float, far beyond any tensor).
MAX_BYTES = 10**15


def require(data: Mapping[str, Any], key: str, field: str) -> Any:
    """Return ``data[key]`` or raise an error naming ``field``."""
    if not isinstance(data, Mapping):
        raise InstanceError("expected an object", field=field.rpartition(".")[0] or field)
    if key not in data:
        raise InstanceError("missing required field", field=field)
    return data[key]


def reject_unknown(data: Mapping[str, Any], allowed, field: str) -> None:
    """Refuse keys of ``data`` outside ``allowed`` (a typo must not pass silently)."""
    extra = set(data) - set(allowed)
    if extra:
        raise InstanceError(f"unknown field(s) {sorted(extra)}; known: {sorted(allowed)}", field=field)


def _scalar(value: Any) -> Any:
    """Unwrap a numpy scalar or 0-d array to the Python number it holds; O(1)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value


def as_number(value: Any, field: str) -> float:
    """A finite real number with ``|value| <= MAX_MAGNITUDE``.

    Python ``int``/``float``, numpy integer and floating scalars and 0-d
    arrays are accepted; bools (Python or numpy), strings and arrays are
    refused. O(1).
    """
    if type(value) is float and -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:  # the common case, fast (NaN fails)
        return value
    given, value = value, _scalar(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InstanceError(f"expected a number, got {given!r}", field=field)
    if isinstance(value, int):
        if abs(value) > MAX_MAGNITUDE:
            digits = len(str(abs(value))) if abs(value) < 10**60 else "over 60"
            raise InstanceError(f"too large (an integer of {digits} digits > {MAX_MAGNITUDE:g})", field=field)
        return float(value)
    if math.isnan(value) or math.isinf(value):
        raise InstanceError(f"must be finite, got {value!r}", field=field)
    if abs(value) > MAX_MAGNITUDE:
        raise InstanceError(f"too large ({value!r} > {MAX_MAGNITUDE:g})", field=field)
    return float(value)


def as_nonneg(value: Any, field: str) -> float:
    """A finite number >= 0 (a cost in ms, a size, a rate)."""
    value = as_number(value, field)
    if value < 0:
        raise InstanceError(f"must be >= 0, got {value!r}", field=field)
    return value


def as_positive(value: Any, field: str) -> float:
    """A finite number > 0 (a bandwidth, a capacity)."""
    value = as_number(value, field)
    if value <= 0:
        raise InstanceError(f"must be > 0, got {value!r}", field=field)
    return value


def as_bytes(value: Any, field: str) -> int:
    """A non-negative whole number of bytes (``3.0`` is accepted, ``3.5`` is not), at most ``MAX_BYTES``."""
    number = as_nonneg(value, field)
    if number != int(number):
        raise InstanceError(f"must be a whole number of bytes, got {value!r}", field=field)
    if number > MAX_BYTES:
        raise InstanceError(f"too large ({value!r} > {MAX_BYTES} bytes)", field=field)
    return int(number)


def as_probability(value: Any, field: str) -> float:
    """A number in [0, 1]."""
    value = as_number(value, field)
    if not 0.0 <= value <= 1.0:
        raise InstanceError(f"must be in [0, 1], got {value!r}", field=field)
    return value


def as_name(value: Any, field: str) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value:
        raise InstanceError(f"expected a non-empty string, got {value!r}", field=field)
    return value


def as_list(value: Any, field: str, *, nonempty: bool = False) -> list:
    """A JSON array (a list, tuple or 1-d numpy array; not a string or a mapping)."""
    if isinstance(value, np.ndarray) and value.ndim >= 1:
        value = list(value)
    if not isinstance(value, (list, tuple)):
        raise InstanceError(f"expected a list, got {type(value).__name__}", field=field)
    if nonempty and len(value) == 0:
        raise InstanceError("must not be empty", field=field)
    return list(value)


def as_mapping(value: Any, field: str) -> Mapping[str, Any]:
    """A JSON object."""
    if not isinstance(value, Mapping):
        raise InstanceError(f"expected an object, got {type(value).__name__}", field=field)
    return value


def check_header(data: Any, kind: str | tuple[str, ...], versions: tuple[int, ...] = (1,)) -> str:
    """Check ``kind`` and ``version`` of an instance dict; return the kind.

    Parameters
    ----------
    data : mapping
        The parsed instance.
    kind : str or tuple of str
        The accepted kind(s).
    versions : tuple of int
        The accepted format versions.
    """
    data = as_mapping(data, "<root>")
    kinds = (kind,) if isinstance(kind, str) else kind
    got = require(data, "kind", "kind")
    if got not in kinds:
        raise InstanceError(f"expected one of {list(kinds)}, got {got!r}", field="kind")
    version = data.get("version", 1)
    if isinstance(version, bool) or version not in versions:
        raise InstanceError(
            f"unsupported version {version!r}; this coinfer reads {list(versions)}", field="version"
        )
    return got
