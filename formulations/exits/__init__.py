"""Early-exit placement, thresholds and multi-node split (LEIME, Edgent, DistrEE).

The problem class and its parts live in :mod:`.problem`; the other modules of
this package hold the kind's models, strategies and helpers.
"""

from .problem import ExitProblem, ExitBlock, Exit, Link, ExitEvaluation, OBJECTIVES, LATENCY_RTOL

__all__ = ['ExitProblem', 'ExitBlock', 'Exit', 'Link', 'ExitEvaluation', 'OBJECTIVES', 'LATENCY_RTOL']
