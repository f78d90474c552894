"""Online offloading across many devices (drift-plus-penalty against an LP optimum).

The problem class and its parts live in :mod:`.problem`; the other modules of
this package hold the kind's models, strategies and helpers.
"""

from .problem import Device, Server, Link, OffloadingProblem, StationaryEvaluation, task_profile, PROB_TOL

__all__ = ['Device', 'Server', 'Link', 'OffloadingProblem', 'StationaryEvaluation', 'task_profile', 'PROB_TOL']
