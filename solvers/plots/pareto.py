"""``pareto``: the latency-energy front of a k-tier partitioning instance."""

from __future__ import annotations

from ._style import OKABE_ITO, instance_name, new_figure, require_matplotlib

__all__ = ["plot_pareto", "pareto_front", "PARETO_UNAVAILABLE"]

#: Message when the k-tier partitioning capability (``solvers.pareto``) is not installed.
PARETO_UNAVAILABLE = ("the pareto front needs the k-tier partitioning capability (solvers.pareto), "
                      "which this version of coinfer does not have")

_KEYS = ("latency_ms", "energy_mj", "supported")


def pareto_front(front_or_problem) -> list:
    """The front as a list of Solutions sorted by latency.

    ``front_or_problem`` is such a list, or a problem for which
    ``solvers.pareto(problem)`` computes it.

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
        front = list(compute(front_or_problem))
    if not front:
        raise ValueError("the pareto front is empty")
    for i, sol in enumerate(front):
        details = getattr(sol, "details", None) or {}
        missing = [k for k in _KEYS if k not in details]
        if missing:
            raise ValueError(f"front[{i}].details lacks {missing} (needs {list(_KEYS)})")
    return sorted(front, key=lambda s: (s.details["latency_ms"], s.details["energy_mj"]))


def plot_pareto(front_or_problem, *, name: str | None = None, title: str | None = None):
    """Energy (mJ) against latency (ms) of the Pareto-optimal partitions, supported points distinguished.

    Parameters
    ----------
    front_or_problem : list of Solution or problem
        Solutions whose ``details`` hold ``latency_ms``, ``energy_mj`` and
        ``supported`` (on the lower convex hull, i.e. optimal for some
        weighted sum), or a k-tier problem (``solvers.pareto`` is called).
    name : str, optional
        Instance name for the title (default: the problem's name).

    Returns
    -------
    matplotlib.figure.Figure
        Artists with ``gid``: ``front`` (staircase through every point, in
        latency order), ``supported`` (filled markers) and ``unsupported``
        (hollow markers; absent when there are none), x = latency (ms),
        y = energy (mJ). ``fig.coinfer_front`` is the sorted list drawn.

    Raises
    ------
    ValueError
        See :func:`pareto_front`.
    """
    require_matplotlib()
    front = pareto_front(front_or_problem)
    if name is None and not isinstance(front_or_problem, (list, tuple)):
        name = instance_name(front_or_problem, "k-tier")
    lat = [s.details["latency_ms"] for s in front]
    energy = [s.details["energy_mj"] for s in front]
    fig, ax = new_figure(7.0, 4.6)
    ax.plot(lat, energy, drawstyle="steps-post", color="0.6", lw=1.0, gid="front", label="Pareto front")
    for gid, flag, style in (("supported", True, {"mfc": OKABE_ITO[5]}), ("unsupported", False, {"mfc": "white"})):
        pts = [(x, y) for x, y, s in zip(lat, energy, front) if bool(s.details["supported"]) is flag]
        if pts:
            xs, ys = zip(*pts)
            label = ("supported (optimal for a weighted sum)" if flag else "unsupported (inside the convex hull)")
            ax.plot(xs, ys, ls="none", marker="o", ms=7, mec=OKABE_ITO[5], mew=1.4, gid=gid, label=label, **style)
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("energy (mJ)")
    ax.set_title(title or f"{name or 'k-tier'}: latency-energy front ({len(front)} partitions)", fontsize=10)
    ax.grid(True, color="0.92")
    ax.legend(fontsize=8, loc="upper right")
    fig.coinfer_front = front
    return fig
