"""``coinfer gantt``: solve a pipeline / flow-shop file and print its schedule.

    coinfer gantt FILE [--method M] [--time-limit S] [--seed N] [--width W] [--plot OUT.png]

The text chart has one row per stage; each task's operations are drawn with
its own letter (legend below), ``.`` marks idle time. ``--plot`` also
writes the figure of :func:`solvers.plots.plot_gantt` (png, svg or pdf by
suffix; needs the ``plot`` extra, checked before solving).
"""

from __future__ import annotations

import string

from formulations.errors import OptionError, UnknownOptionError

__all__ = ["add_commands", "gantt_text", "gantt_plot", "cmd_gantt"]

_SYMBOLS = string.ascii_uppercase + string.ascii_lowercase + string.digits


def gantt_text(problem, schedule, *, width: int = 72) -> str:
    """A text Gantt chart of ``schedule`` (from ``problem.evaluate``).

    Each of ``width`` columns covers ``makespan / width`` ms; a cell shows
    the task occupying most of it. O(width * n * m).
    """
    if width < 10:
        raise OptionError(f"`width` must be >= 10, got {width}")
    horizon = max(schedule.makespan_ms, 1e-12)
    step = horizon / width
    label = max(len(s) for s in problem.stages)
    lines = []
    for k, stage in enumerate(problem.stages):
        cells = []
        for col in range(width):
            lo, hi = col * step, (col + 1) * step
            best, cover = ".", 0.0
            for pos in range(len(schedule.order)):
                s, e = schedule.start_ms[pos, k], schedule.end_ms[pos, k]
                overlap = min(e, hi) - max(s, lo)
                if overlap > cover:
                    best, cover = _SYMBOLS[pos % len(_SYMBOLS)], overlap
            cells.append(best)
        lines.append(f"{stage:>{label}} |{''.join(cells)}|")
    lines.append(f"{'':>{label}}  0{'':{width - 1}}{schedule.makespan_ms:.6g} ms")
    legend = [
        f"{_SYMBOLS[pos % len(_SYMBOLS)]}={name}" + (f"[{schedule.configs[name]}]" if problem.has_choice else "")
        for pos, name in enumerate(schedule.order)
    ]
    lines.append("  ".join(legend))
    return "\n".join(lines)


def gantt_plot(problem, schedule, path) -> None:
    """Write the Gantt figure of :func:`solvers.plots.plot_gantt` to ``path`` (extra ``plot``).

    The format comes from the suffix of ``path`` (png, svg, pdf).
    """
    from ..plots import plot_gantt, save_figure

    save_figure(plot_gantt(problem, schedule), path)


def cmd_gantt(args) -> int:
    """Solve one pipeline file and print its Gantt chart (``--plot``: checked for matplotlib first)."""
    import solvers

    from .framework import UsageError, check_writable, fmt_number, load_instance, write_output

    if args.width < 10:
        raise UsageError(f"--width must be >= 10, got {args.width}")
    if args.plot:  # before any solve: a missing extra or a bad suffix costs nothing
        from ..plots._style import output_format, require_matplotlib

        try:
            require_matplotlib()
            output_format(args.plot)
        except (ImportError, ValueError) as exc:
            raise UsageError(f"--plot: {exc}") from None
        check_writable(args.plot, "--plot")
    problem = load_instance(args.file, "pipeline", "gantt (pipeline or flowshop)")
    if args.seed is not None and args.method is None:
        raise UsageError("--seed needs an explicit --method")
    options = {} if args.seed is None else {"seed": args.seed}
    try:
        sol = solvers.solve(problem, method=args.method, time_limit=args.time_limit, **options)
    except UnknownOptionError:  # by class, not by message text
        raise UsageError(f"method {args.method!r} does not take --seed") from None
    unit = "ms" if problem.objective == "makespan" else "tasks/s"
    print(f"{problem.name}: {sol.method} {sol.status.value}, {problem.objective} {fmt_number(sol.objective)} {unit}, "
          f"bound {fmt_number(sol.bound)}, {sol.runtime_s:.3f} s")
    if sol.assignment is None:
        print(f"no schedule: {sol.message}")
        return 0
    schedule = problem.evaluate(sol.assignment)
    print(gantt_text(problem, schedule, width=args.width))
    if problem.objective == "rate" or problem.has_choice:
        loads = ", ".join(f"{s} {v:.2f}" for s, v in zip(problem.stages, schedule.stage_load_ms))
        acc = "-" if schedule.mean_accuracy is None else f"{schedule.mean_accuracy:.4f}"
        print(f"stage loads (ms): {loads}; rate {schedule.rate_per_s:.3f} tasks/s; mean accuracy {acc}")
    if args.plot:
        from ..plots import plot_gantt, save_figure

        write_output(args.plot, "--plot", lambda: save_figure(plot_gantt(problem, sol), args.plot))
        print(f"wrote {args.plot}")
    return 0


def add_commands(subparsers) -> None:
    """Register ``gantt`` on the ``coinfer`` command line."""
    p = subparsers.add_parser("gantt", help="solve a pipeline/flowshop file and print its schedule as a Gantt chart")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--method", "-m", default=None, help="method name (default: the kind's default)")
    p.add_argument("--time-limit", type=float, default=None, metavar="S")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--width", type=int, default=72, help="chart width in characters")
    p.add_argument("--plot", default=None, metavar="OUT.png", help="also write the figure: .png, .svg or .pdf (needs the plot extra)")
    p.set_defaults(func=cmd_gantt)
