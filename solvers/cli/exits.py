"""``coinfer exits-holdout``: choose exit thresholds on validation samples, run them on test samples.

Usage::

    coinfer exits-holdout FILE [--test FILE2 | --fraction F --seed S] [--method M]
                               [--time-limit S] [--json]

With ``--test``, FILE's samples are the validation set and FILE2's the test
set (same blocks and exits). Otherwise FILE's samples are split at random:
``--fraction`` (default 0.5) to validation. Prints one row per sample set
(mean latency in ms, accuracy, whether the constraints hold). Exit code 2
on bad input.
"""

from __future__ import annotations

import json

from formulations.errors import UnknownOptionError

__all__ = ["add_commands", "cmd_holdout"]


def cmd_holdout(args) -> int:
    from solvers.algorithms.exits.holdout import holdout
    from .framework import UsageError, format_table, load_instance

    problem = load_instance(args.file, "exits", "exits-holdout")
    test = load_instance(args.test, "exits", "--test") if args.test else None
    if args.seed_solver is not None and args.method is None:
        raise UsageError("--solver-seed needs an explicit --method")
    options = {} if args.seed_solver is None else {"seed": args.seed_solver}
    try:  # bad options raise OptionError (exit 2); any other error is a bug (exit 1)
        report = holdout(problem, args.method, test=test, fraction=args.fraction, seed=args.seed,
                         time_limit=args.time_limit, **options)
    except UnknownOptionError:  # by class, not by message text
        raise UsageError(f"method {args.method!r} does not take --solver-seed") from None
    if args.json:
        print(json.dumps(report.to_dict(), indent=1))
        return 0
    sol = report.solution
    print(f"method {sol.method}: {sol.status.value} on validation; plan {json.dumps(sol.assignment)}")
    rows = []
    for tag, n, ev in (("validation", report.n_validation, report.validation), ("test", report.n_test, report.test)):
        if ev is None:
            rows.append({"set": tag, "n": n, "lat": "-", "acc": "-", "ok": "-"})
            continue
        rows.append({"set": tag, "n": n, "lat": f"{ev.mean_latency_ms:.4g}", "acc": f"{ev.accuracy:.4f}",
                     "ok": "yes" if ev.feasible else "no: " + "; ".join(ev.violations)})
    cols = [("set", "Samples", "<"), ("n", "N", ">"), ("lat", "Mean latency (ms)", ">"), ("acc", "Accuracy", ">"),
            ("ok", "Constraints hold", "<")]
    print(format_table(rows, cols))
    return 0


def add_commands(subparsers) -> None:
    """Register ``exits-holdout`` on the ``coinfer`` sub-parsers."""
    p = subparsers.add_parser("exits-holdout", help="choose exit thresholds on validation samples, measure on test samples")
    p.add_argument("file", metavar="FILE", help="exits instance (its samples: validation, or both when split)")
    p.add_argument("--test", default=None, metavar="FILE2", help="second instance whose samples are the test set")
    p.add_argument("--fraction", type=float, default=0.5, help="validation share when splitting FILE (default 0.5)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random split")
    p.add_argument("--method", "-m", default=None, help="exits method (default: the kind's default)")
    p.add_argument("--solver-seed", dest="seed_solver", type=int, default=None, help="seed passed to the method")
    p.add_argument("--time-limit", type=float, default=None, metavar="S")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_holdout)
