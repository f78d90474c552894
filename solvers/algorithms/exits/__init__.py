"""Exit placement methods; importing this package registers them.

======================  =====  ==================================================
method                  exact  idea
======================  =====  ==================================================
``exact`` (default)     yes    CP-SAT over placement, kept exits and thresholds
                               (default: ``dp`` when :func:`dp_is_exact`)
``dp``                  cond.  DP over (block, node, last exit): optimal for fixed
                               nested thresholds, else a global-threshold heuristic;
                               ``model="rates"``: LEIME's rate model (:mod:`.rates`)
``greedy``              no     add/remove exits + threshold coordinate descent
``msdnet``              no     MSDNet geometric exit quotas
``edgent``              no     Edgent: deepest exit, fastest split
``brute_force``         yes    every distinct stop behaviour (tiny; test oracle)
======================  =====  ==================================================

Heuristics report :func:`~.bound.lagrangian_bound` as ``bound``;
:func:`~.holdout.holdout` measures a plan on unseen samples.
"""

from . import exact  # noqa: F401,I001  (registration order = listing order)
from . import dp, heuristics, brute_force  # noqa: F401,I001
from ...registry import register_default_chooser
from .bound import lagrangian_bound
from .dp import dp_is_exact
from .holdout import HoldoutReport, holdout, split_samples

# the exact DP when its condition holds (same optimum, milliseconds instead of CP-SAT)
register_default_chooser("exits", lambda problem: "dp" if dp_is_exact(problem) else None)

__all__ = ["dp_is_exact", "lagrangian_bound", "holdout", "split_samples", "HoldoutReport"]
