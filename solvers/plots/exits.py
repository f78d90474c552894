"""``exits-front``: accuracy against mean latency of the best exit plans, the chosen plan marked."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._style import OKABE_ITO, instance_name, new_figure, require_matplotlib

__all__ = ["plot_exits_front", "exits_front", "FrontPoint"]


@dataclass(frozen=True)
class FrontPoint:
    """One plan of the front: the accuracy floor it was solved for and what it achieves."""

    accuracy_floor: float
    mean_latency_ms: float
    accuracy: float
    status: str
    assignment: dict


def _variant(problem, objective: str, constraints: dict):
    return problem.with_samples(problem.confidence, problem.correct, objective=objective, constraints=constraints)


def _slowest_ms(problem) -> float:
    """An upper bound on any plan's mean latency (ms): every block and exit on its slowest
    node plus the dearest crossing of every link (each link is crossed at most once)."""
    cross = problem.cross_ms.max(axis=0).sum() if problem.cross_ms.size else 0.0
    return float(problem.block_ms.max(axis=1).sum() + problem.exit_ms.max(axis=1).sum() + cross) * 1.01 + 1.0


def _solve(problem, method, time_limit):
    from ..registry import solve

    return solve(problem, method=method, time_limit=time_limit)


def exits_front_floors(problem, method, n_floors: int, time_limit) -> np.ndarray:
    """``n_floors`` accuracy floors evenly spaced from the fastest plan's accuracy to the best reachable."""
    base = {k: v for k, v in problem.constraints.items() if k not in ("accuracy_min", "latency_max_ms")}
    fastest = _solve(_variant(problem, "latency", base), method, time_limit)
    best = _solve(_variant(problem, "accuracy", {**base, "latency_max_ms": _slowest_ms(problem)}), method, time_limit)
    ends = [problem.measure(s.assignment).accuracy for s in (fastest, best) if s.assignment is not None]
    if not ends:
        raise ValueError("no exit plan found at either end of the front")
    return np.linspace(min(ends), max(ends), max(2, int(n_floors)))


def exits_front(problem, *, method: str | None = None, n_floors: int = 12, floors=None,
                time_limit: float | None = None) -> list[FrontPoint]:
    """Best plans for a range of accuracy floors, non-dominated ones kept, sorted by latency.

    Each floor ``a`` is solved as "minimize mean latency subject to accuracy
    >= a" (the instance's other constraints, e.g. ``max_exits``, kept) with
    ``method``. Default floors: ``n_floors`` values evenly spaced from the
    accuracy of the fastest plan (no floor) to the best accuracy reachable
    without a latency limit (objective ``accuracy``).

    When every solve is ``optimal`` (an exact method, or ``dp`` where it is
    exact) each point is an exact point of the latency-accuracy front: no
    plan is faster at that accuracy or better at that latency. Otherwise
    the points are the method's best plans (heuristic).

    Returns
    -------
    list of FrontPoint
        Sorted by mean latency, accuracy strictly increasing.

    Notes
    -----
    ``n_floors + 2`` solves (fewer with ``floors``).
    """
    base = {k: v for k, v in problem.constraints.items() if k not in ("accuracy_min", "latency_max_ms")}
    if floors is None:
        floors = exits_front_floors(problem, method, n_floors, time_limit)
    points = []
    for floor in np.unique(np.asarray(floors, dtype=float)):
        sol = _solve(_variant(problem, "latency", {**base, "accuracy_min": float(floor)}), method, time_limit)
        if sol.assignment is None:
            continue
        res = problem.measure(sol.assignment)
        points.append(FrontPoint(float(floor), res.mean_latency_ms, res.accuracy, sol.status.value, sol.assignment))
    points.sort(key=lambda p: (p.mean_latency_ms, -p.accuracy))
    front, best_acc = [], -np.inf
    for p in points:
        if p.accuracy > best_acc:
            front.append(p)
            best_acc = p.accuracy
    return front


def plot_exits_front(problem, solution=None, *, method: str | None = None, n_floors: int = 12,
                     time_limit: float | None = None, title: str | None = None):
    """Accuracy against mean latency (ms) of the best plans, the chosen plan marked.

    Parameters
    ----------
    problem : ExitProblem
    solution : Solution, optional
        The chosen plan; solved with ``method`` under the instance's own
        objective and constraints when omitted.
    method, n_floors, time_limit
        See :func:`exits_front`.

    Returns
    -------
    matplotlib.figure.Figure
        Artists with ``gid``: ``front`` (line through the front points,
        ``x`` = mean latency in ms, ``y`` = accuracy, as
        :func:`exits_front` returns them), ``chosen`` (one marker at the
        chosen plan's mean latency and accuracy), ``floor`` (the instance's
        accuracy floor) or ``latency-limit``. ``fig.coinfer_front`` holds
        the :class:`FrontPoint` list, ``fig.coinfer_solution`` the chosen one.
    """
    require_matplotlib()
    if solution is None:
        solution = _solve(problem, method, time_limit)
    floors = None
    if solution.assignment is not None:  # the chosen plan's own accuracy is a floor, so it lies on the front
        ends = exits_front_floors(problem, method or solution.method, n_floors, time_limit)
        floors = np.unique(np.append(ends, problem.measure(solution.assignment).accuracy))
    front = exits_front(problem, method=method or solution.method, n_floors=n_floors, floors=floors,
                        time_limit=time_limit)
    exact = bool(front) and all(p.status == "optimal" for p in front)
    fig, ax = new_figure(7.5, 4.6)
    sampled = n_floors if floors is None else len(floors)
    label = (f"optimal plans at {sampled} sampled accuracy floors (the front between them not drawn)" if exact
             else f"best plans found by {method or solution.method} at {sampled} accuracy floors "
                  "(not all proven optimal)")
    ax.plot([p.mean_latency_ms for p in front], [p.accuracy for p in front], drawstyle="steps-post",
            color=OKABE_ITO[5], lw=1.2, alpha=0.5, gid="front-steps")
    ax.plot([p.mean_latency_ms for p in front], [p.accuracy for p in front], ls="none", marker="o", ms=5,
            color=OKABE_ITO[5], gid="front", label=label)
    amin = problem.constraints.get("accuracy_min")
    lmax = problem.constraints.get("latency_max_ms")
    if amin is not None:
        ax.axhline(amin, color="0.5", ls=":", lw=1.0, gid="floor", label=f"accuracy floor {amin:g}")
    if lmax is not None:
        ax.axvline(lmax, color="0.5", ls=":", lw=1.0, gid="latency-limit", label=f"latency limit {lmax:g} ms")
    if solution.assignment is not None:
        res = problem.measure(solution.assignment)
        ax.plot([res.mean_latency_ms], [res.accuracy], ls="none", marker="*", ms=15, color=OKABE_ITO[6],
                mec="black", mew=0.6, gid="chosen", zorder=5,
                label=f"chosen: {solution.method} ({solution.status.value}), {res.mean_latency_ms:.2f} ms, acc {res.accuracy:.4f}")
    ax.set_xlabel("mean latency per sample (ms)")
    ax.set_ylabel("accuracy (fraction correct)")
    ax.set_title(title or f"{instance_name(problem, 'exits')}: accuracy vs mean latency "
                          f"({problem.n_exits} exits, {problem.n_nodes} node{'s' if problem.n_nodes > 1 else ''})", fontsize=10)
    ax.grid(True, color="0.92")
    ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    fig.coinfer_front = front
    fig.coinfer_solution = solution
    return fig
