"""Layer placement methods (kind ``"placement"``); importing this package registers them.

======================  =====  ==================================================
method                  exact  idea
======================  =====  ==================================================
``dp`` (default)        yes    DP over (used devices, last device, layers placed),
                               EdgeShard's recursion, vectorized; both objectives
``cpsat``               yes    CP-SAT; also ``constraints.latency_max_ms`` (the
                               default with constraints)
``brute_force``         yes    every device order and every split (test oracle)
``ring``                no     exo's default: devices by memory, layers in
                               proportion to memory, along the ring
``greedy``              no     fastest device first, filled up to its memory
======================  =====  ==================================================
"""

from __future__ import annotations

from .dp import dp  # noqa: F401  (registration order = listing order)
from .cpsat import cpsat  # noqa: F401
from .baselines import greedy, ring  # noqa: F401
from .brute_force import brute_force  # noqa: F401
from ...registry import register_default_chooser

# the DP is exact without side constraints; a latency cap needs CP-SAT
register_default_chooser("placement", lambda problem: "cpsat" if problem.constraints else None)

__all__ = ["dp", "cpsat", "brute_force", "ring", "greedy"]
