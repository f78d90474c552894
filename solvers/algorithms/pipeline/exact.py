"""Exact pipeline scheduling: CP-SAT interval model; enumeration for the rate."""

from __future__ import annotations

import itertools
import math

import numpy as np

from formulations.pipeline import ACCURACY_TOL, rate_from_load
from formulations.deadline import Deadline, BuildTimeout, remaining
from formulations.pipeline.model import build_cpsat

from ...cpsat import bound_of, presolve_fits, run_cpsat
from ...registry import OPTIMALITY_RTOL, MethodResult, register
from ...solution import Status
from .bounds import objective_bound
from .neh import neh_order

__all__ = ["exact", "enumerate_rate", "ENUMERATE_LIMIT"]

#: For ``"rate"``, enumerate configuration vectors when there are at most this many.
ENUMERATE_LIMIT = 20_000


def enumerate_rate(problem) -> tuple[list[int] | None, float]:
    """Best configuration vector for ``"rate"`` by enumeration (order is irrelevant).

    Returns ``(config, max load ms)``; ``(None, inf)`` if none is feasible.
    O(prod_j C_j * n m), vectorized per task.
    """
    n = problem.n
    allowed = [np.flatnonzero(problem.admissible(j)) for j in range(n)]
    acc = [np.nan_to_num(a) for a in problem.accuracy]
    floor = None if problem.accuracy_min is None else problem.accuracy_min - ACCURACY_TOL
    combos = np.array(list(itertools.product(*allowed)), dtype=np.int64).reshape(-1, n)
    if combos.size == 0:
        return None, math.inf
    loads = np.zeros((len(combos), problem.m))
    mean = np.zeros(len(combos))
    for j in range(n):
        loads += problem.times[j][combos[:, j]]
        mean += acc[j][combos[:, j]]
    top = loads.max(axis=1)
    if floor is not None:
        top = np.where(mean / n >= floor, top, np.inf)
    i = int(np.argmin(top))
    if not np.isfinite(top[i]):
        return None, math.inf
    return combos[i].tolist(), float(top[i])


