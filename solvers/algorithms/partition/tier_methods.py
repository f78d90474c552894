"""The k-tier partition methods (registry kind ``"tiers"``); importing this module registers them.

``mincut`` (default; exact, one max-flow over the nested tier sets), ``ilp``
(CP-SAT; the default when the instance has constraints or a device budget)
and ``brute_force`` (test oracle); ``dads_heavy`` (throughput baseline, DADS's
heavy-load approximation). See docs/tiers.md and docs/throughput.md.
"""

from ...registry import register_default_chooser
from . import tier_brute_force, tier_ilp, tiers  # noqa: F401  (registration: mincut first)
from . import dads  # noqa: F401  (dads_heavy: throughput baseline, issue 20)

register_default_chooser(tiers.KIND, lambda problem: "ilp" if (problem.constraints or problem.device_budget
                                                               or problem.throughput) else None)
