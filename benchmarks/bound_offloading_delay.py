"""Lower bound on the mean delay of ANY policy whose cost is within a factor of ``p*`` (issue 23).

Run ``python benchmarks/bound_offloading_delay.py [SCENARIO ...] [--within 0.01] [--etas ...]``.
Writes ``benchmarks/results/offloading_delay_bound.md``.

Issue 23 asks for an online policy within 1% of ``p*`` whose measured mean
delay is at most 1/5 of drift-plus-penalty's. Whether that is possible at all
on a scenario is a property of the scenario, not of a policy:
:func:`formulations.offloading.delay_bound.delay_lower_bound` bounds the
delay of every policy at that cost from below (method in its module
docstring: servers' capacities relaxed, devices decoupled, a per-device MDP
solved by relative value iteration, weak duality over a price ``eta``, and
Little's law). The bound is for the stationary regime; the benchmark's runs
start from empty queues.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "offloading_delay_bound.md"
sys.path.insert(0, str(ROOT))

import formulations  # noqa: E402
from formulations.offloading.delay_bound import Q_MAX, delay_lower_bound  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenarios", nargs="*", default=["resnet18_exits_edge", "vgg16_edge"])
    ap.add_argument("--within", type=float, default=0.01, help="cost allowance over p* (default 0.01 = 1%%)")
    ap.add_argument("--etas", default="", help="comma-separated prices eta (tasks per cost unit); default a log grid")
    args = ap.parse_args(argv)
    etas = [float(x) for x in args.etas.split(",")] if args.etas else None
    lines = [f"Lower bound on the mean delay per task of any policy with average cost <= (1 + {args.within:g}) p* "
             f"(servers' capacities relaxed, devices decoupled, per-device MDP (queue cap {Q_MAX}) by relative value "
             "iteration, weak duality over the price eta; `formulations.offloading.delay_bound`).", "",
             "| scenario | p* | best eta | backlog >= (tasks, devices + servers) | mean delay >= | time |",
             "|---|---:|---:|---:|---:|---:|"]
    for name in args.scenarios:
        problem = formulations.load(ROOT / "instances" / "offloading" / f"{name}.json")
        started = time.perf_counter()
        print(name, file=sys.stderr)
        b = delay_lower_bound(problem, args.within, etas, progress=lambda eta, value, it: print(
            f"  eta {eta:.3g}: backlog >= {value:.1f} tasks ({it} iterations)", file=sys.stderr, flush=True))
        lines.append(f"| {name} | {problem.lp_optimum.p_star:.1f} | {b.eta:.3g} | {b.backlog:.1f} | "
                     f"{b.delay_ms / 1000:.2f} s | {time.perf_counter() - started:.0f} s |")
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
