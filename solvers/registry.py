"""One registry from (problem kind, method name) to the method function.

The CLI, :func:`solve` and the tests all enumerate methods from here. A method
function takes the problem (and keyword options) and returns a
:class:`MethodResult`: the assignment, a status and a proven bound. The
registry, not the method, computes the objective with ``problem.evaluate`` and
re-checks the claims (trust, then verify):

- an assignment the evaluator rejects is a solver bug and raises;
- a claimed optimum whose bound is worse than its objective (beyond the
  rounding tolerance) is downgraded to ``feasible``.
"""

from __future__ import annotations

import importlib
import inspect
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from formulations.errors import InfeasibleAssignmentError, OptionError

from .solution import Solution, Status

__all__ = ["MethodResult", "Method", "register", "methods", "get_method", "solve", "SOLVER_PACKAGES",
           "default_method", "register_default_chooser", "front_end"]

#: problem kind -> the solver package whose import registers its methods.
SOLVER_PACKAGES: dict[str, str] = {
    "partition": "solvers.algorithms.partition",
    "exits": "solvers.algorithms.exits",
    "pipeline": "solvers.algorithms.pipeline",
    "offloading": "solvers.algorithms.offloading",
    "tiers": "solvers.algorithms.partition.tier_methods",  # k-tier partitions (solver_kind "tiers")
}

_REGISTRY: dict[str, dict[str, "Method"]] = {}
_DEFAULTS: dict[str, str] = {}
_CHOOSERS: dict[str, Callable[[Any], str | None]] = {}


@dataclass
class MethodResult:
    """What a method returns (before evaluation).

    ``simulation`` is for online policies only: the one
    :class:`~formulations.offloading.simulator.SimulationResult` of the run
    (produced by the formulation's simulator, independent of the policy);
    the registry reports its objective instead of calling ``evaluate``.
    """

    status: Status
    assignment: Any = None
    bound: float | None = None
    message: str = ""
    details: dict = field(default_factory=dict)
    simulation: Any = None


@dataclass(frozen=True)
class Method:
    """A registered method.

    Attributes
    ----------
    kind, name : str
    func : callable
        ``func(problem, *, time_limit=None, **options) -> MethodResult``.
    exact : bool
        Returns proven optima (a status ``optimal``) when it finishes.
    oracle : bool
        A brute-force method meant for small instances and tests.
    searches : bool
        A search (CP-SAT / ILP) whose run time is not polynomially bounded;
        ``coinfer solve`` gives it a default time limit.
    summary : str
        First line of the function's docstring.
    """

    kind: str
    name: str
    func: Callable[..., MethodResult]
    exact: bool
    oracle: bool = False
    searches: bool = False

    @property
    def summary(self) -> str:
        doc = inspect.getdoc(self.func) or ""
        return doc.splitlines()[0] if doc else ""


def register(kind: str, name: str, *, exact: bool, default: bool = False, oracle: bool = False,
             searches: bool = False):
    """Decorator registering ``func`` as method ``name`` for problems of ``kind``."""

    def deco(func):
        _REGISTRY.setdefault(kind, {})[name] = Method(kind, name, func, exact, oracle, searches)
        if default:
            _DEFAULTS[kind] = name
        return func

    return deco


def _load(kind: str) -> dict[str, Method]:
    if kind not in SOLVER_PACKAGES:
        raise OptionError(f"no solvers for problem kind {kind!r}")
    importlib.import_module(SOLVER_PACKAGES[kind])
    return _REGISTRY.get(kind, {})


def methods(kind: str) -> list[Method]:
    """All methods registered for ``kind``, in registration order."""
    return list(_load(kind).values())


def solver_kind(problem) -> str:
    """The registry kind of ``problem``: its ``solver_kind`` if it has one, else its ``kind``."""
    return getattr(problem, "solver_kind", None) or problem.kind


def default_method(problem) -> str:
    """The default method name for ``problem`` (may depend on the instance)."""
    kind = solver_kind(problem)
    _load(kind)
    chooser = _CHOOSERS.get(kind)
    choice = chooser(problem) if chooser else None
    return choice or _DEFAULTS[kind]


def register_default_chooser(kind: str, chooser: Callable[[Any], str | None]) -> None:
    """Let the default method depend on the instance (e.g. on its constraints)."""
    _CHOOSERS[kind] = chooser


def get_method(kind: str, name: str) -> Method:
    """The method ``name`` for ``kind``; ``ValueError`` listing the known ones."""
    table = _load(kind)
    if name not in table:
        raise OptionError(f"unknown `method` {name!r} for {kind!r}; choose from {sorted(table)}")
    return table[name]


def solve(problem, method: str | None = None, time_limit: float | None = None, **options) -> Solution:
    """Solve any coinfer problem; dispatches on ``problem.kind``.

    Parameters
    ----------
    problem
        A problem object from :mod:`formulations`.
    method : str, optional
        A registered method name; the kind's default when omitted (the
        default may change between versions).
    time_limit : float, optional
        Seconds; honoured by methods that search (ILP/CP-SAT), ignored by
        polynomial ones.
    **options
        Method-specific options, accepted only with an explicit ``method``
        (so a typo never passes silently).

    Returns
    -------
    Solution
        ``objective`` is computed by ``problem.evaluate`` on the assignment.
    """
    if options and method is None:
        raise TypeError(f"options {sorted(options)} need an explicit `method`")
    name = method or default_method(problem)
    meth = get_method(solver_kind(problem), name)
    if time_limit is not None and not (time_limit > 0):
        raise OptionError(f"`time_limit` must be > 0, got {time_limit!r}")
    start = time.perf_counter()
    result = meth.func(problem, time_limit=time_limit, **options)
    objective = evaluation = None
    details = dict(result.details)
    if result.simulation is not None:
        evaluation = result.simulation
        objective = float(evaluation.objective)
    elif result.assignment is not None:
        try:
            evaluation = problem.evaluate(result.assignment)
        except InfeasibleAssignmentError as exc:
            raise RuntimeError(f"method {name!r} returned an infeasible assignment: {exc}") from exc
        objective = float(evaluation.objective)
    runtime = time.perf_counter() - start
    status = Status(result.status)
    message = result.message
    sense = getattr(problem, "sense", "min")
    bound = result.bound
    if status == Status.OPTIMAL and objective is not None and bound is not None:
        tol = 1e-6 * max(1.0, abs(objective))
        worse = bound > objective + tol if sense == "min" else bound < objective - tol
        if worse:
            status = Status.FEASIBLE
            message = (message + "; " if message else "") + "bound inconsistent with objective: downgraded"
    return Solution(
        status=status,
        objective=objective,
        bound=bound,
        assignment=result.assignment,
        method=name,
        runtime_s=runtime,
        message=message,
        kind=problem.kind,
        sense=sense,
        details=details,
        evaluation=evaluation,
    )


def front_end(kind: str, default: str | None = None):
    """Make a problem-named front-end ``f(problem, method=default, ...)``.

    With ``default=None`` the kind's registered default is used (options then
    still need an explicit method only if the caller passes none).
    """

    def run(problem, method: str | None = default, time_limit: float | None = None, **options) -> Solution:
        if getattr(problem, "kind", None) != kind:
            raise TypeError(f"expected a {kind!r} problem, got {type(problem).__name__}")
        if method is None:
            method = default_method(problem)
        return solve(problem, method=method, time_limit=time_limit, **options)

    run.__name__ = kind
    return run
