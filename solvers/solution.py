"""The one result type of every coinfer solver."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = ["Status", "Solution"]


class Status(str, Enum):
    """How a solve ended.

    ``OPTIMAL``: proven optimal: ``objective`` and a valid ``bound`` agree
    within ``details["optimality_tol"]`` (``1e-6 * |objective|``
    plus the method's stated integer-rounding slack; ``docs/scaling.md``).
    ``FEASIBLE``: a solution without such a proof (heuristics, or an exact
    method whose bound is not tight). ``INFEASIBLE``: proven that no solution exists.
    ``TIME_LIMIT``: stopped by the time limit; ``assignment`` is the best
    found (or None) and ``bound`` the best proven bound. ``UNKNOWN``: a
    heuristic found no feasible solution and proved nothing (the instance may
    still be feasible; try an exact method).
    """

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    TIME_LIMIT = "time_limit"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value


@dataclass
class Solution:
    """Result of a solve, for every problem kind.

    Attributes
    ----------
    status : Status
    objective : float or None
        Value of ``assignment`` as computed by ``problem.evaluate`` (never by
        the solver), in the problem's unit (ms for latency objectives).
    bound : float or None
        A proven bound on the optimum: a lower bound when minimizing, an
        upper bound when maximizing. None when the method proves nothing.
    assignment : dict or None
        The decision, in the problem's assignment format (for a partition:
        ``{"device": [...], "server": [...]}``).
    method : str
    runtime_s : float
        Wall-clock seconds of the method, evaluation included.
    message : str
    kind : str
        The problem kind (``"partition"`` ...).
    sense : str
        ``"min"`` or ``"max"``.
    unit : str
        The unit of ``objective`` and ``bound`` (the problem's
        :attr:`~formulations.base.Problem.unit`: ``"ms"``, ``"mJ"``,
        ``"mJ/slot"``, ``"tasks/s"`` ...; ``""`` if the kind has not said).
    details : dict
        Method- and problem-specific extras (e.g. a latency breakdown).
    evaluation : object, optional
        What the formulation's own evaluator returned for the assignment
        (e.g. a ``PartitionEvaluation``, ``Schedule``, ``ExitEvaluation``),
        or, for an online policy, the one ``SimulationResult`` of its run.
        Not serialized by :meth:`to_dict` beyond ``objective``.
    """

    status: Status
    objective: float | None = None
    bound: float | None = None
    assignment: Any = None
    method: str = ""
    runtime_s: float = 0.0
    message: str = ""
    kind: str = ""
    sense: str = "min"
    unit: str = ""
    details: dict = field(default_factory=dict)
    evaluation: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.status = Status(self.status)
        if self.status in (Status.OPTIMAL, Status.FEASIBLE) and self.assignment is None:
            raise ValueError(f"a {self.status} solution needs an assignment")

    @property
    def success(self) -> bool:
        """True when a feasible assignment is available."""
        return self.assignment is not None and self.status != Status.INFEASIBLE

    @property
    def gap(self) -> float | None:
        """Relative gap ``|objective - bound| / max(|objective|, 1e-9)``, or None."""
        if self.objective is None or self.bound is None:
            return None
        if math.isinf(self.bound):
            return math.inf
        return abs(self.objective - self.bound) / max(abs(self.objective), 1e-9)

    def to_dict(self) -> dict:
        """JSON-ready dict: ``status``, ``objective``, ``bound``, ``gap``,
        ``method``, ``runtime_s``, ``message``, ``kind``, ``sense``,
        ``unit``, ``assignment``, ``details``."""
        return {
            "status": self.status.value,
            "objective": _json_float(self.objective),
            "bound": _json_float(self.bound),
            "gap": _json_float(self.gap),
            "method": self.method,
            "runtime_s": self.runtime_s,
            "message": self.message,
            "kind": self.kind,
            "sense": self.sense,
            "unit": self.unit,
            "assignment": self.assignment.to_dict() if hasattr(self.assignment, "to_dict") else self.assignment,
            "details": self.details,
        }

    def summary(self) -> str:
        """A short, fixed-format printout."""
        def num(x: float | None) -> str:
            return "-" if x is None else f"{x:.6g} {self.unit}".rstrip()

        gap = self.gap
        lines = [
            f"status:    {self.status.value}",
            f"objective: {num(self.objective)}",
            f"bound:     {num(self.bound)}",
            f"gap:       {'-' if gap is None else f'{100 * gap:.2f}%'}",
            f"method:    {self.method}",
            f"runtime:   {self.runtime_s:.4f} s",
            f"message:   {self.message}",
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _json_float(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    if math.isinf(x) or math.isnan(x):
        return None
    return x
