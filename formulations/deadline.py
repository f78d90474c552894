"""Wall-clock deadlines for model builders.

A builder given ``deadline`` (an absolute :func:`time.perf_counter` value)
calls :func:`check` every few thousand rows and stops with
:class:`BuildTimeout` once it has passed, so a method's ``time_limit``
covers model building too. O(1) per call.
"""

from __future__ import annotations

import time

__all__ = ["BuildTimeout", "BuildClock", "check", "remaining"]


class BuildTimeout(TimeoutError):
    """Model building passed its deadline (the caller falls back to its warm start)."""


def check(deadline: float | None, what: str = "model") -> None:
    """Raise :class:`BuildTimeout` if ``deadline`` has passed (None: never)."""
    if deadline is not None and time.perf_counter() > deadline:
        raise BuildTimeout(f"building the {what} passed the time limit")


def remaining(deadline: float | None) -> float | None:
    """Seconds left until ``deadline`` (None without one; may be negative)."""
    return None if deadline is None else deadline - time.perf_counter()


class BuildClock:
    """Deadline checks for a builder of about ``total_rows`` rows.

    :meth:`tick` raises :class:`BuildTimeout` when the deadline has passed,
    or when the rate so far projects that building will not finish before
    it (so a hopeless build stops early instead of overshooting the limit
    by the time it takes to finish and free a large model). O(1) per call.
    """

    def __init__(self, deadline: float | None, total_rows: int, what: str = "model", every: int = 2048):
        self.deadline = deadline
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