@register("pipeline", "exact", exact=True, searches=True)
def exact(problem, *, deadline: Deadline | None = None, num_workers: int = 1, seed: int = 0, hint: bool = True,
          enumerate_limit: int = ENUMERATE_LIMIT) -> MethodResult:
    """Exact: CP-SAT interval model with a proven bound; enumeration for small ``"rate"`` instances.

    ``"makespan"``: the model of :func:`formulations.pipeline.model.build_cpsat`
    (one optional interval per configuration and stage, no-overlap per
    stage, one order shared by all stages through precedence literals),
    warm-started by ``joint`` when tasks have a configuration choice (makespan,
    no per-task deadline), else by ``ig`` (deterministic budgets), and never
    worse than the warm start. Tasks with identical configurations are fixed
    in release order (:func:`release_canonical`: a symmetry that keeps every
    optimum value; not with per-task deadlines), and the warm start's
    makespan caps ``Cmax`` (an upper bound that keeps it and every better plan).
    ``"rate"``: enumeration when the product of admissible choices is at
    most ``enumerate_limit``, else the CP-SAT bottleneck-load model.

    Parameters
    ----------
    deadline : Deadline, optional
        The stopping rule :func:`solvers.solve` builds from ``time_limit``
        (wall-clock seconds for the whole call), model building included (the
        warm start gets at most half). When reached: status ``time_limit``
        with the better of CP-SAT's incumbent and the warm start, and the
        larger of CP-SAT's bound and the static bound of
        :func:`~.bounds.objective_bound`.
    num_workers : int
        CP-SAT workers (1 is deterministic).
    seed : int
        CP-SAT ``random_seed``.
    hint : bool
        Give the warm start to CP-SAT as a hint.

    Returns
    -------
    MethodResult
        ``optimal`` with the proven bound (``slack``: one rounding unit per
        operation on a path when times are not exact decimals),
        ``infeasible`` (the relaxed integer model is infeasible: a proof), or
        ``time_limit``. A CP-SAT plan that the float evaluator rejects (a
        deadline met only after rounding) is replaced by the warm start.

    Notes
    -----
    NP-hard for three or more stages (and for two with releases or
    configuration choice). Measured (``benchmarks/bench_pipeline.py``, one
    worker): all ten of Taillard's 20x5 optima proven, 2.5 s median, 21 s at
    most; 10-task co-inference streams: ``benchmarks/results/streams.md``.
    """
    from ortools.sat.python import cp_model

    deadline = Deadline.of(deadline)  # built by solvers.solve from time_limit
    started = deadline.start
    reason = problem.infeasibility_reason()
    if reason:
        return MethodResult(Status.INFEASIBLE, message=reason)
    n = problem.n
    if problem.objective == "rate":
        choices = math.prod(int(problem.admissible(j).sum()) for j in range(n))
        if choices <= enumerate_limit:
            return _enumerated(problem, choices)
    limit = deadline.time_limit
    warm, static = _warm_start(problem, None if limit is None else started + _warm_share(problem, limit))
    if problem.objective == "makespan":
        static = max(static, integer_load_bound(problem, remaining(deadline)))
        if warm is not None and problem.evaluate(warm).objective * (1 - OPTIMALITY_RTOL) <= static:
            return MethodResult(Status.OPTIMAL, warm, bound=static,
                                message="the warm start meets the integer stage-load bound (no search needed)")
    lb_ms = static if problem.objective == "makespan" else (n * 1000.0 / static if static > 0 else None)
    try:
        built = build_cpsat(problem, lower_bound_ms=lb_ms, deadline=deadline.at)
    except BuildTimeout as exc:
        return _with_warm(problem, warm, static, f"{exc}; returning the warm start")
    _break_symmetry(problem, built)
    if hint and warm is not None:
        _add_hint(problem, built, warm)
    if warm is not None and problem.objective == "makespan":
        _cap(problem, built, warm)
    left = remaining(deadline)
    if left is not None and left <= 0:
        return _with_warm(problem, warm, static, "time limit reached before CP-SAT; returning the warm start")
    cp_time = None if left is None else 0.9 * left  # headroom for the float re-check
    n_terms = problem.n * problem.n * problem.m + sum(problem.n_configs) * problem.m
    solver, code, backend = run_cpsat(built.model, time_limit=cp_time, num_workers=num_workers, seed=seed,
                                      presolve=presolve_fits(n_terms, cp_time))
    if code == cp_model.INFEASIBLE:
        if warm is None:  # the integer model relaxes the float one, so this is a proof
            return MethodResult(Status.INFEASIBLE, message=f"no schedule meets the constraints {backend}")
        # a float-feasible plan contradicts the relaxation's verdict: a numeric failure, never reported as infeasible
        return MethodResult(Status.FEASIBLE, warm, bound=static,
                            message=f"CP-SAT claimed infeasible, yet the warm start is feasible in floats {backend}")
    units = built.units_per_ms
    raw = bound_of(solver) / units
    bound = max(raw, static) if problem.objective == "makespan" else min(rate_from_load(n, raw), static)
    details = {"units_per_ms": units, "branches": solver.num_branches, "wall_s": solver.wall_time}
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _with_warm(problem, warm, bound, f"CP-SAT found none in time; returning the warm start {backend}", details)
    assignment = _read(problem, built, solver)
    if not problem.is_feasible(assignment):  # a deadline met only after rounding
        return _with_warm(problem, warm, bound, f"CP-SAT's plan fails the float re-check {backend}", details)
    if warm is not None and _better(problem, warm, assignment):
        assignment = warm  # never worse than the warm start
    status = Status.OPTIMAL if code == cp_model.OPTIMAL else Status.TIME_LIMIT
    return MethodResult(status, assignment, bound=bound, message=backend, details=details, slack=built.slack_ms)


#: Model rows CP-SAT's Python builder adds per second, about (for the warm-start share).
_ROWS_PER_S = 100_000


def _warm_share(problem, time_limit: float) -> float:
    """Seconds the warm start may take: half the limit, or 90% when
    the model is too large to build in the other half anyway."""
    rows = problem.n * problem.n * problem.m / 2
    return float(time_limit) * (0.9 if rows > _ROWS_PER_S * float(time_limit) / 2 else 0.5)


def _enumerated(problem, choices: int) -> MethodResult:
    n = problem.n
    config, top = enumerate_rate(problem)
    if config is None:
        return MethodResult(Status.INFEASIBLE, message=f"enumerated {choices} configuration vectors: none feasible")
    return MethodResult(
        Status.OPTIMAL, problem.assignment(range(n), config), bound=rate_from_load(n, top),
        message=f"enumerated {choices} configuration vectors", details={"enumerated": choices},
    )


