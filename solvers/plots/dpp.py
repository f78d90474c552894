"""``dpp``: the cost-backlog trade-off of drift-plus-penalty (or FQLA) against V."""

from __future__ import annotations

import numpy as np

from ._style import OKABE_ITO, instance_name, new_figure, require_matplotlib

__all__ = ["plot_dpp", "dpp_runs"]

#: Legend label of each policy the figure draws.
LABELS = {"dpp": "drift-plus-penalty", "fqla": "FQLA"}


def dpp_runs(problem, vs, *, slots: int = 2000, seed: int = 0, policy: str = "dpp") -> list[dict]:
    """Simulate the online policy ``policy`` (``dpp`` or ``fqla``) once per ``V``.

    Returns
    -------
    list of dict
        Per V (ascending): ``v``, ``average_penalty`` (cost per slot),
        ``average_backlog`` (tasks), ``average_delay_slots`` (Little's law:
        backlog / total arrival rate), ``measured_delay_ms``, ``stable``,
        ``converged`` and ``slots_needed`` (the run's verdicts). Same
        ``seed``, same arrivals and link states for every V. O(len(vs) *
        slots * links).
    """
    from formulations.offloading.simulator import simulate

    from ..algorithms.offloading import make_policy

    vs = sorted(float(v) for v in vs)
    if not vs:
        raise ValueError("need at least one value of V")
    total_rate = float(np.sum(problem.rates))
    runs = []
    for v in vs:
        result = simulate(problem, make_policy(problem, policy, v=v), slots=int(slots), seed=int(seed))
        runs.append({
            "v": v,
            "average_penalty": result.average_penalty,
            "average_backlog": result.average_backlog,
            "average_delay_slots": result.average_backlog / total_rate if total_rate > 0 else 0.0,
            "measured_delay_ms": result.measured_delay_ms,
            "stable": result.stable,
            "converged": result.converged,
            "slots_needed": result.slots_needed,
        })
    return runs


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def plot_dpp(problem, vs=(1.0, 10.0, 100.0), *, slots: int = 2000, seed: int = 0, metric: str = "backlog",
             title: str | None = None, policy: str = "dpp"):
    """Average cost and average backlog (or delay) of drift-plus-penalty (or FQLA) against V, p* as a line.

    Parameters
    ----------
    problem : OffloadingProblem
    vs : sequence of float
        Values of V (> 0), drawn on a log axis.
    slots, seed
        Simulation length and seed (:func:`dpp_runs`).
    metric : {"backlog", "delay"}
        Right panel: time-average backlog (tasks) or mean delay (slots, by
        Little's law).
    policy : {"dpp", "fqla"}
        The online policy simulated at each V.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes. Left (``fig.axes[0]``): ``cost`` (x = V, y = average cost
        per slot of each run), ``p-star`` (the ``stationary_lp`` optimum,
        when the LP is feasible), ``cost-bound`` (``p* + B/V``, dpp only).
        Right (``fig.axes[1]``): ``backlog`` or ``delay`` (x = V). Runs the
        simulator judges not converged (``converged`` False: unstable, or
        cheaper than p* by more than their standard error, so their queues
        still hold unpaid work) are circled on both panels:
        ``not-converged`` and ``not-converged-queue``. ``fig.coinfer_runs``
        holds :func:`dpp_runs`' rows, ``fig.coinfer_p_star`` p* (or None).

    Notes
    -----
    The drift-plus-penalty guarantee: cost <= p* + B/V and backlog = O(V);
    the figure shows how close a finite run gets.
    """
    require_matplotlib()
    if metric not in ("backlog", "delay"):
        raise ValueError(f"`metric` must be 'backlog' or 'delay', got {metric!r}")
    if policy not in LABELS:
        raise ValueError(f"`policy` must be one of {sorted(LABELS)}, got {policy!r}")
    runs = dpp_runs(problem, vs, slots=slots, seed=seed, policy=policy)
    optimum = problem.lp_optimum
    p_star = None if optimum is None else optimum.p_star
    label = f"{LABELS[policy]} (simulated)"
    x = [r["v"] for r in runs]
    fig, (ax_cost, ax_queue) = new_figure(10.0, 4.2, ncols=2)
    ax_cost.plot(x, [r["average_penalty"] for r in runs], marker="o", color=OKABE_ITO[5], gid="cost", label=label)
    if p_star is not None:
        ax_cost.axhline(p_star, color=OKABE_ITO[0], ls="--", lw=1.2, gid="p-star", label=f"p* = {p_star:.4g} (stationary LP)")
        if policy == "dpp":
            xs = np.geomspace(min(x), max(x), 64) if len(x) > 1 else np.asarray(x)
            ax_cost.plot(xs, p_star + problem.lyapunov_b / xs, color=OKABE_ITO[6], ls=":", lw=1.2, gid="cost-bound",
                         label="guarantee p* + B/V")
        ax_cost.set_ylim(0, max(max(r["average_penalty"] for r in runs), p_star) * 1.25 + 1e-9)
    key, gid, ylabel = (("average_backlog", "backlog", "average backlog (tasks)") if metric == "backlog"
                        else ("average_delay_slots", "delay", "mean delay (slots, Little's law)"))
    ax_queue.plot(x, [r[key] for r in runs], marker="s", color=OKABE_ITO[1], gid=gid, label=label)
    unstable = [r for r in runs if not r["stable"]]
    if unstable:
        ax_queue.plot([r["v"] for r in unstable], [r[key] for r in unstable], ls="none", marker="x", ms=10,
                      color=OKABE_ITO[6], gid="unstable", label="queues still growing")
    open_runs = [r for r in runs if not r["converged"]]
    if open_runs:
        mark = dict(ls="none", marker="D", ms=9, mfc="none", mec=OKABE_ITO[6], mew=1.5, label="not converged")
        ax_cost.plot([r["v"] for r in open_runs], [r["average_penalty"] for r in open_runs], gid="not-converged", **mark)
        ax_queue.plot([r["v"] for r in open_runs], [r[key] for r in open_runs], gid="not-converged-queue", **mark)
    for ax in (ax_cost, ax_queue):
        ax.set_xscale("log")
        ax.set_xlabel("V (cost weight, log scale)")
        ax.grid(True, color="0.92")
        ax.legend(fontsize=8, loc="best")
    unit = problem.metadata.get("cost_unit")
    ax_cost.set_ylabel(f"average cost per slot ({unit}/slot)" if unit else "average cost per slot (instance cost units)")
    ax_queue.set_ylabel(ylabel)
    ax_queue.set_ylim(bottom=0)
    fig.suptitle(title or f"{instance_name(problem, 'offloading')}: {LABELS[policy]} vs V "
                          f"({_count(problem.n_devices, 'device')}, {_count(problem.n_servers, 'server')}, "
                          f"{_count(slots, 'slot')}, seed {seed})",
                 fontsize=10)
    fig.coinfer_runs = runs
    fig.coinfer_p_star = p_star
    return fig
