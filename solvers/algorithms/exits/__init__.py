"""Exit placement methods; importing this package registers them.

======================  =====  ==================================================
method                  exact  idea
======================  =====  ==================================================
``exact``               yes    CP-SAT over placement, kept exits and thresholds
                               (on request: it may take a minute on 1000 samples)
``dp`` (default)        cond.  DP over (block, node, last exit): optimal for fixed
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
from .bound import lagrangian_bound
from .dp import dp_is_exact
from .holdout import HoldoutReport, holdout, split_samples

# The default is ``dp``: exact (status optimal) when :func:`dp_is_exact`, else a fast plan with the
# Lagrangian bound; ``exact`` (CP-SAT) on request.

__all__ = ["dp_is_exact", "lagrangian_bound", "holdout", "split_samples", "HoldoutReport"]
