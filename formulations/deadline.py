"""Wall-clock deadlines for model builders.

A builder given ``deadline`` (an absolute :func:`time.perf_counter` value)
calls :func:`check` every few thousand rows and stops with
:class:`BuildTimeout` once it has passed, so a method's ``time_limit``
covers model building too. O(1) per call.
"""

from __future__ import annotations

import time

__all__ = ["BuildTimeout", "check", "remaining"]


class BuildTimeout(TimeoutError):
    """Model building passed its deadline (the caller falls back to its warm start)."""


def check(deadline: float | None, what: str = "model") -> None:
    """Raise :class:`BuildTimeout` if ``deadline`` has passed (None: never)."""
    if deadline is not None and time.perf_counter() > deadline:
        raise BuildTimeout(f"building the {what} passed the time limit")


def remaining(deadline: float | None) -> float | None:
    """Seconds left until ``deadline`` (None without one; may be negative)."""
    return None if deadline is None else deadline - time.perf_counter()
