"""The one float-to-integer policy for integer solvers (max-flow, CP-SAT).

Policy
------
Costs in ms are given to integer solvers in whole **nanoseconds**
(``1 ms = 10**6`` units), **rounded down** (floor). Hence for every candidate
solution the integer cost is at most its float cost, and the integer optimum
``z`` is a proven lower bound: ``z / 10**6 <= OPT`` (ms). Each solution is
then re-evaluated in floats by the problem's own evaluator; its float cost
exceeds its integer cost by less than 1 ns per term. If the scaled total
would not fit comfortably in int64, the unit grows by factors of 10 (and
:func:`scale_ms` reports the unit used).

Infinite capacities (hard constraints in a min-cut) become the sum of all
finite scaled capacities plus one, larger than any finite cut.
"""

from __future__ import annotations

import numpy as np

from .errors import InstanceError

__all__ = ["UNITS_PER_MS", "scale_ms", "int_capacities", "LIMIT"]

#: Default integer units per ms (nanoseconds).
UNITS_PER_MS = 10**6
#: Largest total allowed after scaling (leaves headroom in int64 for sums).
LIMIT = 2**60


def scale_ms(values_ms, *, reserve: int = 1) -> tuple[np.ndarray, int]:
    """Floor-scale non-negative finite ms values to int64.

    Parameters
    ----------
    values_ms : array_like of float
        Non-negative, finite.
    reserve : int
        How many times the total may be added up by the solver (e.g. the
        number of infinite arcs); the unit is coarsened until
        ``total * (reserve + 1) <= LIMIT``.

    Returns
    -------
    ints : ndarray of int64
    units_per_ms : int
        Divide integer results by this to get ms.
    """
    values = np.asarray(values_ms, dtype=float)
    if values.size and (not np.isfinite(values).all() or values.min() < 0):
        raise ValueError("scale_ms takes finite non-negative values")
    units = UNITS_PER_MS
    total = float(values.sum()) if values.size else 0.0
    while units > 1 and total * units * (reserve + 1) > LIMIT:
        units //= 10
    if total * units * (reserve + 1) > LIMIT:
        # input-caused (huge costs or tiny bandwidths): bad input, not a solver bug
        raise InstanceError(
            f"costs too large for the integer solvers: they add up to {total:g} ms, more than "
            f"{LIMIT / (reserve + 1):.3g} ms; rescale the instance or use a method that works in floats"
        )
    return np.floor(values * units).astype(np.int64), units


def int_capacities(capacity_ms) -> tuple[np.ndarray, int]:
    """Scale arc capacities (ms, ``inf`` for hard arcs) by the policy above.

    Returns
    -------
    ints : ndarray of int64
        Finite capacities floored to units; infinite ones set to one more
        than the sum of all finite ones.
    units_per_ms : int
    """
    cap = np.asarray(capacity_ms, dtype=float)
    inf = np.isinf(cap)
    finite = np.where(inf, 0.0, cap)
    ints, units = scale_ms(finite, reserve=int(inf.sum()) + 1)
    big = int(ints.sum()) + 1
    ints[inf] = big
    return ints, units
