"""One registry from (problem kind, method name) to the method function.

The CLI, :func:`solve` and the tests all enumerate methods from here. A method
function takes the problem (and keyword options) and returns a
:class:`MethodResult`: the assignment, a status and a proven bound. The
registry, not the method, computes the objective with ``problem.evaluate`` and
re-checks the claims (trust, then verify):

- an assignment the evaluator rejects is a solver bug and raises;
- a bound on the wrong side of the objective beyond the tolerance is
  invalid: dropped, and a claimed optimum downgraded to ``feasible``; one
  within the tolerance is reported as the objective itself (a bound never
  promises more than the plan in hand);
- ``optimal`` stands only when the objective and the bound agree within
  ``1e-6 * |objective|`` (relative to the instance's own scale: tiny
  objectives get a tiny tolerance) plus the method's stated rounding slack
  (:attr:`MethodResult.slack`); otherwise ``feasible`` with the bound.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from formulations.deadline import Deadline
from formulations.errors import InfeasibleAssignmentError, OptionError, UnknownOptionError

from .solution import Solution, Status
from formulations.tolerances import OPTIMALITY_RTOL

__all__ = ["MethodResult", "Method", "register", "methods", "get_method", "solve", "SOLVER_PACKAGES",
           "default_method", "register_default_chooser", "front_end", "resolve_method", "check_problem",
           "OPTIMALITY_RTOL"]

#: problem kind -> the solver package whose import registers its methods.
SOLVER_PACKAGES: dict[str, str] = {
    "partition": "solvers.algorithms.partition",
    "exits": "solvers.algorithms.exits",
    "pipeline": "solvers.algorithms.pipeline",
    "offloading": "solvers.algorithms.offloading",
    "placement": "solvers.algorithms.placement",
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
    #: Most the float objective of ``assignment`` may exceed the optimum
    #: because of the method's integer rounding (objective units, e.g. one
    #: ns per rounded term); 0 for float methods. Added to the tolerance of
    #: ``optimal`` by :func:`solve`.
    slack: float = 0.0


@dataclass(frozen=True)
class Method:
    """A registered method.

    Attributes
    ----------
    kind, name : str
    func : callable
        ``func(problem, *, deadline=None, **options) -> MethodResult``: the
        :class:`~formulations.deadline.Deadline` :func:`solve` built from
        ``time_limit``, checked by every loop of the method. (A function
        still taking ``time_limit=None`` instead gets the seconds left: the
        former convention, kept so an unmigrated method keeps working.)
    exact : bool
        Returns proven optima (a status ``optimal``) when it finishes.
    oracle : bool
        A brute-force method meant for small instances and tests.
    searches : bool
        A search (CP-SAT / ILP) whose run time is not polynomially bounded;
        ``coinfer solve`` gives it a default time limit.
    applies : callable or None
        ``applies(problem) -> bool``: whether the method takes this instance
        at all (e.g. two tiers only, a throughput objective only); None: every
        instance of the kind. :func:`methods` filters by it; a method called
        on an instance it does not take raises ``OptionError`` saying why.
    summary : str
        First line of the function's docstring.
    """

    kind: str
    name: str
    func: Callable[..., MethodResult]
    exact: bool
    oracle: bool = False
    searches: bool = False
    applies: Callable[[Any], bool] | None = None

    @functools.cached_property
    def options(self) -> tuple[frozenset, bool]:
        """``(keyword options the function takes, whether it takes **kwargs)``; computed once."""
        params = inspect.signature(self.func).parameters
        takes_any = any(p.kind == inspect.Parameter.VAR_KEYWORD for p in params.values())
        allowed = frozenset(nm for nm, p in params.items() if p.kind == inspect.Parameter.KEYWORD_ONLY)
        return allowed - {"time_limit", "deadline"}, takes_any

    @functools.cached_property
    def takes_deadline(self) -> bool:
        """Whether the function takes ``deadline=`` (else the former ``time_limit=``)."""
        return "deadline" in inspect.signature(self.func).parameters

    def run(self, problem, deadline: Deadline, **options) -> MethodResult:
        """Call the function with ``deadline`` (or, for a function of the former convention, its seconds left)."""
        if self.takes_deadline:
            return self.func(problem, deadline=deadline, **options)
        left = deadline.remaining()
        return self.func(problem, time_limit=None if left is None else max(left, 1e-3), **options)

    @property
    def summary(self) -> str:
        doc = inspect.getdoc(self.func) or ""
        return doc.splitlines()[0] if doc else ""


def register(kind: str, name: str, *, exact: bool, default: bool = False, oracle: bool = False,
             searches: bool = False, applies: Callable[[Any], bool] | None = None):
    """Decorator registering ``func`` as method ``name`` for problems of ``kind`` (fields: :class:`Method`)."""

    def deco(func):
        _REGISTRY.setdefault(kind, {})[name] = Method(kind, name, func, exact, oracle, searches, applies)
        if default:
            _DEFAULTS[kind] = name
        return func

    return deco


def _load(kind: str) -> dict[str, Method]:
    if kind not in SOLVER_PACKAGES:
        raise OptionError(f"no solvers for problem kind {kind!r}")
    importlib.import_module(SOLVER_PACKAGES[kind])
    return _REGISTRY.get(kind, {})


def methods(kind: str, problem: Any = None) -> list[Method]:
    """The methods registered for ``kind``, in registration order; with ``problem``, those that take it.

    A method may take only some instances of its kind (``Method.applies``:
    ``qdmp`` two tiers, ``dads_heavy`` a throughput objective); ``methods(kind,
    problem)`` lists the ones that do, so a loop over them never meets an
    ``OptionError`` for the instance's form.
    """
    found = list(_load(kind).values())
    if problem is None:
        return found
    return [m for m in found if m.applies is None or m.applies(problem)]


def default_method(problem) -> str:
    """The default method name for ``problem`` (may depend on the instance)."""
    kind = problem.kind
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


# OPTIMALITY_RTOL (formulations.tolerances): the objective may exceed the bound by
# ``OPTIMALITY_RTOL * |objective|`` plus the method's stated slack. Purely
# relative: an absolute floor (the former ``max(1, |objective|)``) let a
# 1e-9 ms plan pass as optimal against a 1e-10 ms bound.


def check_problem(problem, kind: str | None = None) -> None:
    """``TypeError`` unless ``problem`` is a coinfer problem (of ``kind``, if given)."""
    got = getattr(problem, "kind", None)
    if not isinstance(got, str) or got not in SOLVER_PACKAGES or not callable(getattr(problem, "evaluate", None)):
        want = f"a {kind!r} problem" if kind else "a coinfer problem (PartitionProblem, ExitProblem, PipelineProblem, OffloadingProblem)"
        raise TypeError(f"expected {want}, got {type(problem).__name__}")
    if kind is not None and got != kind:
        raise TypeError(f"expected a {kind!r} problem, got a {got!r} problem ({type(problem).__name__})")


def resolve_method(problem, method: str | None, options: dict) -> Method:
    """The one rule of :func:`solve` and every front-end for the method and options.

    Without ``method``, the kind's default for this instance
    (:func:`default_method`: the registered default, switched by the
    instance's features). Options need an explicit ``method`` (the default
    may change between versions, so its options may too) and must be
    keyword options of that method's function; others raise ``TypeError``
    naming the method and the options it takes (a typo never passes
    silently).
    """
    if options and method is None:
        raise UnknownOptionError(f"options {sorted(options)} need an explicit `method`")
    name = method if method is not None else default_method(problem)
    if not isinstance(name, str):
        raise TypeError(f"`method` must be a method name (str), got {type(name).__name__}")
    meth = get_method(problem.kind, name)
    if not options:
        return meth
    allowed, takes_any = meth.options
    unknown = sorted(set(options) - allowed)
    if unknown and not takes_any:
        raise UnknownOptionError(f"method {name!r} got unexpected keyword option(s) {unknown}; "
                                 f"its options: {sorted(allowed)}")
    return meth


def _checked_bound(result: MethodResult, objective, sense: str):
    """Verify the method's claims against the float objective.

    Returns ``(status, bound, message, tol)``. A bound on the wrong side of
    the objective (beyond the tolerance) is invalid: it is dropped and an
    ``optimal`` claim downgraded to ``feasible``. ``optimal`` stands only when
    ``|objective - bound| <= tol``; otherwise it becomes ``feasible`` with
    the (valid) bound.
    """
    status, bound, message = Status(result.status), result.bound, result.message
    tol = None
    if objective is not None and bound is not None and math.isfinite(objective):
        slack = float(result.slack or 0.0)
        tol = OPTIMALITY_RTOL * abs(objective) + slack
        bound = float(bound)
        wrong_side = bound > objective + tol if sense == "min" else bound < objective - tol
        if wrong_side:
            note = f"bound {bound:.9g} on the wrong side of the objective: dropped"
            message = (message + "; " if message else "") + note
            bound = None
            if status == Status.OPTIMAL:
                status = Status.FEASIBLE
        else:  # within the tolerance past the objective: the plan in hand is the tighter promise
            bound = min(bound, objective) if sense == "min" else max(bound, objective)
        if bound is None:
            pass
        elif status == Status.OPTIMAL and abs(objective - bound) > tol:
            status = Status.FEASIBLE
            message = (message + "; " if message else "") + (
                f"objective {objective:.9g} not within {tol:.3g} of the proven bound {bound:.9g}: not proven optimal")
    elif status == Status.OPTIMAL and objective is not None and bound is None:
        status = Status.FEASIBLE
        message = (message + "; " if message else "") + "no proven bound: not proven optimal"
    return status, bound, message, tol


def _plain(value):
    """A numpy scalar as the Python number it holds (numpy values are accepted wherever numbers are)."""
    import numpy as np

    if isinstance(value, np.generic) and not isinstance(value, (np.str_, np.bytes_)):
        return value.item()
    return value


def solve(problem, method: str | None = None, time_limit: float | None = None, **options) -> Solution:
    """Solve any coinfer problem; dispatches on ``problem.kind``.

    Parameters
    ----------
    problem
        A problem object from :mod:`formulations`.
    method : str, optional
        A registered method name; the kind's default for this instance when
        omitted (:func:`resolve_method`; the default may change between
        versions).
    time_limit : float, optional
        Wall-clock seconds for the whole call, model building included:
        :func:`solve` turns it into one
        :class:`~formulations.deadline.Deadline` that every loop of the
        method checks. Every method honours it (within 10% + 0.1 s of work,
        ``tests/common/test_stopping_rule.py``); at the limit it returns
        status ``time_limit`` with its best plan so far (if any) and a valid
        bound, never an exception.
    **options
        Method-specific options, accepted only with an explicit ``method``
        and only if that method takes them (so a typo never passes silently).

    Returns
    -------
    Solution
        ``objective`` is computed by ``problem.evaluate`` on the assignment;
        ``status`` is ``optimal`` only when the objective and a valid bound
        agree within ``details["optimality_tol"]`` (``1e-6 * max(1,
        |objective|)`` plus the method's stated rounding slack; see
        ``docs/scaling.md``); a bound on the wrong side of the objective is
        dropped.

    Raises
    ------
    TypeError
        ``problem`` is not a coinfer problem, or an unknown option.
    ValueError
        Unknown method or a bad ``time_limit``.
    """
    check_problem(problem)
    options = {key: _plain(value) for key, value in options.items()}
    time_limit = _plain(time_limit)
    meth = resolve_method(problem, method, options)
    name = meth.name
    if time_limit is not None and (isinstance(time_limit, bool) or not isinstance(time_limit, (int, float))
                                   or not (time_limit > 0) or math.isnan(time_limit)):
        raise OptionError(f"`time_limit` must be a number of seconds > 0, got {time_limit!r}")
    deadline = Deadline(time_limit)  # the one stopping rule, checked by every loop of the method
    start = deadline.start
    result = meth.run(problem, deadline, **options)
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
    sense = getattr(problem, "sense", "min")
    status, bound, message, tol = _checked_bound(result, objective, sense)
    if tol is not None:
        details["optimality_tol"] = tol
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
        unit=problem.unit,
        details=details,
        evaluation=evaluation,
    )


def front_end(kind: str):
    """Make a problem-named front-end ``f(problem, method=None, ...)``.

    It follows :func:`solve`'s one rule (:func:`resolve_method`) for the
    default method and for options (the kind's default, switched by the
    instance's features).
    """

    def run(problem, method: str | None = None, time_limit: float | None = None, **options) -> Solution:
        check_problem(problem, kind)
        return solve(problem, method=method, time_limit=time_limit, **options)

    run.__name__ = kind
    return run
