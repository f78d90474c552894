"""Exact layer placement by CP-SAT: both objectives, memory caps and a latency cap."""

from __future__ import annotations

import math

import numpy as np

from formulations.deadline import Deadline, remaining
from formulations.placement.problem import LATENCY_RTOL, MEMORY_RTOL
from formulations.scaling import limit_units, scale_constraint, scale_costs

from ...cpsat import bound_of, run_cpsat
from ...registry import MethodResult, register
from ...solution import Status
from .dp import transfer_tables

__all__ = ["cpsat"]


def _model(problem, throughput: bool):
    """The CP-SAT model: ``x[j][d]`` (layer j on device d), one block of layers per device, the
    transfers ``p[j][a][b]`` (layer j - 1 on a, j on b), and the integer latency (or period)."""
    from ortools.sat.python import cp_model

    k, n = problem.n_devices, problem.n_layers
    model = cp_model.CpModel()
    x = [[model.new_bool_var(f"x{j}_{d}") for d in range(k)] for j in range(n)]
    for j in range(n):
        model.add_exactly_one(x[j])
    for d in range(k):  # each device runs one contiguous range: at most one entry into it
        enters = [x[0][d]]
        for j in range(1, n):
            e = model.new_bool_var(f"enter{j}_{d}")
            model.add_implication(e, x[j][d])
            model.add_implication(e, x[j - 1][d].Not())
            model.add_bool_or([x[j][d].Not(), x[j - 1][d], e])
            enters.append(e)
        model.add(sum(enters) <= 1)
    pairs = {}
    for j in range(1, n):
        for a in range(k):
            for b in range(k):
                if a != b:
                    v = model.new_bool_var(f"p{j}_{a}_{b}")
                    model.add_bool_and([x[j - 1][a], x[j][b]]).only_enforce_if(v)
                    model.add_bool_or([x[j - 1][a].Not(), x[j][b].Not(), v])
                    pairs[j, a, b] = v
    for d in range(k):  # memory: a relaxation, plans re-checked in floats
        scaled, cap = scale_constraint(problem.layer_mb, float(problem.memory_mb[d]), rtol=MEMORY_RTOL)
        model.add(sum(int(c) * x[j][d] for j, c in enumerate(scaled.ints.tolist()) if c) <= cap)
    return model, x, pairs


def _terms(problem, with_latency: bool):
    """Float terms: compute[d][j], first[d], between[a][b][j], last[d] (ms)."""
    first, between, last = transfer_tables(problem, with_latency=with_latency)
    return problem.layer_ms, first, between, last


def _linear(x, pairs, terms, scaled_of, n, k):
    compute, first, between, last = terms
    expr = sum(scaled_of(compute[d, j]) * x[j][d] for j in range(n) for d in range(k))
    expr += sum(scaled_of(first[d]) * x[0][d] + scaled_of(last[d]) * x[n - 1][d] for d in range(k))
    expr += sum(scaled_of(between[a, b, j]) * v for (j, a, b), v in pairs.items())
    return expr


@register("placement", "cpsat", exact=True, searches=True)
def cpsat(problem, *, deadline: Deadline | None = None, num_workers: int = 1, seed: int = 0) -> MethodResult:
    """Exact placement by CP-SAT, also with ``constraints.latency_max_ms`` (the default then).

    One boolean per (layer, device) with at most one entry into each device
    (contiguous ranges, each device once), one per (boundary, device pair)
    for the transfers. Latency: the sum of floor-scaled compute and transfer
    times (a valid lower bound; ``slack`` one unit per term). Throughput: the
    period is at least each device's compute and each transfer's bandwidth
    time; the latency cap, scaled as a relaxation. Plans are re-checked in
    floats (memory, cap); a float-infeasible plan is excluded by a no-good cut
    and the model solved again.

    Notes
    -----
    O(n k^2) variables for ``n`` layers and ``k`` devices; NP-hard with the
    latency cap (a resource-constrained shortest path).
    """
    from ortools.sat.python import cp_model

    deadline = Deadline.of(deadline)  # built by solvers.solve from time_limit
    reason = problem.infeasibility_reason()
    if reason:
        return MethodResult(Status.INFEASIBLE, message=reason)
    k, n = problem.n_devices, problem.n_layers
    throughput = problem.objective == "throughput"
    model, x, pairs = _model(problem, throughput)
    lat_terms = _terms(problem, with_latency=True)
    flat = np.concatenate([lat_terms[0].ravel(), lat_terms[1], lat_terms[2].ravel(), lat_terms[3]])
    lat_scaled = scale_costs(flat, reserve=2)
    units = lat_scaled.units
    latency = _linear(x, pairs, lat_terms, lambda v: int(math.floor(v * units)), n, k)
    n_terms = n + n + 2
    cap = problem.constraints.get("latency_max_ms")
    if cap is not None:
        model.add(latency <= limit_units(cap, units, exact=False, rtol=LATENCY_RTOL, n_terms=n_terms,
                                         top=float(flat.sum())))
    if throughput:
        compute, first, between, last = _terms(problem, with_latency=False)
        top = float(max(compute.sum(axis=1).max(), first.max(), between.max(), last.max()))
        p_units = scale_costs([top], reserve=2).units
        period = model.new_int_var(0, int(math.ceil(top * p_units)) + 1, "period")
        for d in range(k):
            model.add(period >= sum(int(math.floor(compute[d, j] * p_units)) * x[j][d] for j in range(n)))
            model.add(period >= int(math.floor(first[d] * p_units)) * x[0][d])
            model.add(period >= int(math.floor(last[d] * p_units)) * x[n - 1][d])
        for (j, a, b), v in pairs.items():
            model.add(period >= int(math.floor(between[a, b, j] * p_units)) * v)
        model.minimize(period)
    else:
        model.minimize(latency)
    for _ in range(25):
        left = remaining(deadline)
        if left is not None and left <= 0:
            return MethodResult(Status.TIME_LIMIT, message="time limit reached")
        solver, code, message = run_cpsat(model, time_limit=left, num_workers=num_workers, seed=seed)
        if code == cp_model.INFEASIBLE:
            return MethodResult(Status.INFEASIBLE, message=f"no placement meets memory and the constraints {message}")
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return MethodResult(Status.TIME_LIMIT, message=message)
        stages, j = [], 0
        while j < n:
            d = next(d for d in range(k) if solver.boolean_value(x[j][d]))
            end = j
            while end < n and solver.boolean_value(x[end][d]):
                end += 1
            stages.append((d, j, end))
            j = end
        plan = problem.plan(stages)
        if problem.is_feasible(plan):
            break
        model.add_bool_or([x[a][d].Not() for d, lo, hi in stages for a in range(lo, hi)])  # no-good
    else:
        return MethodResult(Status.UNKNOWN, message="the integer model kept proposing plans the float check rejects")
    raw = bound_of(solver) / (p_units if throughput else units)
    bound = raw if not throughput else (math.inf if raw <= 0 else 1000.0 / raw)
    slack = 0.0 if throughput else (0.0 if lat_scaled.exact else n_terms / units)
    status = Status.OPTIMAL if code == cp_model.OPTIMAL else Status.TIME_LIMIT
    if throughput and status == Status.OPTIMAL:
        # the period's floors lose < 1 unit per term of the largest stage: state it in tokens/s
        slack = 1000.0 / max(raw, 1e-300) - 1000.0 / (raw + (n + 1) / p_units)
    return MethodResult(status, plan, bound=bound, message=message, slack=slack,
                        details={"devices_used": len(stages)})
