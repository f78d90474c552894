"""The partition problem as a CP-SAT integer program.

Variables (booleans): ``x[v] = 1`` iff layer ``v`` runs on the device;
``y[u] = 1`` iff ``u`` sends its output up; ``z = 1`` iff any layer runs on
the server (RTT). Constraints::

    x[v] = 1                       inputs and device pins;  x[v] = 0 server pins
    x[w] <= x[u]                   every edge u -> w (closure)
    y[u] >= x[u] - x[w]            every edge u -> w (output sent once)
    z    >= 1 - x[v]               every output v (a server layer reaches one)
    sum_v r[v] x[v] <= budget_r    every resource r in device_budget

Objective (minimize)::

    sum_v device_ms[v] x[v] + (server_ms[v] + download_ms[v]) (1 - x[v])
        + sum_u upload_ms[u] y[u] + rtt_ms z

Costs are scaled to integers by :mod:`formulations.scaling` (floor to ns),
so the integer optimum is a proven lower bound in ms. Resource usage is
scaled exactly when every value is a whole number, otherwise to micro-units
with usage rounded up and limits down (conservative: never accepts a
partition over budget).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..scaling import scale_ms

__all__ = ["PartitionModel", "build_cpsat"]


@dataclass
class PartitionModel:
    """A CP-SAT model and its variables.

    Attributes
    ----------
    model : ortools.sat.python.cp_model.CpModel
    x : list
        Device indicator per layer index.
    units_per_ms : int
        Divide the objective (and bound) by this for ms.
    """

    model: object
    x: list
    units_per_ms: int


def _resource_ints(values: np.ndarray, limit: float) -> tuple[list[int], int]:
    if np.all(values == np.round(values)) and float(limit) == math.floor(limit):
        return [int(v) for v in values], int(limit)
    scale = 10**6
    return [int(math.ceil(v * scale)) for v in values], int(math.floor(limit * scale))


def build_cpsat(problem) -> PartitionModel:
    """Build the CP-SAT model of ``problem`` (see module docstring). O(n + m)."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    n = problem.n_layers
    topo = problem.topology
    x = [model.new_bool_var(f"x{v}") for v in range(n)]
    serve = problem.server_ms + problem.download_ms
    costs = np.concatenate([problem.device_ms, serve, problem.upload_ms, [problem.network.rtt_ms]])
    ints, units = scale_ms(costs)
    dev_i, srv_i, up_i, rtt_i = ints[:n], ints[n : 2 * n], ints[2 * n : 3 * n], int(ints[-1])

    for v in topo.inputs.tolist():
        model.add(x[v] == 1)
    for nm in problem.pinned["device"]:
        model.add(x[problem.index[nm]] == 1)
    for nm in problem.pinned["server"]:
        model.add(x[problem.index[nm]] == 0)
    terms = []
    senders = np.unique(topo.src).tolist()
    y = {u: model.new_bool_var(f"y{u}") for u in senders}
    for u, w in zip(topo.src.tolist(), topo.dst.tolist()):
        model.add(x[w] <= x[u])
        model.add(y[u] >= x[u] - x[w])
    z = model.new_bool_var("z")
    for v in topo.sinks.tolist():
        model.add(z >= 1 - x[v])
    for res, limit in problem.device_budget.items():
        usage = problem.resources.get(res, np.zeros(n))
        coeffs, cap = _resource_ints(usage, limit)
        model.add(sum(c * x[v] for v, c in enumerate(coeffs) if c) <= cap)
    for v in range(n):
        terms.append(int(dev_i[v]) * x[v] + int(srv_i[v]) * (1 - x[v]))
    for u in senders:
        if up_i[u]:
            terms.append(int(up_i[u]) * y[u])
    terms.append(rtt_i * z)
    model.minimize(sum(terms))
    return PartitionModel(model=model, x=x, units_per_ms=units)
