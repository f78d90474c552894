"""The one stopping rule: a wall-clock :class:`Deadline`.

:func:`solvers.solve` builds one ``Deadline`` from ``time_limit`` when the
call starts and hands it to the method (``deadline=``); every loop of the
method (enumerations, local searches, re-solves, model builders) checks it
and stops with its best plan so far and status ``time_limit`` once it has
passed. A run without ``time_limit`` gets ``Deadline(None)``, which never
expires. Stopping rule of PyVRP's kind: one object, checked by every loop.

Builders given ``deadline`` (a ``Deadline`` or an absolute
:func:`time.perf_counter` value) call :func:`check` every few thousand rows
and stop with :class:`BuildTimeout` once it has passed, so a method's
``time_limit`` covers model building too. O(1) per call.
"""

from __future__ import annotations

import time

__all__ = ["Deadline", "BuildTimeout", "BuildClock", "check", "remaining"]


class BuildTimeout(TimeoutError):
    """Model building (or a search loop) passed its deadline (the caller falls back to its warm start)."""


class Deadline:
    """A wall-clock deadline ``time_limit`` seconds after ``start`` (never, without a limit).

    Parameters
    ----------
    time_limit : float, optional
        Seconds from ``start``; None: no limit (:meth:`expired` is always False).
    start : float, optional
        A :func:`time.perf_counter` time; now by default.

    Attributes
    ----------
    time_limit : float or None
    start : float
        :func:`time.perf_counter` time the clock started.
    at : float or None
        Absolute :func:`time.perf_counter` time of the deadline (what model
        builders take as ``deadline=``).

    Notes
    -----
    Every query is O(1) (one :func:`time.perf_counter` call, about 0.1 us):
    cheap enough for a check per iteration of a Python loop whose body
    costs a microsecond or more.
    """

    __slots__ = ("time_limit", "start", "at")

    def __init__(self, time_limit: float | None = None, *, start: float | None = None):
        self.start = time.perf_counter() if start is None else float(start)
        self.time_limit = None if time_limit is None else float(time_limit)
        self.at = None if self.time_limit is None else self.start + self.time_limit

    @classmethod
    def of(cls, deadline: "Deadline | None") -> "Deadline":
        """``deadline`` itself, or a ``Deadline`` that never expires for None (a method called directly)."""
        if deadline is None:
            return cls(None)
        if not isinstance(deadline, Deadline):
            raise TypeError(f"`deadline` must be a formulations.deadline.Deadline or None, got {type(deadline).__name__}")
        return deadline

    @property
    def limited(self) -> bool:
        """Whether there is a limit at all."""
        return self.at is not None

    def expired(self) -> bool:
        """Whether the deadline has passed (never without a limit)."""
        return self.at is not None and time.perf_counter() > self.at

    def remaining(self) -> float | None:
        """Seconds left (None without a limit; may be negative)."""
        return None if self.at is None else self.at - time.perf_counter()

    def elapsed(self) -> float:
        """Seconds since :attr:`start`."""
        return time.perf_counter() - self.start

    def check(self, what: str = "search") -> None:
        """Raise :class:`BuildTimeout` if the deadline has passed."""
        if self.expired():
            raise BuildTimeout(f"the {what} passed the time limit")

    def share(self, fraction: float) -> "Deadline":
        """A deadline ``fraction`` of the remaining time from now (never passing this one).

        For a phase that must leave time to later phases, e.g. a warm start
        given half of the limit. Without a limit, one without a limit.
        """
        left = self.remaining()
        if left is None:
            return Deadline(None)
        return Deadline(max(left, 0.0) * float(fraction))

    def __repr__(self) -> str:
        if self.at is None:
            return "Deadline(None)"
        return f"Deadline(time_limit={self.time_limit:g}, remaining={self.remaining():.3f})"


def _at(deadline: "Deadline | float | None") -> float | None:
    return deadline.at if isinstance(deadline, Deadline) else deadline


def check(deadline: "Deadline | float | None", what: str = "model") -> None:
    """Raise :class:`BuildTimeout` if ``deadline`` (a ``Deadline`` or an absolute time) has passed (None: never)."""
    at = _at(deadline)
    if at is not None and time.perf_counter() > at:
        raise BuildTimeout(f"building the {what} passed the time limit")


def remaining(deadline: "Deadline | float | None") -> float | None:
    """Seconds left until ``deadline`` (a ``Deadline`` or an absolute time; None without one; may be negative)."""
    at = _at(deadline)
    return None if at is None else at - time.perf_counter()


class BuildClock:
    """Deadline checks for a builder of about ``total_rows`` rows.

    :meth:`tick` raises :class:`BuildTimeout` when the deadline has passed,
    or when the rate so far projects that building will not finish before
    it (so a hopeless build stops early instead of overshooting the limit
    by the time it takes to finish and free a large model). O(1) per call.
    ``deadline`` is a :class:`Deadline` or an absolute :func:`time.perf_counter` time.
    """

    def __init__(self, deadline: "Deadline | float | None", total_rows: int, what: str = "model", every: int = 2048):
        self.deadline = _at(deadline)
        self.total = max(int(total_rows), 1)
        self.what = what
        self.every = max(int(every), 1)
        self.started = time.perf_counter()
        self._next = 0

    def tick(self, done: int) -> None:
        """Check after ``done`` rows (cheap unless ``done`` crossed a checkpoint)."""
        if self.deadline is None or done < self._next:
            return
        self._next = done + self.every
        now = time.perf_counter()
        if now > self.deadline:
            raise BuildTimeout(f"building the {self.what} passed the time limit")
        elapsed = now - self.started
        if done > 0 and elapsed >= 0.2 and self.started + elapsed * self.total / done > self.deadline:
            raise BuildTimeout(f"building the {self.what} would pass the time limit "
                               f"({done} of ~{self.total} rows in {elapsed:.2f} s)")
