"""Multi-task pipeline offloading: configuration choice plus a permutation flow shop.

The problem class and its parts live in :mod:`.problem`; the other modules of
this package hold the kind's models, strategies and helpers.
"""

from .problem import Config, Task, PipelineProblem, Schedule, OBJECTIVES, ACCURACY_TOL, DEADLINE_TOL, rate_from_load

__all__ = ['Config', 'Task', 'PipelineProblem', 'Schedule', 'OBJECTIVES', 'ACCURACY_TOL', 'DEADLINE_TOL', 'rate_from_load']
