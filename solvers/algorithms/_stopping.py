"""What a method returns when the :class:`~formulations.deadline.Deadline` stops it.

One helper, so every method reports a stop the same way: status
``time_limit``, its best plan so far (or None) and its proven bound so far
(or None), and a message saying where it stopped.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from formulations.deadline import Deadline

from ..registry import MethodResult
from ..solution import Status

__all__ = ["stopped", "flag_if_expired"]


def stopped(where: str, assignment: Any = None, bound: float | None = None, **details) -> MethodResult:
    """A ``time_limit`` result: stopped ``where`` (words), with the best plan and bound so far."""
    best = "the best plan so far" if assignment is not None else "no plan yet"
    return MethodResult(Status.TIME_LIMIT, assignment, bound=bound, details=dict(details),
                        message=f"time limit reached {where}; {best}")


def flag_if_expired(result: MethodResult, deadline: Deadline | None, note: str = "") -> MethodResult:
    """``result`` as status ``time_limit`` if ``deadline`` has passed (a method whose
    steps stop early at the deadline and then complete the plan the cheap way).

    Only unproven results change (``feasible``, ``unknown``): an ``optimal``
    or ``infeasible`` result proven before the deadline stands.
    """
    if Deadline.of(deadline).expired() and result.status in (Status.FEASIBLE, Status.UNKNOWN):
        message = "; ".join(m for m in (result.message, "time limit reached", note) if m)
        return dataclasses.replace(result, status=Status.TIME_LIMIT, message=message)
    return result
