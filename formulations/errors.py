"""Errors raised while reading, validating or evaluating problems.

Every error about an instance names the file (when there is one) and the
field, so that a user can fix the input without reading a traceback.
"""

from __future__ import annotations

__all__ = ["CoinferError", "InstanceError", "InfeasibleAssignmentError", "OptionError", "UnknownOptionError"]


class CoinferError(ValueError):
    """The base of every error coinfer raises on purpose (bad input, a bad option, an infeasible plan).

    ``except CoinferError`` catches them all; each is also a :class:`ValueError`
    (as they always were). Anything else escaping coinfer is a bug: the CLI
    reports it with exit code 1, these with exit code 2.
    """


class InstanceError(CoinferError):
    """Invalid instance data.

    Parameters
    ----------
    message : str
        What is wrong, in words.
    field : str, optional
        The offending field as a path, e.g. ``layers[3].device_ms``.
    file : str, optional
        The file the instance came from.

    Examples
    --------
    >>> str(InstanceError("must be >= 0", field="layers[0].device_ms", file="a.json"))
    'a.json: layers[0].device_ms: must be >= 0'
    """

    def __init__(self, message: str, *, field: str | None = None, file: str | None = None):
        self.message = message
        self.field = field
        self.file = file
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [p for p in (self.file, self.field) if p]
        return ": ".join(parts + [self.message])

    def with_file(self, file: str) -> "InstanceError":
        """Return a copy of this error that names ``file``."""
        return InstanceError(self.message, field=self.field, file=str(file))


class InfeasibleAssignmentError(CoinferError):
    """A candidate solution violates the problem's constraints."""


class OptionError(CoinferError):
    """A bad argument to a solver front-end or command: unknown method, bad limit, bad option.

    Raised by the argument checks of the front-ends (``solvers.solve``,
    ``solvers.bandwidth_map``, ...) before any work, so that the command
    line can tell bad options (exit code 2) from a failure inside a solver
    (exit code 1). A subclass of :class:`ValueError`, so ``except
    ValueError`` still catches it.

    Examples
    --------
    >>> isinstance(OptionError("`time_limit` must be > 0"), ValueError)
    True
    """


class UnknownOptionError(OptionError, TypeError):
    """An option a method does not take, or options without an explicit method.

    Both an :class:`OptionError` (exit code 2 from the CLI, by class) and a
    :class:`TypeError` (what Python raises for an unexpected keyword), so
    callers catching either keep working.
    """
