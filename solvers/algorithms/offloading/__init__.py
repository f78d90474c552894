"""Online offloading methods; importing this package registers them.

=========================  =====  ==============================================
method                     exact  idea
=========================  =====  ==============================================
``stationary_lp`` (dflt)   yes    optimal stationary randomized policy, LP (HiGHS)
``brute_force``            yes    mix all deterministic stationary policies (oracle)
``dpp``                    no     drift-plus-penalty, simulated; cost <= p* + B/V
``all_local``              no     baseline: never offload
``least_loaded``           no     baseline: offload all to the shortest server queue
``greedy_queue``           no     baseline: local first, then shortest server queues
``lp_sampled``             no     baseline: the LP policy sampled each slot
=========================  =====  ==============================================

The online methods simulate their policy (options ``slots``, ``seed``,
and ``v`` for ``dpp``) and return the run, which ``problem.evaluate``
replays; policies are also registered with
:func:`formulations.offloading.simulator.register_policy` for ``coinfer simulate``.
"""

from formulations.errors import OptionError
from formulations.offloading.simulator import register_policy

from . import stationary_lp, brute_force, dpp, baselines  # noqa: F401, I001  (registration order = listing order)
from .baselines import BASELINES, AllLocal, GreedyQueue, LeastLoaded, LPSampled
from .dpp import DriftPlusPenalty, guarantee
from .sweep import sweep

register_policy("dpp", DriftPlusPenalty)
for _name, _cls in BASELINES.items():
    register_policy(_name, _cls)

__all__ = ["DriftPlusPenalty", "AllLocal", "LeastLoaded", "GreedyQueue", "LPSampled", "guarantee", "sweep", "make_policy"]


def make_policy(problem, name: str, **params):
    """Build the registered policy ``name`` (``dpp`` takes ``v``)."""
    from formulations.offloading.simulator import POLICIES

    if name not in POLICIES:
        raise OptionError(f"unknown `policy` {name!r}; choose from {sorted(POLICIES)}")
    return POLICIES[name](problem, **params)
