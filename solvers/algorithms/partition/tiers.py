"""The k-tier algorithms behind the ``partition`` methods ``mincut``, ``ilp`` and ``brute_force``.

``mincut`` (the k-tier default): one max-flow over nested closed sets (any
weights); ``ilp`` (:mod:`.tier_ilp`): CP-SAT, also constraints and device
budgets; ``brute_force`` (:mod:`.tier_brute_force`): every monotone tier
assignment (tiny DAGs; the oracle).

The registered ``partition`` methods (``mincut``, ``ilp``, ``brute_force``)
call these for a :class:`~formulations.partition.tiers.TieredPartitionProblem`
(one registry kind; docs/tiers.md).
"""

from __future__ import annotations

import numpy as np

from formulations.partition.tier_cutgraph import build_tier_network, objective_terms, tiers_from_side

from formulations.deadline import Deadline
from formulations.errors import OptionError

from ...registry import MethodResult
from ...solution import Status
from .._stopping import stopped
from ._maxflow import min_cut

__all__ = ["tiers_mincut", "weighted_min_cut"]

def weighted_min_cut(problem, latency_weight: float, energy_weight: float, backend: str = "ortools",
                     info: dict | None = None):
    """Minimize ``latency_weight*latency + energy_weight*energy`` by one max-flow.

    Ignores ``constraints`` and ``device_budget``; the pins must be
    satisfiable (see ``problem.infeasibility_reason``).

    Returns
    -------
    tiers : ndarray of int
        An optimal tier vector (exact up to the floor scaling of
        :mod:`formulations.scaling`: at most 1 ns-unit per cut arc above the optimum).
    bound : float
        A proven lower bound on the weighted optimum (the floor-scaled
        integer flow plus the constant); with ``backend="networkx"`` the
        float cut value instead (no proof).

    Notes
    -----
    O(k (n + m)) arcs; OR-Tools push-relabel, near linear on DNN DAGs.
    """
    costs = objective_terms(problem, latency_weight, energy_weight)
    cut = build_tier_network(problem, costs)
    scaling: dict = {}
    side, lower = min_cut(cut.network, backend=backend, info=scaling)
    if info is not None:
        # the float cost of the cut exceeds its floored integer cost by < 1 unit per finite arc it crosses
        exact = scaling.get("exact", False) or backend != "ortools"
        finite = int(np.isfinite(cut.network.capacity_ms).sum())
        info["slack"] = 0.0 if exact or scaling.get("coarse") else finite / scaling["units_per_ms"]
    return tiers_from_side(cut, side), cut.constant + float(lower[0])


def tiers_mincut(problem, *, deadline: Deadline | None = None, backend: str = "ortools") -> MethodResult:
    """Exact k-tier partitioning by one min s-t cut (latency, energy or weighted objective).

    Builds :func:`formulations.partition.tier_cutgraph.build_tier_network`
    (nested closed sets, RTTs as auxiliary nodes) and solves one max-flow.

    Parameters
    ----------
    problem : TieredPartitionProblem
    backend : {"ortools", "networkx"}
        Max-flow implementation (``solvers.algorithms.partition._maxflow.min_cut``).
    deadline : Deadline, optional
        Checked before the max-flow (which is not interrupted): past it,
        status ``time_limit`` and no plan.

    Returns
    -------
    MethodResult
        ``optimal`` with the floor-scaled flow as ``bound`` (a proven lower
        bound), or ``infeasible`` when the pins contradict.

    Raises
    ------
    OptionError
        For ``constraints`` or ``device_budget`` (use ``ilp``; the CLI exits 2).

    Notes
    -----
    O(k (n + m)) arcs; push-relabel O(V^2 sqrt(E)) worst case, near linear
    on DNN DAGs (about 10 ms for 700 layers on 3 tiers).
    """
    if problem.throughput:
        raise OptionError("method 'mincut' minimizes a sum (latency, energy); the throughput objective "
                          "(a bottleneck) needs method='ilp'")
    if problem.constraints or problem.device_budget:
        raise OptionError(
            "method 'mincut' cannot handle `constraints` or `device_budget`; use method='ilp' "
            "(or 'brute_force' for tiny instances)"
        )
    reason = problem.infeasibility_reason()
    if reason:
        return MethodResult(Status.INFEASIBLE, message=reason)
    if Deadline.of(deadline).expired():
        return stopped("before the max-flow")
    a, b = problem.objective_weights
    scaling: dict = {}
    tiers, bound = weighted_min_cut(problem, a, b, backend=backend, info=scaling)
    return MethodResult(
        Status.OPTIMAL, problem.assignment(tiers), bound=bound, slack=scaling["slack"],
        details={"max_flows": 1, "layers_per_tier": np.bincount(tiers, minlength=problem.n_tiers).tolist()},
    )
