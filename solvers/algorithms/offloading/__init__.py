"""Online offloading methods; importing this package registers them.

=========================  =====  ==============================================
method                     exact  idea
=========================  =====  ==============================================
``stationary_lp`` (dflt)   yes    optimal stationary randomized policy, LP (HiGHS)
``brute_force``            yes    mix all deterministic stationary policies (oracle)
``dpp``                    no     drift-plus-penalty, simulated; cost <= p* + B/V
``fqla``                   no     dpp on queues offset by V x the LP multipliers (FQLA)
``all_local``              no     baseline: never offload
``least_loaded``           no     baseline: offload all to the shortest server queue
``greedy_queue``           no     baseline: local first, then shortest server queues
``lp_sampled``             no     baseline: the LP policy sampled each slot
=========================  =====  ==============================================

The online methods simulate their policy once (options ``slots``, ``seed``,
``time_limit``, and ``v`` for ``dpp`` and ``fqla``): the solution's
``assignment`` and ``evaluation`` are the run, a
:class:`~formulations.offloading.simulator.SimulationResult` (its average
cost the objective, ``converged`` its honest verdict); ``p*`` stays in
``details``. :data:`POLICIES` and :func:`make_policy` build the policies by
name for ``coinfer simulate`` and :func:`sweep`.
"""

from . import stationary_lp, brute_force, dpp, fqla, baselines  # noqa: F401, I001  (registration order = listing order)
from .baselines import BASELINES, AllLocal, GreedyQueue, LeastLoaded, LPSampled
from .dpp import DriftPlusPenalty, guarantee
from .fqla import FQLA
from .policies import POLICIES, make_policy
from .sweep import sweep

__all__ = ["DriftPlusPenalty", "FQLA", "AllLocal", "LeastLoaded", "GreedyQueue", "LPSampled", "guarantee", "sweep",
           "make_policy", "POLICIES", "BASELINES"]
