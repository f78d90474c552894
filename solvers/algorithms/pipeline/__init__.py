"""Pipeline / flow-shop methods; importing this package registers them.

======================  =====  ==================================================
method                  exact  idea
======================  =====  ==================================================
``exact``               yes    CP-SAT interval model (enumeration for small rate)
``johnson``             no*    Johnson's rule (*optimal for 2 stages, 3 with dominance)
``neh``                 no     NEH insertion (+ iterated greedy with a budget)
``ig``                  no     NEH + iterated greedy with local search
``lagrangian``          no     Lagrangian choice of configurations, then NEH
``bottleneck``          no     greedy bottleneck relief of configurations, then NEH
``lower_bound``         no     stage-load / task-length bounds (+ a cheap schedule)
``brute_force``         yes    every order and configuration vector (test oracle)
======================  =====  ==================================================

The default is ``exact`` for up to 8 tasks, else ``ig``.
"""

from ...registry import register_default_chooser
from . import relaxations, brute_force, exact, johnson, neh  # noqa: F401, I001  (registration)

#: Largest number of tasks for which ``exact`` is the default method.
EXACT_DEFAULT_MAX_TASKS = 8

register_default_chooser("pipeline", lambda problem: "exact" if problem.n <= EXACT_DEFAULT_MAX_TASKS else "ig")
