"""``gantt``: a pipeline / flow-shop schedule, one row per stage, makespan and bound marked."""

from __future__ import annotations

import math

import numpy as np

from ._style import OKABE_ITO, instance_name, new_figure, require_matplotlib

__all__ = ["plot_gantt", "task_colors"]

_TASK_PALETTE = tuple(OKABE_ITO[i] for i in (5, 1, 3, 6, 7, 2, 4))
_HATCHES = ("", "//", "..", "xx", "\\\\", "oo")


def task_colors(n_tasks: int) -> list[tuple[str, str]]:
    """``(colour, hatch)`` per task position: 7 Okabe-Ito colours, then hatched repeats."""
    return [(_TASK_PALETTE[i % len(_TASK_PALETTE)], _HATCHES[(i // len(_TASK_PALETTE)) % len(_HATCHES)])
            for i in range(n_tasks)]


def _schedule_and_bound(problem, source, method, time_limit):
    """``(schedule, solution or None, makespan lower bound in ms or None, what it is)``."""
    from ..algorithms.pipeline.bounds import makespan_bound, objective_bound
    from ..registry import solve

    solution = None
    if source is None or hasattr(source, "status"):
        solution = source if source is not None else solve(problem, method=method, time_limit=time_limit)
        if solution.assignment is None:
            raise ValueError(f"no schedule to draw: {solution.status} {solution.message}".strip())
        schedule = problem.evaluate(solution.assignment)
    elif hasattr(source, "start_ms"):
        schedule = source
    else:
        schedule = problem.evaluate(source)
    if problem.objective == "makespan":
        if solution is not None and solution.bound is not None and math.isfinite(solution.bound):
            return schedule, solution, float(solution.bound), f"lower bound ({solution.method})"
        bound, which = makespan_bound(problem)
        return schedule, solution, float(bound), which
    if solution is not None and solution.bound is not None:
        return schedule, solution, None, f"rate bound {solution.bound:.3g} tasks/s"
    rate_bound, _ = objective_bound(problem)
    return schedule, solution, None, f"rate bound {rate_bound:.3g} tasks/s"


def time_unit(problem) -> str:
    """``"ms"`` for co-inference pipelines; ``"time units"`` for flow-shop benchmarks whose times have
    no unit (Taillard's instances: ``metadata.units`` other than ``"ms"``)."""
    if problem.source_kind == "pipeline" or problem.metadata.get("units") == "ms":
        return "ms"
    return "time units"


def _configs(problem, solution, source) -> dict:
    """Task name -> the configuration it runs in (empty when no task has a choice)."""
    if not problem.has_choice:
        return {}
    assignment = getattr(solution, "assignment", None) or (source if isinstance(source, dict) else None)
    if not assignment or "configs" not in assignment:
        return {}
    return {t.name: assignment["configs"].get(t.name, t.configs[0].name) for t in problem.tasks}


def plot_gantt(problem, source=None, *, method: str | None = None, time_limit: float | None = None,
               title: str | None = None):
    """The schedule as horizontal bars, one row per stage, each task in one colour on every stage.

    Parameters
    ----------
    problem : PipelineProblem
    source : Solution, Schedule or assignment, optional
        What to draw; solved with ``method`` (and ``time_limit``) when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        Bars have ``gid`` ``task-<name>`` (one rectangle per stage with
        ``x = start_ms``, ``width = end_ms - start_ms``, row ``y`` = stage
        index); vertical lines ``makespan`` (at the schedule's makespan, ms)
        and, for makespan instances, ``bound`` (the solver's proven lower
        bound, else the stage-load / task-length bound of
        :func:`solvers.algorithms.pipeline.bounds.makespan_bound`); for
        rate instances the title gives the rate and its proven upper bound.
        ``fig.coinfer_schedule`` is the schedule drawn.

    Notes
    -----
    O(n m) bars; a task's name is written inside a bar when it fits.
    """
    require_matplotlib()
    schedule, solution, bound, bound_what = _schedule_and_bound(problem, source, method, time_limit)
    n_stages = problem.m
    fig, ax = new_figure(10.0, 1.6 + 0.55 * n_stages)
    colors = task_colors(len(schedule.order))
    makespan = float(schedule.makespan_ms)
    unit = time_unit(problem)
    configs = _configs(problem, solution, source)
    for pos, name in enumerate(schedule.order):
        color, hatch = colors[pos]
        starts = schedule.start_ms[pos]
        widths = schedule.end_ms[pos] - starts
        label = f"{name}: {configs[name]}" if configs else name  # the configuration each task runs in
        ax.barh(np.arange(n_stages), widths, left=starts, height=0.62, color=color, hatch=hatch,
                edgecolor="black", linewidth=0.5, gid=f"task-{name}", label=label)
        for stage in range(n_stages):
            if widths[stage] > 0.045 * max(makespan, 1e-12) * max(1, len(name)) / 3:
                dark = pos % len(_TASK_PALETTE) in (0, 3, 4) and not hatch
                box = {"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8} if hatch else None
                ax.text(starts[stage] + widths[stage] / 2, stage, label.replace(": ", "\n"), ha="center",
                        va="center", fontsize=7, color="white" if dark else "black", bbox=box, gid=f"label-{name}")
    ax.axvline(makespan, color=OKABE_ITO[0], lw=1.6, gid="makespan", label=f"makespan {makespan:.2f} {unit}")
    if bound is not None and math.isfinite(bound):
        ax.axvline(bound, color=OKABE_ITO[6], lw=1.4, ls="--", gid="bound", label=f"{bound_what}: {bound:.2f} {unit}")
    ax.set_yticks(np.arange(n_stages), labels=list(problem.stages))
    ax.set_ylim(n_stages - 0.5, -0.5)
    ax.set_xlim(0, max(makespan, bound or 0.0) * 1.03 + 1e-9)
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel("stage")
    how = f"{solution.method} ({solution.status.value})" if solution is not None else "given schedule"
    extra = f", rate {schedule.rate_per_s:.3g} tasks/s ({bound_what})" if problem.objective == "rate" else ""
    ax.set_title(title or f"{instance_name(problem, 'pipeline')}: {problem.n} tasks, {how}, makespan {makespan:.2f} {unit}{extra}",
                 fontsize=10)
    handles, labels = ax.get_legend_handles_labels()
    if len(schedule.order) > 24:  # too many tasks for a legend: keep the makespan and bound
        tasks = {name for name in schedule.order} | {f"{name}: {configs[name]}" for name in configs}
        kept = [(h, lab) for h, lab in zip(handles, labels) if lab not in tasks]
        handles, labels = [h for h, _ in kept], [lab for _, lab in kept]
    n_cols = 1 if len(handles) <= 14 else 2
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False, ncols=n_cols)
    ax.grid(True, axis="x", color="0.92")
    ax.set_axisbelow(True)
    fig.coinfer_schedule = schedule
    return fig
