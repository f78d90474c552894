"""``pareto``: the latency-energy front of a k-tier partitioning instance, or the latency-throughput
front of a partition instance (a stream of frames)."""

from __future__ import annotations

from ._style import OKABE_ITO, instance_name, new_figure, place_without_overlap, require_matplotlib

__all__ = ["plot_pareto", "plot_stream_front", "pareto_front", "split_label", "PARETO_UNAVAILABLE"]

#: Fronts with at most this many points label every point; larger ones label the supported points.
MAX_LABELS = 15

#: Message when the k-tier partitioning capability (``solvers.pareto``) is not installed.
PARETO_UNAVAILABLE = ("the pareto front needs the k-tier partitioning capability (solvers.pareto), "
                      "which this version of coinfer does not have")

_KEYS = ("latency_ms", "energy_mj", "supported")
#: The details of a latency-throughput front's points.
_STREAM_KEYS = ("latency_ms", "throughput_fps", "bottleneck")


def pareto_front(front_or_problem, objectives=None) -> list:
    """The front as a list of Solutions sorted by latency.

    ``front_or_problem`` is such a list, or a problem for which
    ``solvers.pareto(problem, objectives=objectives)`` computes it. A point
    whose details hold ``throughput_fps`` makes it a latency-throughput front.

    Raises
    ------
    ValueError
        When ``solvers.pareto`` does not exist (:data:`PARETO_UNAVAILABLE`)
        or a Solution's ``details`` lack ``latency_ms``, ``energy_mj`` or
        ``supported``.
    """
    import solvers

    if isinstance(front_or_problem, (list, tuple)):
        front = list(front_or_problem)
    else:
        compute = getattr(solvers, "pareto", None)
        if compute is None:
            raise ValueError(PARETO_UNAVAILABLE)
        front = list(compute(front_or_problem) if objectives is None else compute(front_or_problem, objectives=objectives))
    if not front:
        raise ValueError("the pareto front is empty")
    keys = _STREAM_KEYS if _stream(front) else _KEYS
    for i, sol in enumerate(front):
        details = getattr(sol, "details", None) or {}
        missing = [k for k in keys if k not in details]
        if missing:
            raise ValueError(f"front[{i}].details lacks {missing} (needs {list(keys)})")
    return sorted(front, key=lambda s: (s.details["latency_ms"], s.details[keys[1]]))


def _stream(front) -> bool:
    """Whether ``front`` is a latency-throughput front (its first point has ``throughput_fps``)."""
    return "throughput_fps" in (getattr(front[0], "details", None) or {})


def split_label(solution) -> str:
    """A point's split as layers per tier, ``"20/12/0"`` (tier order of its assignment); ``""`` without one."""
    assignment = getattr(solution, "assignment", None)
    if not isinstance(assignment, dict) or not assignment:
        return ""
    return "/".join(str(len(layers)) for layers in assignment.values())


def plot_pareto(front_or_problem, *, name: str | None = None, title: str | None = None, objectives=None):
    """Energy (mJ) against latency (ms) of the Pareto-optimal partitions, supported points distinguished.

    Parameters
    ----------
    front_or_problem : list of Solution or problem
        Solutions whose ``details`` hold ``latency_ms``, ``energy_mj`` and
        ``supported`` (on the lower convex hull, i.e. optimal for some
        weighted sum), or a k-tier problem (``solvers.pareto`` is called).
    name : str, optional
        Instance name for the title (default: the problem's name).
    objectives : (str, str), optional
        Passed to ``solvers.pareto`` when a problem is given. A
        latency-throughput front (points with ``throughput_fps``) is drawn
        by :func:`plot_stream_front`.

    Returns
    -------
    matplotlib.figure.Figure
        Artists with ``gid``: ``front`` (staircase through every point, in
        latency order), ``supported`` (filled markers) and ``unsupported``
        (hollow markers; absent when there are none), x = latency (ms),
        y = energy (mJ); ``split-<k>`` (the text beside point ``k`` of the
        sorted front: its layers per tier, :func:`split_label`; every point
        when there are at most :data:`MAX_LABELS`, else the supported ones).
        The legend sits below the axes, never over the front.
        ``fig.coinfer_front`` is the sorted list drawn.

    Raises
    ------
    ValueError
        See :func:`pareto_front`.
    """
    require_matplotlib()
    front = pareto_front(front_or_problem, objectives)
    if name is None and not isinstance(front_or_problem, (list, tuple)):
        name = instance_name(front_or_problem, "k-tier")
    if _stream(front):
        return plot_stream_front(front, name=name, title=title, tiers=_tier_names(front_or_problem))
    lat = [s.details["latency_ms"] for s in front]
    energy = [s.details["energy_mj"] for s in front]
    fig, ax = new_figure(7.0, 5.0)
    ax.plot(lat, energy, drawstyle="steps-post", color="0.6", lw=1.0, gid="front", label="Pareto front")
    for gid, flag, style in (("supported", True, {"mfc": OKABE_ITO[5]}), ("unsupported", False, {"mfc": "white"})):
        pts = [(x, y) for x, y, s in zip(lat, energy, front) if bool(s.details["supported"]) is flag]
        if pts:
            xs, ys = zip(*pts)
            label = ("supported (optimal for a weighted sum)" if flag else "unsupported (inside the convex hull)")
            ax.plot(xs, ys, ls="none", marker="o", ms=7, mec=OKABE_ITO[5], mew=1.4, gid=gid, label=label, **style)
    texts = []
    for k, sol in enumerate(front):
        text = split_label(sol)
        if text and (len(front) <= MAX_LABELS or sol.details["supported"]):
            texts.append(ax.annotate(text, (lat[k], energy[k]), xytext=(5, 5), textcoords="offset points",
                                     fontsize=7.5, color="0.25", gid=f"split-{k}"))
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("energy (mJ)")
    ax.set_title(title or f"{name or 'k-tier'}: latency-energy front ({len(front)} partitions)", fontsize=10)
    return _finish(fig, ax, texts, front, _tier_names(front_or_problem))