def _read(problem, built, solver) -> dict:
    config = [next(c for c, v in enumerate(row) if solver.boolean_value(v)) for row in built.y]
    order = built.order(solver) if problem.objective == "makespan" else list(range(problem.n))
    return problem.assignment(order, config)


def _better(problem, a, b) -> bool:
    """Whether plan ``a`` has a strictly better float objective than ``b``."""
    va, vb = problem.evaluate(a).objective, problem.evaluate(b).objective
    return va < vb if problem.objective == "makespan" else va > vb


def _warm_start(problem, deadline):
    """``(plan, static bound)``: the ``ig`` plan (deterministic iteration
    budget, stopped by ``deadline``; None if infeasible) and the proven
    bound of :func:`~.bounds.objective_bound`."""
    from .configs import prepare
    from .joint_method import joint_models
    from .neh import default_iterations, iterated_greedy

    if problem.has_choice and joint_models(problem):
        return _joint_warm_start(problem, deadline)
    prep = prepare(problem, "bottleneck")
    if isinstance(prep, MethodResult):
        return None, objective_bound(problem)[0]
    config, static = prep[0], prep[1]
    if problem.objective == "rate":
        order = list(range(problem.n))
    else:
        order = neh_order(problem, config, deadline)
        order, _, _ = iterated_greedy(problem, config, order, time_budget=None, seed=0, deadline=deadline,
                                      iterations=default_iterations(problem.n, problem.m))
    plan = problem.assignment(order, config)
    return (plan if problem.is_feasible(plan) else None), static


def _joint_warm_start(problem, deadline):
    """``(plan, static bound)`` by the ``joint`` method (deterministic iteration budget, stopped
    by ``deadline``), the order made canonical (:func:`release_canonical`)."""
    import time

    from .joint_method import default_joint_iterations, joint

    now = time.perf_counter()
    stop = None if deadline is None else Deadline(max(deadline - now, 1e-3), start=now)
    res = joint(problem, deadline=stop, iterations=default_joint_iterations(problem.n, problem.m, max(problem.n_configs)))
    static = objective_bound(problem)[0]
    if res.assignment is None:
        return None, static
    order, config = release_canonical(problem, *problem.indices(res.assignment))
    plan = problem.assignment(order, config)
    return (plan if problem.is_feasible(plan) else None), static


def interchangeable_classes(problem) -> list[list[int]]:
    """Classes (size >= 2) of tasks with identical configurations (times and accuracies), each
    sorted by ``(release, index)``."""
    groups: dict[tuple, list[int]] = {}
    for j in range(problem.n):
        key = (problem.times[j].tobytes(), np.nan_to_num(problem.accuracy[j], nan=-1).tobytes())
        groups.setdefault(key, []).append(j)
    rel = problem.release_ms
    return [sorted(g, key=lambda j: (float(rel[j]), j)) for g in groups.values() if len(g) > 1]


def release_canonical(problem, order, config) -> tuple[list[int], list[int]]:
    """``(order, config)`` with each class of :func:`interchangeable_classes` in release order
    on the positions it occupies, each position keeping its configuration. Never worse without
    per-task deadlines: the same operations run in the same slots, and the task on the earlier
    position gets the earlier (or equal) release."""
    order, new_config = list(order), list(config)
    for cls in interchangeable_classes(problem):
        members = set(cls)
        slots = [p for p, j in enumerate(order) if j in members]
        kept = [config[order[p]] for p in slots]
        for p, j, c in zip(slots, cls, kept):
            order[p], new_config[j] = j, c
    return order, new_config


def _break_symmetry(problem, built) -> None:
    """Tasks with identical configurations run in release order (makespan, no per-task
    deadline): any schedule maps to one as good by :func:`release_canonical`, in the integer
    model too (floored releases keep their order), so every optimum value stays."""
    if built.before is None or problem.deadline_ms is not None:
        return
    for cls in interchangeable_classes(problem):
        for a, b in zip(cls, cls[1:]):
            built.model.add(built.before[a, b] == 1 if a < b else built.before[b, a] == 0)


#: Most seconds (and share of the time left) the integer stage-load bound may take.
LOAD_BOUND_S = 2.0
LOAD_BOUND_SHARE = 0.1


