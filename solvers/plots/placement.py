"""``placement``: devices as lanes, each stage a bar over its layers, memory per device, the transfers."""

from __future__ import annotations

from ._style import CUT_COLOR, OKABE_ITO, instance_name, new_figure, require_matplotlib

#: Stage colours (no black: the bar carries its time in black text).
STAGE_COLORS = OKABE_ITO[1:]

__all__ = ["plot_placement"]


def plot_placement(problem, solution=None, *, method: str | None = None, title: str | None = None):
    """A plan on its cluster: one lane per device, a bar per stage spanning its layers.

    Parameters
    ----------
    problem : PlacementProblem
    solution : Solution or plan dict, optional
        Solved with ``method`` (default: the kind's, exact ``dp``) when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        Artists with ``gid``: ``stage-<k>`` (the bar of stage ``k``: x from its
        first layer to its last + 1, on its device's lane), ``memory-<device>``
        (the lane's label text: memory used / ``memory_mb``, MB), and
        ``transfer-<k>`` (an arrow from stage ``k`` to stage ``k + 1``, its
        time in ms in the label). ``fig.coinfer_plan`` is the plan drawn,
        ``fig.coinfer_evaluation`` its :class:`PlacementEvaluation`.

    Notes
    -----
    O(devices + stages).
    """
    require_matplotlib()
    from matplotlib.patches import FancyArrowPatch, Rectangle

    if solution is None:
        from ..registry import solve

        solution = solve(problem, method=method)
        if solution.assignment is None:
            raise ValueError(f"no placement to draw: {solution.status.value} {solution.message}".strip())
    plan = getattr(solution, "assignment", solution)
    ev = problem.evaluate(plan)
    stages = problem.stages(plan)
    lanes = {name: i for i, name in enumerate(problem.device_names)}
    fig, ax = new_figure(min(16.0, 6.0 + 0.12 * problem.n_layers), 1.2 + 0.65 * problem.n_devices)
    for k, (d, a, b) in enumerate(stages):
        y = lanes[problem.device_names[d]]
        ax.add_patch(Rectangle((a, y - 0.3), b - a, 0.6, facecolor=STAGE_COLORS[k % len(STAGE_COLORS)],
                               edgecolor="black", lw=0.6, gid=f"stage-{k}"))
        ax.text((a + b) / 2, y, f"{ev.stage_ms[k]:.3g} ms", ha="center", va="center", fontsize=8)
    for k in range(len(stages) - 1):
        (d0, _, b0), (d1, a1, _) = stages[k], stages[k + 1]
        arrow = FancyArrowPatch((b0, lanes[problem.device_names[d0]]), (a1, lanes[problem.device_names[d1]]),
                                arrowstyle="-|>", mutation_scale=10, color=CUT_COLOR, lw=1.2,
                                gid=f"transfer-{k}", label=f"{ev.transfer_ms[k + 1]:.3g} ms")
        ax.add_patch(arrow)
        ax.annotate(f"{ev.transfer_ms[k + 1]:.3g} ms", ((b0 + a1) / 2, (lanes[problem.device_names[d0]]
                    + lanes[problem.device_names[d1]]) / 2), fontsize=7, color=CUT_COLOR, ha="left", va="bottom")
    for name, y in lanes.items():  # the lane's name and its memory, left of the axes
        used = ev.memory_mb.get(name, 0.0)
        cap = problem.memory_mb[problem.device_index[name]]
        ax.text(-0.01, y, f"{name}\n{used:,.0f} / {cap:,.0f} MB", transform=ax.get_yaxis_transform(), ha="right",
                va="center", fontsize=8, gid=f"memory-{name}")
    ax.set_yticks([])
    ax.set_xlim(0, problem.n_layers)
    ax.set_ylim(-0.7, problem.n_devices - 0.3)
    ax.invert_yaxis()
    ax.set_xlabel("layers (chain order)")
    per_s = 1000.0 / ev.period_ms if ev.period_ms else float("inf")
    ax.set_title(title or (f"{instance_name(problem, 'placement')}: {len(stages)} stage(s), latency {ev.latency_ms:.2f} ms, "
                           f"throughput {per_s:.2f}/s (objective: {problem.objective})"), fontsize=10)
    fig.coinfer_plan = plan
    fig.coinfer_evaluation = ev
    return fig