def _finish(fig, ax, texts, front, tiers, label_note: str = ""):
    """Grid, margins, the legend below the axes (with the point-label key), labels placed apart."""
    ax.grid(True, color="0.92")
    ax.margins(x=0.08, y=0.1)
    handles, labels = ax.get_legend_handles_labels()
    if texts:
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], ls="none", marker="$a/b$", ms=14, color="0.25"))
        labels.append((f"point label: layers on {'/'.join(tiers)}" if tiers else "point label: layers per tier")
                      + label_note)
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    place_without_overlap(fig, texts)
    fig.coinfer_front = front
    return fig


def _tier_names(front_or_problem) -> tuple:
    """The tier names of the problem (or of the front's first assignment), for the label legend."""
    tiers = getattr(front_or_problem, "tiers", None)
    if tiers:
        return tuple(tiers)
    if isinstance(front_or_problem, (list, tuple)) and front_or_problem:
        assignment = getattr(front_or_problem[0], "assignment", None)
        if isinstance(assignment, dict):
            return tuple(assignment)
    return ()


def plot_stream_front(front, *, name: str | None = None, title: str | None = None, tiers: tuple = ()):
    """Throughput (frames/s) against single-frame latency (ms) of the latency-throughput front.

    Parameters
    ----------
    front : list of Solution
        Sorted by latency, ``details`` with ``latency_ms``, ``throughput_fps``
        and ``bottleneck`` (:func:`solvers.pareto` with
        ``objectives=("latency", "throughput")``).

    Returns
    -------
    matplotlib.figure.Figure
        Artists with ``gid``: ``front`` (staircase: the most frames/s within
        each latency), ``points`` (markers), ``split-<k>`` (point ``k``'s
        layers per tier and its bottleneck stage). ``fig.coinfer_front`` is
        the list drawn.
    """
    require_matplotlib()
    lat = [s.details["latency_ms"] for s in front]
    fps = [s.details["throughput_fps"] for s in front]
    fig, ax = new_figure(7.0, 5.0)
    ax.plot(lat, fps, drawstyle="steps-post", color="0.6", lw=1.0, gid="front", label="Pareto front")
    ax.plot(lat, fps, ls="none", marker="o", ms=7, mec=OKABE_ITO[5], mfc=OKABE_ITO[5], gid="points",
            label="non-dominated partition")
    texts = []
    for k, sol in enumerate(front):
        if len(front) <= MAX_LABELS or k in (0, len(front) - 1):
            text = f"{split_label(sol)} ({sol.details['bottleneck']})".strip()
            texts.append(ax.annotate(text, (lat[k], fps[k]), xytext=(5, -12), textcoords="offset points",
                                     fontsize=7.5, color="0.25", gid=f"split-{k}"))
    ax.set_xlabel("single-frame latency (ms)")
    ax.set_ylabel("throughput (frames/s)")
    ax.set_title(title or f"{name or 'partition'}: latency-throughput front ({len(front)} partitions)", fontsize=10)
    return _finish(fig, ax, texts, front, tiers, " (bottleneck stage)")