def integer_load_bound(problem, left: float | None) -> float:
    """Lower bound (ms) on the makespan: the least ``max_k (const_k + L_k)`` over configuration
    choices meeting the accuracy floor, with integer choices (the LP of
    :func:`~.bounds.stage_load_bound` relaxes them; ``const`` from
    :func:`~.bounds.stage_constants`).

    Solved as a small CP-SAT model (``n C`` booleans) for at most
    :data:`LOAD_BOUND_S` s and :data:`LOAD_BOUND_SHARE` of ``left``; its proven
    bound is valid at any stop. Times and constants are floored to integer units
    and accuracies relaxed by :mod:`formulations.scaling`, so the integer optimum
    is at most the float one times the units: a valid bound. ``-inf`` when none.
    """
    from ortools.sat.python import cp_model

    from formulations.pipeline.model import accuracy_rows
    from formulations.scaling import scale_costs

    from .bounds import stage_constants

    parts = stage_constants(problem)
    if parts is None:
        return -math.inf
    const = parts[0]
    n, m = problem.n, problem.m
    scaled = scale_costs(np.concatenate([problem.times[j].ravel() for j in range(n)] + [const]), reserve=3)
    ints = scaled.ints
    model = cp_model.CpModel()
    x, pos = [], 0  # x[j]: (configuration, boolean, integer times) of task j's admissible configurations
    for j in range(n):
        T = ints[pos:pos + problem.times[j].size].reshape(-1, m)
        pos += T.size
        x.append([(c, model.new_bool_var(f"x{j}_{c}"), T[c]) for c in np.flatnonzero(problem.admissible(j))])
        model.add_exactly_one(v for _, v, _ in x[j])
    if problem.accuracy_min is not None:
        acc, need = accuracy_rows(problem)
        model.add(sum(int(acc[j][c]) * v for j in range(n) for c, v, _ in x[j]) >= need)
    z = model.new_int_var(0, int(ints.sum()) + 1, "z")
    for k in range(m):
        model.add(z >= int(ints[pos + k]) + sum(int(t[k]) * v for j in range(n) for _, v, t in x[j]))
    model.minimize(z)
    cap = LOAD_BOUND_S if left is None else min(LOAD_BOUND_S, LOAD_BOUND_SHARE * max(left, 0.0))
    solver, code, _ = run_cpsat(model, time_limit=max(cap, 1e-3), num_workers=1)
    if code in (cp_model.INFEASIBLE, cp_model.MODEL_INVALID):
        return -math.inf  # no claim (the instance checks upstream report infeasibility)
    return bound_of(solver) / scaled.units


def _cap(problem, built, warm) -> None:
    """``Cmax <= ceil(warm makespan)`` in model units: keeps the warm plan (its integer makespan
    is at most its float one) and every better one, and narrows the horizon CP-SAT propagates."""
    cmax = built.model.get_int_var_from_proto_index(built.model.proto.objective.vars[0])
    built.model.add(cmax <= int(math.ceil(problem.evaluate(warm).objective * built.units_per_ms)))


def _with_warm(problem, warm, bound, message, details=None) -> MethodResult:
    if warm is None:
        return MethodResult(Status.TIME_LIMIT, bound=bound, message=message + " (no feasible warm start)",
                            details=details or {})
    value = problem.evaluate(warm).objective
    tol = 1e-9 * max(1.0, abs(value))
    met = value <= bound + tol if problem.objective == "makespan" else value >= bound - tol
    return MethodResult(Status.OPTIMAL if met else Status.TIME_LIMIT, warm, bound=bound, message=message,
                        details=details or {})


def _add_hint(problem, built, warm) -> None:
    """Hint the warm-start plan (configurations, precedences, starts)."""
    order, config = problem.indices(warm)
    for j, row in enumerate(built.y):
        for c, var in enumerate(row):
            built.model.add_hint(var, c == config[j])
    if built.start is None:
        return
    sched = problem.schedule(warm)
    pos = {j: p for p, j in enumerate(order)}
    for (i, j), lit in built.before.items():
        built.model.add_hint(lit, pos[i] < pos[j])
    for p, j in enumerate(order):
        for k in range(problem.m):
            built.model.add_hint(built.start[j][k], int(math.floor(sched.start_ms[p, k] * built.units_per_ms + 1e-9)))
