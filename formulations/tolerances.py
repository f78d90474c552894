"""The numerical tolerances of coinfer, in one place.

Every feasibility test on floats read from a file, every optimality verdict
and every "is this an improvement" test in a heuristic uses one of these
constants (the per-kind names such as ``formulations.pipeline.ACCURACY_TOL``
or ``formulations.placement.MEMORY_RTOL`` are aliases of them, kept because
code outside coinfer imports them).

=====================  =======  ==========================================================
constant               value    used for
=====================  =======  ==========================================================
``FEASIBILITY_RTOL``   1e-9     limits from a file: latency, energy and memory caps,
                                deadlines, accuracy floors, probability sums. A value
                                passes when ``value <= limit + FEASIBILITY_RTOL *
                                max(1, |limit|)`` (the accuracy floor and deadlines use
                                it as an absolute allowance per task)
``BUDGET_RTOL``        1e-12    the partition ``device_budget``:
                                ``used <= limit * (1 + BUDGET_RTOL)``; tighter, because
                                budgets are sums of a few exact resource figures
``EVALUATION_RTOL``    1e-7     the offloading LP's rates and bounds (HiGHS solves to
                                about 1e-9 and the evaluator re-derives them)
``OPTIMALITY_RTOL``    1e-6     ``status == optimal`` only when objective and bound agree
                                within ``OPTIMALITY_RTOL * |objective|`` plus a method's
                                stated rounding slack (:func:`solvers.solve`)
``IMPROVEMENT_RTOL``   1e-12    a heuristic counts a move as an improvement only when it
                                gains more than ``IMPROVEMENT_RTOL * max(1, |value|)``
                                (float noise never makes a search cycle)
=====================  =======  ==========================================================

Why 1e-9 for limits: the evaluators sum up to ~1e5 terms in floats
(:func:`math.fsum` where the order could matter), so a plan that meets a cap
in exact arithmetic may miss it by a few ulps of the total, never by 1e-9
relative.
"""

from __future__ import annotations

__all__ = ["FEASIBILITY_RTOL", "BUDGET_RTOL", "EVALUATION_RTOL", "OPTIMALITY_RTOL", "IMPROVEMENT_RTOL"]

FEASIBILITY_RTOL = 1e-9
BUDGET_RTOL = 1e-12
EVALUATION_RTOL = 1e-7
OPTIMALITY_RTOL = 1e-6
IMPROVEMENT_RTOL = 1e-12
