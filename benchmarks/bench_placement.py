"""Benchmark of layer placement: the exact DP on decoders of 32 and 80 blocks, and the baselines' gaps.

Run ``python benchmarks/bench_placement.py [--quick]`` (or ``benchmarks/run.py placement``).
Prints a markdown table and writes it to ``benchmarks/results/placement.md``.

Protocol
--------
- Instances: Llama-3-8B shapes (32 blocks, 34 layers with embedding and head)
  on the 4-device home cluster of ``instances/placement/llama8b_home.json``,
  and Llama-3-70B shapes (80 blocks, 82 layers) on the 8 devices of
  ``llama70b_8dev.json``, each with the latency and the throughput objective.
- ``dp``: ``solvers.solve(problem)`` (the default, exact), wall-clock ms
  including evaluation, ``repeats`` runs in one process: median and IQR.
- ``ring`` (exo's default) and ``greedy`` (fastest first): their objective and
  gap to the optimum (latency: how much slower; throughput: how many fewer
  tokens/s), in the same run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import formulations  # noqa: E402
from benchmarks.timing import median_iqr  # noqa: E402
import solvers  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "placement.md"
INSTANCES = ["llama8b_home", "llama70b_8dev", "resnet18_jetsons"]
#: The issue's targets for a proven optimum (seconds): 32 blocks on 4 devices, 80 blocks on 8.
TARGET_S = {"llama8b_home": 0.2, "llama70b_8dev": 2.0}


def timed(func, repeats: int):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        times.append((time.perf_counter() - start) * 1000.0)
    median, iqr = median_iqr(times)
    return median, iqr, result


def gap(value, best, sense) -> str:
    if value is None:
        return "no plan"
    pct = max(0.0, (value / best - 1) * 100 if sense == "min" else (1 - value / best) * 100)
    return f"{value:.2f} (+{pct:.1f}%)" if sense == "min" else f"{value:.2f} (-{pct:.1f}%)"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 15
    lines = [f"Exact DP (default) vs exo-style ring and fastest-first greedy; dp wall ms over {repeats} runs "
             "(median, IQR).", "",
             "| instance | layers x devices | objective | dp ms (median / IQR) | target | optimum | ring | greedy |",
             "|---|---|---|---|---|---|---|---|"]
    for name in INSTANCES:
        base = formulations.load(ROOT / "instances" / "placement" / f"{name}.json")
        for objective in ("latency", "throughput"):
            problem = base.replace(objective=objective)
            median, iqr, best = timed(lambda: solvers.solve(problem), repeats)
            assert best.status.value == "optimal", (name, objective, best.message)
            others = [solvers.solve(problem, method=m) for m in ("ring", "greedy")]
            unit = "ms per token or frame" if objective == "latency" else "tokens or frames per s"
            target = f"< {TARGET_S[name]:g} s" if name in TARGET_S else "-"
            lines.append(f"| {name} | {problem.n_layers} x {problem.n_devices} | {objective} ({unit}) | "
                         f"{median:.1f} / {iqr:.1f} | {target} | {best.objective:.2f} | "
                         + " | ".join(gap(o.objective, best.objective, problem.sense) for o in others) + " |")
    text = "\n".join(lines)
    print(text)
    if not args.quick:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text("# Layer placement\n\n" + text + "\n")


if __name__ == "__main__":
    main()
