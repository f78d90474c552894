"""``coinfer simulate`` and ``coinfer sweep``: online offloading policies from the command line.

coinfer simulate FILE [--policy dpp|fqla|...] [--v 50] [--slack S] [--service fifo|lifo] [--slots 10000]
                      [--seed 1] [--json] [--series] [--quiet]
coinfer sweep FILE... [--policy dpp fqla ...] [--v 1 10 100] [--seeds 1 2] [--slots N]
                      [--workers N] [--scheduler tcp://host:8786] [--json]

``simulate`` prints the time-average cost (``average_penalty``), backlog
(``average_backlog``, tasks) and mean delay per task (ms, by Little's law and
measured from arrivals to completions) of one run, its stability and
convergence verdicts (a run below ``p*`` has not converged; it says about how
many slots it would need), beside the stationary-LP optimum ``p*`` and, for ``dpp``, the bounds
``p* + B/V`` and ``(B + V p_max)/epsilon``; a progress bar goes to stderr. ``sweep`` runs many (scenario, policy, V, seed)
cells in local processes, or on a Dask cluster with ``--scheduler``.
"""

from __future__ import annotations

import json
from pathlib import Path

from .framework import EXIT_OK, ProgressBar, UsageError, format_table, load_instance, require_extra

__all__ = ["add_commands", "cmd_simulate", "cmd_sweep"]

POLICY_NAMES = ("dpp", "fqla", "all_local", "least_loaded", "greedy_queue", "lp_sampled")
#: Policies that take ``--v`` (and ``--service``).
V_POLICIES = ("dpp", "fqla")


def _policy_params(policy: str, v: float | None, slack: float | None = None, service: str = "fifo") -> dict:
    if policy in V_POLICIES:
        if v is None or not v > 0:
            raise UsageError(f"--v must be > 0, got {v!r}")
        params = {"v": float(v)} if service == "fifo" else {"v": float(v), "service": service}
        if slack is not None:
            if policy != "fqla" or not slack >= 0:
                raise UsageError(f"--slack is an fqla option (>= 0), got {slack!r} with --policy {policy}")
            params["slack"] = float(slack)
        return params
    if slack is not None or service != "fifo":
        raise UsageError(f"--slack and --service are options of {' and '.join(V_POLICIES)}, not of {policy}")
    return {}


def _check_counts(slots: int, seeds=()) -> None:
    if slots <= 0:
        raise UsageError(f"--slots must be > 0, got {slots}")
    for s in seeds:
        if s < 0:
            raise UsageError(f"--seed must be >= 0, got {s}")


def cmd_simulate(args) -> int:
    import solvers
    from formulations.offloading.simulator import simulate

    from ..algorithms.offloading import guarantee, make_policy

    _check_counts(args.slots, [args.seed])
    problem = load_instance(args.file, "offloading", "simulate")
    params = _policy_params(args.policy, args.v, args.slack, args.service)
    policy = make_policy(problem, args.policy, **params)  # OptionError (exit 2) for bad parameters
    progress = None if args.quiet else ProgressBar(label="slots")
    result = simulate(problem, policy, slots=args.slots, seed=args.seed, progress=progress)
    lp = solvers.offloading(problem, method="stationary_lp")
    p_star = lp.objective
    record = result.to_dict(series=args.series)
    record["file"] = args.file
    record["p_star"] = p_star
    if args.policy == "dpp":
        record["guarantee"] = guarantee(problem, params["v"], p_star, problem.lp_slack)
    if args.json:
        print(json.dumps(record, indent=1))
        return EXIT_OK
    unit = problem.metadata.get("cost_unit", "cost units")
    rows = [
        {"k": "policy", "v": f"{result.policy}" + _params_text(result.params)},
        {"k": "slots, seed", "v": f"{result.slots}, {result.seed}"},
        {"k": "average_penalty", "v": f"{result.average_penalty:.6g} {unit}/slot (+- {result.penalty_stderr:.2g} s.e.)"},
        {"k": "average_backlog", "v": f"{result.average_backlog:.6g} tasks ({result.final_backlog} queued at the end)"},
        {"k": "mean_delay_ms", "v": f"{_ms(result.mean_delay_ms)} (Little's law: backlog / arrivals per slot)"},
        {"k": "measured_delay_ms", "v": f"{_ms(result.measured_delay_ms)} (arrival to completion, {result.completed} tasks completed)"},
        {"k": "stable", "v": ("yes: " if result.stable else "no: ") + result.stability_reason.split(": ", 1)[1]},
        {"k": "converged", "v": _converged(result)},
        {"k": "p* (stationary LP)", "v": "infeasible: load cannot be served" if p_star is None else f"{p_star:.6g} {unit}/slot"},
    ]
    if args.policy == "dpp":
        g = record["guarantee"]
        if g["cost_bound"] is not None:
            rows.append({"k": "bound p* + B/V", "v": f"{g['cost_bound']:.6g} {unit}/slot (B = {g['B']:.6g})"})
        if g["backlog_bound"] is not None:
            rows.append({"k": "backlog bound", "v": f"{g['backlog_bound']:.6g} tasks (epsilon = {g['epsilon']:.4g})"})
    rows.append({"k": "speed", "v": f"{result.slots_per_s:,.0f} slots/s"})
    print(format_table(rows, [("k", Path(args.file).name, "<"), ("v", "", "<")]))
    return EXIT_OK


