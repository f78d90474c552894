"""Benchmark of throughput-optimal partitions (``"objective": "throughput"``) against the latency optimum.

Run ``python benchmarks/bench_throughput.py [--quick]`` (or ``benchmarks/run.py throughput``).
Prints markdown tables and writes them to ``benchmarks/results/throughput.md``.

Protocol
--------
- ``synthetic_700.json`` at 18.88 Mbps with the throughput objective: the
  default solve (``ilp``: CP-SAT minimizing the period, one worker),
  loading included, wall-clock s over ``repeats`` runs (median, IQR); the
  issue's target is a proven optimum in under 2 s.
- The suite (``instances/partition/suite/*.json``) at 1.1 / 5.85 / 18.88 /
  100 Mbps: the latency-optimal split (``qdmp``) evaluated as a stream
  (frames/s), the throughput-optimal split's frames/s and its single-frame
  latency (ms), and the solve time; status must be ``optimal`` throughout.
- The same runs with ``dads_heavy`` (DADS's heavy-load baseline): its
  frames/s and its measured ratio ``optimum frames/s / dads frames/s`` (its
  period over the optimal period, >= 1) per model and bandwidth, then the
  worst and mean ratio over the suite against the proven bound ``s`` (the
  number of loaded stages, ``details["ratio_bound"]``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import formulations  # noqa: E402
from benchmarks.timing import median_iqr  # noqa: E402
import solvers  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "throughput.md"
BANDWIDTHS = (1.1, 5.85, 18.88, 100.0)


def stream_problem(path: Path, uplink_mbps: float):
    data = json.loads(path.read_text())
    data["network"]["uplink_mbps"] = uplink_mbps
    latency = formulations.PartitionProblem.from_dict(data)
    data["objective"] = "throughput"
    return latency, formulations.PartitionProblem.from_dict(data)


def headline(repeats: int) -> list[str]:
    path = ROOT / "instances" / "partition" / "synthetic_700.json"
    times, sol = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        _, problem = stream_problem(path, 18.88)
        sol = solvers.solve(problem, time_limit=60)
        times.append(time.perf_counter() - start)
    median, iqr = median_iqr(times)
    return [f"synthetic_700.json at 18.88 Mbps, throughput objective, loading included: {sol.status.value}, "
            f"{sol.objective:.3f} frames/s, median {median:.2f} s (IQR {iqr:.2f} s, "
            f"{repeats} runs; target < 2 s)."]


def suite_table(files) -> list[str]:
    lines = ["| model | Mbps | latency-optimal: frames/s (latency ms) | throughput-optimal: frames/s (latency ms) "
             "| gain | solve s | status | dads_heavy frames/s | dads ratio | dads s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    ratios, bounds = [], set()
    for path in files:
        for mbps in BANDWIDTHS:
            latency, stream = stream_problem(path, mbps)
            fast = solvers.solve(latency)
            as_stream = stream.evaluate({"device": fast.assignment["device"], "server": fast.assignment["server"]})
            start = time.perf_counter()
            best = solvers.solve(stream, time_limit=60)
            elapsed = time.perf_counter() - start
            ev = stream.evaluate(best.assignment)
            start = time.perf_counter()
            dads = solvers.solve(stream, method="dads_heavy", time_limit=60)
            dads_s = time.perf_counter() - start
            rate = stream.evaluate(dads.assignment).objective  # re-evaluated by the formulation
            ratios.append(best.objective / rate)
            bounds.add(dads.details.get("ratio_bound"))
            lines.append(f"| {path.stem} | {mbps:g} | {as_stream.objective:.2f} ({as_stream.latency_ms:.1f}) | "
                         f"{best.objective:.2f} ({ev.latency_ms:.1f}) | {best.objective / as_stream.objective:.2f}x | "
                         f"{elapsed:.2f} | {best.status.value} | {rate:.2f} | {ratios[-1]:.3f} | {dads_s:.2f} |")
    exact = sum(r <= 1 + 1e-9 for r in ratios)
    lines += ["", f"dads_heavy on {len(ratios)} runs: measured ratio (optimal frames/s / dads_heavy frames/s) "
              f"worst {max(ratios):.3f}, mean {sum(ratios) / len(ratios):.3f}, optimal in {exact}/{len(ratios)}; "
              f"proven bound s = {', '.join(str(b) for b in sorted(bounds, key=str))} (loaded stages)."]
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    files = sorted((ROOT / "instances" / "partition" / "suite").glob("*.json"))
    if args.quick:
        files = files[:2]
    lines = headline(1 if args.quick else 5) + [""] + suite_table(files)
    text = "\n".join(lines)
    print(text)
    if not args.quick:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text("# Throughput-optimal partitions (streams of frames)\n\n" + text + "\n")


if __name__ == "__main__":
    main()
