"""The one float-to-integer policy of every integer model (max-flow, CP-SAT).

Every integer model in coinfer (the min-cut network of a partition, the
CP-SAT models of partitions, exits and pipelines) turns floats into integers
here, and only here. The policy (full text: ``docs/scaling.md``):

Objective costs (ms)
    Scaled to whole units of ``1 / units_per_ms`` ms (ns by default,
    :data:`UNITS_PER_MS`) and **rounded down** (floor). Every candidate's
    integer cost is then at most its float cost, so the integer optimum,
    divided by ``units_per_ms``, is a **valid lower bound** on the float
    optimum. The returned plan is re-evaluated in floats by the problem's own
    evaluator; its float cost exceeds its integer cost by less than one unit
    per rounded term, the method's ``slack``. When the values are exact
    decimals (every ``value * u`` a whole number for some ``u = 10**d <=
    units_per_ms``), they are scaled exactly by that ``u`` (slack 0).
    If the scaled total would not fit in int64 with headroom, the unit is
    coarsened by factors of 10 and the scaling is marked **coarse**: a
    method then never claims ``optimal`` from the rounded model alone (its
    slack is not stated), only when the float objective meets the bound.

Constraints (resource budgets, deadlines, latency caps)
    Scaled so that the integer model is a **relaxation** of the float
    problem (conservative outward): usage rounded down, the limit (with the
    evaluator's own tolerance) rounded up, plus one unit of margin for float
    summation error. A plan the float evaluator accepts is never rejected,
    so an integer ``infeasible`` proves float infeasibility, and the
    integer bound stays valid. When usage and limit are whole numbers of a
    unit (:attr:`Scaled.exact`), the integer constraint is the float one and
    no margin is added. Otherwise the returned plan is re-checked in floats;
    a float-infeasible plan is excluded (a no-good cut) and the model solved
    again, or the method returns its warm start as ``feasible``.

Infinite capacities (hard arcs of a min cut) become the sum of all finite
scaled capacities plus one, larger than any finite cut.

All functions are O(n) in the number of values (vectorized).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "UNITS_PER_MS",
    "LIMIT",
    "CPSAT_LIMIT",
    "Scaled",
    "scale_costs",
    "scale_constraint",
    "scale_ms",
    "int_capacities",
    "exact_decimal_units",
    "resolution_units",
    "MIN_RESOLUTION",
    "limit_units",
    "scale_at_least",
]

#: Default (finest) integer units per ms for objective costs (nanoseconds).
UNITS_PER_MS = 10**6
#: Largest total allowed after scaling for a combinatorial max-flow
#: (leaves headroom in int64 for sums).
LIMIT = 2**60
#: Largest total allowed after scaling for a CP-SAT model: CP-SAT computes
#: objective bounds, its LP relaxation and some propagation in doubles,
#: which are exact for integers only up to 2**53 (totals above it made
#: CP-SAT declare a feasible one-task model INFEASIBLE). Headroom of 2**3
#: for the sums a model forms.
CPSAT_LIMIT = 2**50
#: Finest units per resource unit tried for fractional budgets.
MAX_RESOURCE_UNITS = 10**15
#: Fractional constraints are scaled so that their largest total is about
#: this many units (a resolution of 1e-12 of the total; small enough
#: coefficients for CP-SAT's LP).
RESOLUTION = 10**12


@dataclass(frozen=True)
class Scaled:
    """Integer values and how they relate to the floats they came from.

    Attributes
    ----------
    ints : ndarray of int64
        ``floor(values * units)`` (or exactly ``values * units``).
    units : int or float
        Integer units per float unit (per ms for costs); a float power of 10
        below 1 only for huge (coarse) data.
    exact : bool
        Every ``values * units`` is a whole number: the integers are the
        floats, no rounding happened.
    coarse : bool
        The unit had to be coarsened below ns (or below the exact decimal
        unit) to fit int64: no rounding slack is claimed then.
    """

    ints: np.ndarray
    units: float  # int, or a float power of 10 below 1 when coarsened
    exact: bool
    coarse: bool = False

    def slack(self, n_terms: int) -> float:
        """Most the float total of ``n_terms`` scaled values exceeds their
        integer total, in float units (``n_terms / units``; 0 when exact)."""
        return 0.0 if self.exact else n_terms / self.units


def _check(values: np.ndarray, what: str) -> None:
    if values.size and (not np.isfinite(values).all() or values.min() < 0):
        raise ValueError(f"{what} must be finite and non-negative for integer scaling")



def exact_decimal_units(values, max_units: int = UNITS_PER_MS) -> int | None:
    """Smallest ``u = 10**d <= max_units`` with every ``values * u`` an
    integer (strict float equality, so scaling by ``u`` loses nothing), or None.

    O(n log10(max_units)).
    """
    values = np.asarray(values, dtype=float).ravel()
    units = [10**d for d in range(len(str(int(max_units))))]
    units = [u for u in units if u <= max_units]
    if not values.size:
        return units[0] if units else None
    # A unit that fails on some values fails on all of them, so a short prefix
    # first rules out most units (typical measured costs: all) in O(10 x 64).
    for sample in (values[:64], values):
        candidates = np.array(units, dtype=float)
        with np.errstate(over="ignore", invalid="ignore"):  # every candidate unit at once
            scaled = sample[None, :] * candidates[:, None]
            ok = (scaled == np.round(scaled)).all(axis=1) & (np.abs(scaled).max(axis=1) < 2**53)
        units = [u for u, good in zip(units, ok) if good]
        if not units:
            return None
    return units[0]


#: Integer units wanted per smallest positive value: the unit is refined
#: below ns (or ps for max-flow) until the smallest positive cost is at
#: least this many units, so tiny instances (every cost near 1e-9 ms) are
#: resolved as finely, relative to their own scale, as ordinary ones.
MIN_RESOLUTION = 10**3


def resolution_units(values, base: int) -> int:
    """The wanted unit: ``base``, or a finer power of 10 that gives the
    smallest positive value at least :data:`MIN_RESOLUTION` units. O(n).

    The instance's own scale sets the unit, not an absolute ns: a proven
    integer optimum then means the same relative precision for costs near
    1e-9 ms as for costs near 1 ms. (The limit of :func:`scale_costs` may
    still coarsen it when the values span too many decades for int64.)
    """
    values = np.asarray(values, dtype=float).ravel()
    positive = values[values > 0]
    if not positive.size:
        return base
    smallest = max(float(positive.min()), 1e-30)  # below 1e-30 a cost is as good as 0 (and log10 stays finite)
    finer = 10 ** max(0, math.ceil(math.log10(MIN_RESOLUTION / smallest)))
    return int(max(base, finer))


def scale_costs(values_ms, *, reserve: int = 1, units_per_ms: int = UNITS_PER_MS, rounding: str = "floor",
                what: str = "costs (ms)", limit: int = CPSAT_LIMIT) -> Scaled:
    """Floor-scale non-negative finite objective costs (ms) to int64.

    Parameters
    ----------
    values_ms : array_like of float
        Non-negative, finite.
    reserve : int
        How many times the total may be added up by the solver (e.g. the
        number of samples times exits of a weighted objective); the unit is
        coarsened until ``total * units * (reserve + 1) <= LIMIT``.
    units_per_ms : int
        The finest unit wanted (a power of 10).
    rounding : {"floor", "ceil"}
        ``ceil`` rounds inexact values up instead (every integer total is
        then at least the float one: for restrictions).
    what : str
        Names the fields in error messages.
    limit : int
        The largest scaled total (times ``reserve + 1``) allowed:
        :data:`CPSAT_LIMIT` (the default, for CP-SAT models) or :data:`LIMIT`
        (for max-flow).

    Returns
    -------
    Scaled
        ``exact`` when the values are exact decimals at a unit no finer than
        ``units_per_ms``; ``coarse`` when the unit had to be coarsened.

    Raises
    ------
    ValueError
        Non-finite or negative values, or a total that overflows a float
        (the message names ``what``). Huge finite totals never fail: the
        unit is coarsened as far as needed, below one unit per ms if need
        be (``units`` is then a float power of 10).
    """
    values = np.asarray(values_ms, dtype=float)
    _check(values, what)
    with np.errstate(over="ignore"):
        total = float(values.sum()) if values.size else 0.0
    if not math.isfinite(total):
        raise ValueError(f"{what} too large to scale to integers: their total overflows a float")
    wanted = resolution_units(values, units_per_ms)
    exact_u = exact_decimal_units(values, wanted)
    units: float = exact_u if exact_u is not None else wanted
    need = total * (reserve + 1)
    if not math.isfinite(need):
        raise ValueError(f"{what} too large to scale to integers: their total overflows a float")
    if need * units > limit:
        shrink = 10 ** math.ceil(math.log10(need) + math.log10(units) - math.log10(limit))
        units = units // shrink if shrink <= units else 1.0 / (shrink / units)  # a float below 1 unit per ms
        while need * units > limit:  # float rounding of log10
            units = units // 10 if isinstance(units, int) and units >= 10 else units / 10
    coarse = units < min(exact_u or wanted, UNITS_PER_MS)
    if exact_u is not None and units == exact_u:
        return Scaled(np.round(values * units).astype(np.int64), units, True, False)
    if rounding == "ceil":
        return Scaled(np.ceil(values * units).astype(np.int64), units, False, coarse)
    if rounding != "floor":
        raise ValueError(f"`rounding` must be 'floor' or 'ceil', got {rounding!r}")
    return Scaled(np.floor(values * units).astype(np.int64), units, False, coarse)


def limit_units(limit: float, units: float, *, exact: bool, rtol: float = 0.0, atol: float = 0.0,
                n_terms: int = 1, top: float = 0.0, extra: int = 0, restrict: bool = False) -> int:
    """An upper limit (``total <= limit``) in integer units, for totals of values
    scaled by ``units``.

    The evaluator accepts ``total <= limit * (1 + rtol) + atol``.

    - ``restrict=True`` (totals of values rounded **up**): ``floor(limit * units)``,
      so an integer-feasible total is float-feasible (a restriction).
    - ``exact`` data on the unit grid: ``floor(limit' * units)``, the float
      test itself.
    - otherwise (totals of floored values, a relaxation): ``limit'`` plus
      the worst float summation error of ``n_terms`` values up to ``top``,
      rounded down, plus one unit of margin and ``extra`` units (e.g. for a
      floored release subtracted from the total).

    O(1).
    """
    if restrict:
        return int(math.floor(limit * units))
    relaxed = limit * (1 + rtol) + atol
    if exact:
        return int(math.floor(relaxed * units))
    summation_error = 2.3e-16 * n_terms * max(top, relaxed)
    return int(math.floor((relaxed + summation_error) * units)) + 1 + int(extra)


def scale_at_least(values, floor_total: float, *, max_units: int = UNITS_PER_MS) -> tuple[np.ndarray, int]:
    """Scale ``sum(values[chosen]) >= floor_total`` to integers as a relaxation.

    Exact for decimals with at most ``log10(max_units)`` places (values
    scaled exactly, the floor rounded up after a ``1e-9`` allowance for
    float noise); otherwise values rounded **up** and the floor **down**
    minus one unit, so no float-feasible choice is cut off. Used for
    accuracy floors. O(n).

    Returns
    -------
    ints : ndarray of int64
    floor_int : int
    """
    values = np.nan_to_num(np.asarray(values, dtype=float))
    u = exact_decimal_units(values, max_units)
    if u is not None:
        return np.round(values * u).astype(np.int64), int(math.ceil(floor_total * u - 1e-9 * max(1.0, abs(floor_total) * u)))
    return np.ceil(values * max_units).astype(np.int64), int(math.floor(floor_total * max_units)) - 1


def scale_ms(values_ms, *, reserve: int = 1) -> tuple[np.ndarray, float]:
    """``(ints, units_per_ms)`` of :func:`scale_costs` (floor; kept for callers
    that need only the numbers)."""
    scaled = scale_costs(values_ms, reserve=reserve)
    return scaled.ints, scaled.units


def scale_constraint(usage, limit: float, *, rtol: float = 0.0, atol: float = 0.0,
                     max_units: int = MAX_RESOURCE_UNITS) -> tuple[Scaled, int]:
    """Scale ``sum(usage[chosen]) <= limit`` to integers as a relaxation.

    The float evaluator accepts ``total <= limit * (1 + rtol) + atol``. The
    unit is the finest power of 10 (up to ``max_units``) at which the
    largest possible total and the limit fit in int64 with headroom; usage is
    floored and the limit rounded up, plus one unit of margin for float
    summation error, so a float-accepted choice always passes. When the usage
    and the (tolerant) limit are whole numbers at some unit, the constraint
    is scaled exactly (no margin; :attr:`Scaled.exact`).

    Parameters
    ----------
    usage : array_like of float
        Non-negative, finite.
    limit : float
        Non-negative, finite.
    rtol, atol : float
        The evaluator's tolerances.

    Returns
    -------
    scaled : Scaled
        Integer usage.
    limit_int : int

    Notes
    -----
    O(n). If ``exact`` is False the constraint is a relaxation: re-check
    the chosen plan in floats.
    """
    values = np.asarray(usage, dtype=float)
    _check(values, "resource usage")
    if not (math.isfinite(limit) and limit >= 0):
        raise ValueError(f"limit must be finite and non-negative, got {limit!r}")
    n_terms = int(values.size)
    relaxed = float(limit) * (1 + rtol) + atol
    top = max(float(values.sum()) if values.size else 0.0, relaxed, 1e-300)
    fit = LIMIT / (4 * top)
    summation_error = 2.3e-16 * n_terms * top  # worst float rounding of a sum of n_terms values
    exact_u = exact_decimal_units(values, max_units)
    if (exact_u is not None and exact_u <= fit and rtol * limit + atol < 1.0 / exact_u
            and (exact_u == 1 or rtol * limit + atol > summation_error)):
        # whole units: sum of ints <= floor(limit') iff the float sum <= limit'
        lim = math.floor(relaxed * exact_u)
        return Scaled(np.round(values * exact_u).astype(np.int64), exact_u, True), int(lim)
    units = 1
    while units * 10 <= min(fit, max_units, RESOLUTION / top):
        units *= 10
    ints = np.floor(values * units).astype(np.int64)
    lim = math.floor((relaxed + summation_error) * units) + 1
    return Scaled(ints, units, False), int(lim)


def int_capacities(capacity_ms, from_source=None) -> tuple[np.ndarray, float]:
    """Scale min-cut arc capacities (ms, ``inf`` for hard arcs) by the policy above.

    Parameters
    ----------
    capacity_ms : array_like of float
    from_source : array_like of bool, optional
        Arcs leaving the source. A max-flow sums at most the capacities
        leaving the source, so only infinite arcs among them count against
        int64 headroom (all infinite arcs when not given).

    Returns
    -------
    ints : ndarray of int64
        Finite capacities floored to units; infinite ones set to one more
        than the sum of all finite ones.
    units_per_ms : int
    """
    scaled = int_capacities_scaled(capacity_ms, from_source)
    return scaled.ints, scaled.units


#: Finest unit of min-cut capacities (ps): max-flow is combinatorial, so
#: large integers cost nothing and the rounding slack shrinks 1000-fold.
MAXFLOW_UNITS_PER_MS = 10**9


def int_capacities_scaled(capacity_ms, from_source=None) -> Scaled:
    """:func:`int_capacities` with the exactness flags (see :class:`Scaled`);
    units up to :data:`MAXFLOW_UNITS_PER_MS`."""
    cap = np.asarray(capacity_ms, dtype=float)
    inf = np.isinf(cap)
    finite = np.where(inf, 0.0, cap)
    counted = inf if from_source is None else inf & np.asarray(from_source, dtype=bool)
    scaled = scale_costs(finite, reserve=int(counted.sum()) + 1, units_per_ms=MAXFLOW_UNITS_PER_MS, limit=LIMIT)
    ints = scaled.ints.copy()
    ints[inf] = int(ints.sum()) + 1
    return Scaled(ints, scaled.units, scaled.exact, scaled.coarse)
