"""Holdout evaluation: thresholds chosen on validation samples, run on test samples."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from formulations.errors import OptionError

__all__ = ["holdout", "split_samples", "HoldoutReport"]


@dataclass
class HoldoutReport:
    """Result of :func:`holdout`.

    Attributes
    ----------
    solution : Solution
        The solve on the validation (training) samples.
    validation, test : ExitEvaluation or None
        The plan measured on each sample set (``test.feasible`` tells whether
        the constraints still hold on unseen data). None without a plan.
    n_validation, n_test : int
    """

    solution: Any
    validation: Any
    test: Any
    n_validation: int
    n_test: int

    def to_dict(self) -> dict:
        def ev(x):
            if x is None:
                return None
            return {"mean_latency_ms": x.mean_latency_ms, "accuracy": x.accuracy, "feasible": x.feasible,
                    "violations": list(x.violations), "exit_counts": x.exit_counts}

        return {"solution": self.solution.to_dict(), "validation": ev(self.validation), "test": ev(self.test),
                "n_validation": self.n_validation, "n_test": self.n_test}


def split_samples(problem, fraction: float = 0.5, seed: int = 0):
    """Split the samples at random into (validation, test) problems.

    ``fraction`` of the samples (at least one each side) go to validation.
    """
    if not 0.0 < fraction < 1.0:
        raise OptionError(f"`fraction` must be in (0, 1), got {fraction!r}")
    N = problem.n_samples
    if N < 2:
        raise OptionError("holdout needs at least 2 samples")
    order = np.random.default_rng(seed).permutation(N)
    n_val = min(N - 1, max(1, int(round(fraction * N))))
    val, test = np.sort(order[:n_val]), np.sort(order[n_val:])
    mk = lambda idx, tag: problem.with_samples(problem.confidence[idx], problem.correct[idx],
                                               name=f"{problem.name or 'instance'}[{tag}]")
    return mk(val, "validation"), mk(test, "test")


def holdout(problem, method: str | None = None, *, test=None, fraction: float = 0.5, seed: int = 0,
            time_limit: float | None = None, **options) -> HoldoutReport:
    """Choose a plan on validation samples and measure it on test samples.

    Parameters
    ----------
    problem : ExitProblem
        Its samples are the validation set when ``test`` is given, else they
        are split at random (``fraction`` to validation, ``seed``).
    method : str, optional
        Any registered exits method (default: the kind's default).
    test : ExitProblem, optional
        A second instance with the same blocks and exits: its samples are the test set.

    Returns
    -------
    HoldoutReport
    """
    from solvers import solve

    if test is None:
        val, test = split_samples(problem, fraction, seed)
    else:
        if [x.name for x in test.exits] != [x.name for x in problem.exits]:
            raise OptionError("`test` must have the same exits as `problem`")
        val = problem
    sol = solve(val, method=method, time_limit=time_limit, **options)
    if sol.assignment is None:
        return HoldoutReport(sol, None, None, val.n_samples, test.n_samples)
    on_val = val.measure(sol.assignment)
    on_test = val.measure(sol.assignment, confidence=test.confidence, correct=test.correct)
    return HoldoutReport(sol, on_val, on_test, val.n_samples, test.n_samples)