def _params_text(params: dict) -> str:
    if not params:
        return ""
    return " (" + ", ".join(f"{'V' if k == 'v' else k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
                            for k, v in params.items()) + ")"


def _converged(result) -> str:
    text = ("yes: " if result.converged else "no: ") + result.convergence_reason.split(": ", 1)[1]
    if result.slots_needed is not None:
        text += f"; needs about {result.slots_needed:,} slots"
    return text


def _ms(value: float | None) -> str:
    return "-" if value is None or value != value else f"{value:.6g} ms"


def cmd_sweep(args) -> int:
    from ..algorithms.offloading.sweep import sweep

    _check_counts(args.slots, args.seeds)
    for v in args.v:
        _policy_params("dpp", v)
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be >= 1, got {args.workers}")
    if args.scheduler:
        require_extra("dask.distributed", "dask", "--scheduler")  # before loading any file
    problems = {}
    for path in args.files:
        problem = load_instance(path, "offloading", "sweep")
        problems[Path(path).stem] = problem
    rows = sweep(problems, vs=args.v, seeds=args.seeds, policies=args.policy, slots=args.slots,
                 scheduler=args.scheduler, max_workers=args.workers)
    if args.json:
        print(json.dumps(rows, indent=1))
        return EXIT_OK
    table = [
        {
            "scenario": r["scenario"],
            "policy": r["policy"],
            "v": f"{r['params']['v']:g}" if "v" in r["params"] else "-",
            "seed": r["seed"],
            "pen": f"{r['average_penalty']:.5g}",
            "backlog": f"{r['average_backlog']:.5g}",
            "delay": "-" if r["measured_delay_ms"] is None else f"{r['measured_delay_ms']:.5g}",
            "final": r["final_backlog"],
            "stable": "yes" if r["stable"] else "no",
            "conv": "yes" if r["converged"] else ("no" if r["slots_needed"] is None else f"no (~{r['slots_needed']:,} slots)"),
        }
        for r in rows
    ]
    cols = [("scenario", "Scenario", "<"), ("policy", "Policy", "<"), ("v", "V", ">"), ("seed", "Seed", ">"),
            ("pen", "average_penalty", ">"), ("backlog", "average_backlog", ">"), ("delay", "measured_delay_ms", ">"),
            ("final", "Queued at end", ">"),
            ("stable", "Stable", "<"), ("conv", "Converged", "<")]
    print(format_table(table, cols))
    print(f"  cells: {len(rows)}  " + ("dask: " + args.scheduler if args.scheduler else f"local processes: {args.workers or 'default'}"))
    return EXIT_OK


def add_commands(subparsers) -> None:
    """Register ``simulate`` and ``sweep`` with the ``coinfer`` parser."""
    p = subparsers.add_parser("simulate", help="simulate an online offloading policy on an instance")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--policy", default="dpp", choices=POLICY_NAMES)
    p.add_argument("--v", type=float, default=50.0, help="cost weight V of dpp and fqla")
    p.add_argument("--slack", type=float, default=None, help="fqla: tasks the real queues hold (default log(1+V)^2)")
    p.add_argument("--service", choices=("fifo", "lifo"), default="fifo", help="dpp, fqla: queue discipline (delays)")
    p.add_argument("--slots", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print a JSON object (keys average_penalty, average_backlog, mean_delay_ms, ...)")
    p.add_argument("--series", action="store_true", help="with --json: include the per-slot series")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_simulate)

    p = subparsers.add_parser("sweep", help="simulate policies over V, seeds and scenarios in parallel")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--policy", nargs="+", default=["dpp"], choices=POLICY_NAMES)
    p.add_argument("--v", nargs="+", type=float, default=[1.0, 10.0, 100.0])
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--slots", type=int, default=10_000)
    p.add_argument("--workers", type=int, default=None, help="local processes (default: one per core)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS", help="Dask scheduler address (needs coinfer[dask])")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sweep)
