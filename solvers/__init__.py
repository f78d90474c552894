"""coinfer solvers: algorithms that turn a problem into a :class:`Solution`.

Front-ends
----------
solve(problem, method=None, time_limit=None, **options)
    Any problem; dispatches on ``problem.kind``.
partition(problem, method=None, time_limit=None, **options)
    DNN DAG partitioning (methods: qdmp, mincut, ilp, chain, brute_force).
bandwidth_map(problem, min_mbps, max_mbps, method="qdmp")
    Optimal partition as a function of uplink bandwidth.
methods(kind, problem=None)
    The registered methods of a problem kind (with ``problem``: those that take it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from formulations.errors import CoinferError, InfeasibleAssignmentError, InstanceError, OptionError

from .registry import MethodResult, front_end, get_method, methods, solve
from .solution import Solution, Status

if TYPE_CHECKING:
    from formulations.base import Problem

    from .algorithms.partition.bandwidth import BandwidthMap
    from .pareto_front import ParetoFront

partition = front_end("partition")  # default: qdmp (ilp with a budget); k-tier: mincut (ilp with constraints)
partition.__name__ = "partition"
partition.__doc__ = """Solve a :class:`~formulations.partition.PartitionProblem`.

Parameters
----------
problem : PartitionProblem
method : {"qdmp", "mincut", "ilp", "chain", "brute_force"}
    ``qdmp`` (default; ``ilp`` when the instance has a ``device_budget``,
    the same rule as :func:`solve`) and ``mincut`` are exact min-cut
    methods; ``ilp`` is exact CP-SAT and also handles device budgets; ``chain`` is a fast
    heuristic (exact on chains); ``brute_force`` is for tiny DAGs.
time_limit : float, optional
    Wall-clock seconds for the whole call (every method).
**options
    Method options, e.g. ``backend="networkx"`` for ``mincut``/``qdmp``.

Returns
-------
Solution
    ``assignment = {"device": [...], "server": [...]}``; ``objective`` is the
    latency in ms computed by ``problem.evaluate``.

Examples
--------
>>> from formulations import PartitionProblem
>>> p = PartitionProblem.from_lists(
...     ["in", "conv", "fc"], [0, 30, 5], [0, 3, 0.5], [150528, 4096, 40],
...     [("in", "conv"), ("conv", "fc")], uplink_mbps=100)
>>> sol = partition(p)
>>> sol.status.value, round(sol.objective, 3), sol.assignment["device"]
('optimal', 15.545, ['in'])
"""


exits = front_end("exits")
exits.__doc__ = "Solve an exit-placement problem (see ``solvers.algorithms.exits``)."
pipeline = front_end("pipeline")
pipeline.__doc__ = "Solve a pipeline / flow-shop problem (see ``solvers.algorithms.pipeline``)."
offloading = front_end("offloading")
offloading.__doc__ = "Solve an online-offloading problem (see ``solvers.algorithms.offloading``)."
placement = front_end("placement")
placement.__doc__ = "Place a chain of layers on a cluster of devices (see ``solvers.algorithms.placement``)."


def bandwidth_map(problem: Problem, min_mbps: float, max_mbps: float, **kwargs: Any) -> BandwidthMap:
    """See :func:`solvers.algorithms.partition.bandwidth.bandwidth_map`."""
    from .algorithms.partition.bandwidth import bandwidth_map as _bandwidth_map

    return _bandwidth_map(problem, min_mbps, max_mbps, **kwargs)


def pareto(problem: Problem, *, objectives: tuple[str, str] | None = None, time_limit: float | None = None,
           max_points: int = 2000) -> ParetoFront:
    """See :func:`solvers.pareto_front.pareto` (imported on first use, like :func:`bandwidth_map`)."""
    from .pareto_front import pareto as _pareto

    return _pareto(problem, objectives=objectives, time_limit=time_limit, max_points=max_points)

__all__ = ["solve", "partition", "exits", "pipeline", "offloading", "placement", "bandwidth_map", "pareto", "methods", "get_method", "Solution", "Status", "MethodResult",
           "CoinferError", "InstanceError", "OptionError", "InfeasibleAssignmentError"]
