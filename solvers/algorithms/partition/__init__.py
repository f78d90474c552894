"""Partition methods (both forms: two tiers and k tiers); importing this package registers them.

======================  =====  ==================================================
method                  exact  idea
======================  =====  ==================================================
``qdmp`` (default)      yes    min cuts only inside blocks between cut vertices
                               (two tiers, latency)
``mincut``              yes    one min s-t cut over the whole DAG (DADS); for k
                               tiers over nested tier sets (any linear objective;
                               the k-tier default)
``ilp``                 yes    CP-SAT; also device budgets, k-tier constraints
                               and throughput (default with any of them)
``chain``               no     split points at cut vertices (Neurosurgeon; two tiers)
``brute_force``         yes    every feasible assignment (tiny DAGs; test oracle)
``dads_heavy``          no     throughput baseline: DADS's heavy-load stage-weighted
                               min cuts (period <= s x optimal, s loaded stages)
======================  =====  ==================================================
"""

from ...registry import register_default_chooser
from . import brute_force, chain, dads, ilp, mincut, qdmp  # noqa: F401  (registration)
from ._common import two_tier
from .bandwidth import BandwidthMap, Piece, bandwidth_map


def _default(problem) -> str | None:
    """``ilp`` with a device budget (or k-tier constraints/throughput), ``mincut`` for other k-tier
    instances, else the registered default ``qdmp``."""
    if two_tier(problem):
        return "ilp" if problem.device_budget else None
    return "ilp" if (problem.constraints or problem.device_budget or problem.throughput) else "mincut"


register_default_chooser("partition", _default)

__all__ = ["bandwidth_map", "BandwidthMap", "Piece"]
