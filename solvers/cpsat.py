"""Running a CP-SAT model the same way in every method."""

from __future__ import annotations

__all__ = ["run_cpsat", "presolve_fits", "PRESOLVE_TERMS_PER_S"]

#: CP-SAT's presolve does not watch the wall clock closely (probing and
#: clause rewriting took 6 s under a 2 s limit on a 160,000-literal exits
#: model). With a time limit, presolve is skipped when the model has more
#: than this many terms per second of the limit.
PRESOLVE_TERMS_PER_S = 5_000


def presolve_fits(n_terms: int, time_limit: float | None) -> bool:
    """Whether to run CP-SAT's presolve on a model of ``n_terms`` terms under ``time_limit``."""
    return time_limit is None or n_terms <= PRESOLVE_TERMS_PER_S * float(time_limit)


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
