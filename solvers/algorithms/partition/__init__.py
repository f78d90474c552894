"""Partition methods; importing this package registers them.

======================  =====  ============================================
method                  exact  idea
======================  =====  ============================================
``qdmp`` (default)      yes    min cuts only inside blocks between cut vertices
``mincut``              yes    one min s-t cut over the whole DAG (DADS)
``ilp``                 yes    CP-SAT; also device budgets (default then)
``chain``               no     split points at cut vertices (Neurosurgeon)
``brute_force``         yes    every closed set (tiny DAGs; test oracle)
======================  =====  ============================================
"""

from ...registry import register_default_chooser
from . import brute_force, chain, ilp, mincut, qdmp  # noqa: F401  (registration)
from .bandwidth import BandwidthMap, Piece, bandwidth_map

register_default_chooser("partition", lambda problem: "ilp" if problem.device_budget else None)

__all__ = ["bandwidth_map", "BandwidthMap", "Piece"]
