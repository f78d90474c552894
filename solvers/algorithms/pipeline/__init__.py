"""Pipeline / flow-shop methods; importing this package registers them.

======================  =====  ==================================================
method                  exact  idea
======================  =====  ==================================================
``exact``               yes    CP-SAT interval model (enumeration for small rate)
``johnson``             no*    Johnson's rule (*optimal for 2 stages, 3 with dominance)
``neh``                 no     NEH insertion (+ iterated greedy with a budget)
``ig``                  no     NEH + iterated greedy with local search
``joint``               no     iterated greedy over order and configurations together
``lagrangian``          no     Lagrangian choice of configurations, then NEH
``bottleneck``          no     greedy bottleneck relief of configurations, then NEH
``lower_bound``         no     stage-load / task-length bounds (+ a cheap schedule)
``brute_force``         yes    every order and configuration vector (test oracle)
======================  =====  ==================================================

The default is ``exact`` for up to 8 tasks; above, ``joint`` when some task
has a choice of configuration (makespan objective, no per-task deadline: what
the joint search models), else ``ig``.
"""

from ...registry import register_default_chooser
from . import relaxations, brute_force, exact, johnson, neh, joint_method  # noqa: F401, I001  (registration)

#: Largest number of tasks for which ``exact`` is the default method.
EXACT_DEFAULT_MAX_TASKS = 8


def _default(problem) -> str:
    """``exact`` up to :data:`EXACT_DEFAULT_MAX_TASKS` tasks, else ``joint`` where it searches, else ``ig``."""
    if problem.n <= EXACT_DEFAULT_MAX_TASKS:
        return "exact"
    return "joint" if problem.has_choice and joint_method.joint_models(problem) else "ig"


register_default_chooser("pipeline", _default)
