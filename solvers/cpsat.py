"""Running a CP-SAT model the same way in every method."""

from __future__ import annotations

import numpy as np

__all__ = ["run_cpsat", "presolve_fits", "PRESOLVE_TERMS_PER_S", "bound_of", "check_cpsat_options"]

#: CP-SAT's presolve does not watch the wall clock closely (probing and
#: clause rewriting took 6 s under a 2 s limit on a 160,000-literal exits
#: model). With a time limit, presolve is skipped when the model has more
#: than this many terms per second of the limit.
PRESOLVE_TERMS_PER_S = 5_000


def presolve_fits(n_terms: int, time_limit: float | None) -> bool:
    """Whether to run CP-SAT's presolve on a model of ``n_terms`` terms under ``time_limit``."""
    return time_limit is None or n_terms <= PRESOLVE_TERMS_PER_S * float(time_limit)


def check_cpsat_options(num_workers, seed) -> None:
    """:class:`~formulations.errors.OptionError` naming ``num_workers`` (a whole number >= 1) or
    ``seed`` (a whole number in CP-SAT's 32-bit range) when either is not one."""
    from formulations.errors import OptionError

    def whole(value):
        return isinstance(value, (int, np.integer)) and not isinstance(value, bool)

    if not whole(num_workers) or num_workers < 1:
        raise OptionError(f"`num_workers` must be a whole number >= 1, got {num_workers!r}")
    if not whole(seed) or not -(2**31) <= seed < 2**31:
        raise OptionError(f"`seed` must be a whole number in [-2**31, 2**31), got {seed!r}")


def run_cpsat(model, *, time_limit: float | None = None, num_workers: int = 1, seed: int = 0,
              presolve: bool = True):
    """Solve ``model`` with coinfer's CP-SAT settings.

    Parameters
    ----------
    model : ortools.sat.python.cp_model.CpModel
    time_limit : float, optional
        Seconds (``max_time_in_seconds``; at least 1 ms).
    num_workers : int
        Search workers; 1 (the default) is deterministic for a given seed.
    seed : int
        ``random_seed``.
    presolve : bool
        CP-SAT's presolve (see :func:`presolve_fits`).

    Returns
    -------
    solver : CpSolver
        Read values only when ``code`` is OPTIMAL or FEASIBLE.
    code : CpSolverStatus
    message : str
        ``"(CP-SAT status: NAME)"``, to append to result messages.

    Raises
    ------
    RuntimeError
        If CP-SAT reports the model invalid (a bug in a model builder).
    """
    from ortools.sat.python import cp_model

    check_cpsat_options(num_workers, seed)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = int(num_workers)
    solver.parameters.random_seed = int(seed)
    if time_limit is not None:
        solver.parameters.max_time_in_seconds = max(float(time_limit), 1e-3)
    if not presolve:
        solver.parameters.cp_model_presolve = False
    code = solver.solve(model)
    message = f"(CP-SAT status: {solver.status_name(code)})"
    if code == cp_model.MODEL_INVALID:
        raise RuntimeError(f"invalid CP-SAT model {message}: {model.validate()}")
    return solver, code, message


def bound_of(solver, sense: str = "min") -> float:
    """CP-SAT's ``best_objective_bound``, widened by a few ulps.

    CP-SAT reports the bound of its integer objective as a double; above
    2**53 units that double may be rounded past the true integer bound, so
    it is moved outward by 4 ulps (down when minimizing, up when
    maximizing) to stay valid.
    """
    import math

    value = float(solver.best_objective_bound)
    if not math.isfinite(value) or abs(value) < 2**52:  # integers below 2**53 are exact doubles
        return value
    return value - 4 * math.ulp(value) if sense == "min" else value + 4 * math.ulp(value)
