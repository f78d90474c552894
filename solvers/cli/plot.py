"""``coinfer plot``: write the figure of an instance file (extra ``coinfer[plot]``: matplotlib).

Usage::

    coinfer plot WHAT FILE -o OUT.(png|svg|pdf) [options]

======================  ============  ===================================================
WHAT                    FILE kind     figure (options)
======================  ============  ===================================================
``bandwidth-map``       partition     optimal latency vs uplink (``--min-mbps``, ``--max-mbps``, ``--method``)
``partition``           partition     DAG coloured by side or tier, the cut (``--uplink-mbps``, ``--method``)
``gantt``               pipeline      schedule per stage, makespan, bound (``--method``)
``exits-front``         exits         accuracy vs mean latency of the best plans (``--method``, ``--floors``)
``dpp``                 offloading    cost and backlog vs V (``--v``, ``--slots``, ``--seed``, ``--metric``,
                                      ``--method fqla`` for FQLA)
``pareto``              partition     latency-energy front (k tiers, energy model); for a throughput
                                      instance the latency-throughput front
``placement``           placement     device lanes, stages, memory per device, transfers (``--method``)
======================  ============  ===================================================

The format comes from the suffix of ``-o``. matplotlib is checked before
anything is solved; without it the command exits 2 with one line naming
the extra. Bad input exits 2, an internal error 1.
"""

from __future__ import annotations

from .framework import EXIT_OK, UsageError, check_writable, load_instance, write_output
from formulations.partition import TieredPartitionProblem

__all__ = ["add_commands", "cmd_plot", "WHATS", "EXITS_FRONT_TIME_LIMIT_S"]

#: Default seconds per solve of ``plot exits-front`` (it solves ``--floors + 2`` times).
EXITS_FRONT_TIME_LIMIT_S = 10.0

#: WHAT -> (problem kind it needs, or None for any).
WHATS = {
    "bandwidth-map": "partition",
    "partition": "partition",
    "gantt": "pipeline",
    "exits-front": "exits",
    "dpp": "offloading",
    "pareto": None,
    "placement": "placement",
}


def _check_options(args) -> None:
    if args.min_mbps is not None and not args.min_mbps > 0:
        raise UsageError(f"--min-mbps must be > 0, got {args.min_mbps}")
    if args.max_mbps is not None and args.min_mbps is not None and args.max_mbps < args.min_mbps:
        raise UsageError(f"--max-mbps ({args.max_mbps}) must be >= --min-mbps ({args.min_mbps})")
    if args.uplink_mbps is not None and not args.uplink_mbps > 0:
        raise UsageError(f"--uplink-mbps must be > 0, got {args.uplink_mbps}")
    if args.slots <= 0:
        raise UsageError(f"--slots must be > 0, got {args.slots}")
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    if any(not v > 0 for v in args.v):
        raise UsageError(f"--v values must be > 0, got {args.v}")
    if args.max_layers < 0:
        raise UsageError(f"--max-layers must be >= 0, got {args.max_layers}")
    if args.floors < 2:
        raise UsageError(f"--floors must be >= 2, got {args.floors}")
    if args.uplink_mbps is not None and args.what not in ("partition", "pareto"):
        raise UsageError(f"--uplink-mbps applies to `plot partition`, not `plot {args.what}`")


