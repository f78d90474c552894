"""The k-tier partition methods (registry kind ``"tiers"``); importing this module registers them.

``mincut`` (default; exact, one max-flow over the nested tier sets), ``ilp``
(CP-SAT; the default when the instance has constraints or a device budget)
and ``brute_force`` (test oracle). See docs/tiers.md.
"""

from ...registry import register_default_chooser
from . import tier_brute_force, tier_ilp, tiers  # noqa: F401  (registration: mincut first)

register_default_chooser(tiers.KIND, lambda problem: "ilp" if (problem.constraints or problem.device_budget
                                                               or problem.throughput) else None)