def _figure(args, problem):
    from .. import plots

    what = args.what
    if what == "bandwidth-map":
        return plots.plot_bandwidth_map(problem, args.min_mbps or 0.1, args.max_mbps or 1000.0, method=args.method)
    if what == "partition":
        return plots.plot_partition(problem, uplink_mbps=args.uplink_mbps, method=args.method,
                                    time_limit=args.time_limit, max_layers=args.max_layers)
    if what == "gantt":
        return plots.plot_gantt(problem, method=args.method, time_limit=args.time_limit)
    if what == "exits-front":  # floors + 2 solves: CP-SAT gets a default limit per solve
        limit = EXITS_FRONT_TIME_LIMIT_S if args.time_limit is None else args.time_limit
        return plots.plot_exits_front(problem, method=args.method, n_floors=args.floors, time_limit=limit)
    if what == "dpp":  # --method picks the online policy: dpp (default) or fqla
        if args.method not in (None, "dpp", "fqla"):
            raise UsageError(f"plot dpp draws --method dpp or fqla, got {args.method!r}")
        return plots.plot_dpp(problem, args.v, slots=args.slots, seed=args.seed, metric=args.metric,
                              policy=args.method or "dpp")
    if what == "placement":
        return plots.plot_placement(problem, method=args.method)
    if args.uplink_mbps is not None and hasattr(problem, "with_network"):
        problem = problem.with_network(uplink_mbps=args.uplink_mbps)
    if problem.throughput:
        return plots.plot_pareto(problem, objectives=("latency", "throughput"))
    return plots.plot_pareto(problem)


def cmd_plot(args) -> int:
    """Check the extra and the options, load FILE, draw WHAT, write ``-o``."""
    from ..plots._style import output_format, require_matplotlib

    try:
        require_matplotlib()
        output_format(args.output)
    except (ImportError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    check_writable(args.output, "--output")
    _check_options(args)

    from ..plots import save_figure

    problem = load_instance(args.file, WHATS[args.what], f"`plot {args.what}`")
    tiered = isinstance(problem, TieredPartitionProblem)
    if args.what == "bandwidth-map" and tiered:
        raise UsageError(f"{args.file}: `plot bandwidth-map` draws two-tier partition instances; "
                         "for a k-tier instance use `coinfer plot pareto`")
    if args.what == "pareto" and not (tiered and (problem.energy is not None or problem.throughput)):
        raise UsageError(f"{args.file}: `plot pareto` needs a k-tier partition instance with an `energy` model "
                         "(the latency-energy front) or the objective \"throughput\" (the latency-throughput front)")
    try:
        fig = _figure(args, problem)
    except ValueError as exc:  # OptionError and friends (CoinferError is a ValueError)
        raise UsageError(f"{args.file}: {exc}") from None
    write_output(args.output, "--output", lambda: save_figure(fig, args.output))
    print(f"wrote {args.output}")
    return EXIT_OK


def add_commands(subparsers) -> None:
    """Register ``plot`` on the ``coinfer`` sub-parsers."""
    p = subparsers.add_parser("plot", help="write a figure (png/svg/pdf) of an instance; needs coinfer[plot]")
    p.add_argument("what", choices=list(WHATS), metavar="WHAT", help="one of: " + ", ".join(WHATS))
    p.add_argument("file", metavar="FILE")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output file: .png, .svg or .pdf")
    p.add_argument("--uplink-mbps", type=float, default=None, help="partition: solve at this uplink (Mbps; link 0's for k tiers)")
    p.add_argument("--min-mbps", "--min", dest="min_mbps", type=float, default=None,
                   help="bandwidth-map: lowest uplink (Mbps, default 0.1)")
    p.add_argument("--max-mbps", "--max", dest="max_mbps", type=float, default=None,
                   help="bandwidth-map: highest uplink (Mbps, default 1000)")
    p.add_argument("--method", "-m", default=None, help="method (default: the kind's; bandwidth-map: an exact partition method)")
    p.add_argument("--time-limit", type=float, default=None, metavar="S", help="seconds per solve, for search methods (exits-front: default 10)")
    p.add_argument("--v", nargs="+", type=float, default=[1.0, 10.0, 100.0], metavar="V", help="dpp: values of V")
    p.add_argument("--slots", type=int, default=2000, help="dpp: simulated slots per V (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="dpp: simulation seed")
    p.add_argument("--metric", choices=("backlog", "delay"), default="backlog", help="dpp: right panel")
    p.add_argument("--floors", type=int, default=12, help="exits-front: accuracy floors solved (default 12)")
    p.add_argument("--max-layers", type=int, default=60, help="partition: collapse DAGs with more layers")
    p.set_defaults(func=cmd_plot)
