"""Benchmark of the pipeline / flow-shop solvers.

Run ``python benchmarks/bench_pipeline.py [--quick]`` (or ``benchmarks/run.py``).
Prints markdown tables and writes them to ``benchmarks/results/pipeline.md``.

Protocol
--------
- Taillard's 20x5 set (``instances/flowshop/ta001-ta010.fsp``, regenerated
  from the published seeds; known optima in the metadata). Per instance:
  ``neh`` (deterministic; median wall time over repeats), ``ig`` (NEH +
  iterated greedy with local search, seed 0, a fixed time budget), and
  ``exact`` (CP-SAT, ``num_workers`` as below, one time limit): its status,
  proven bound and wall time. Gaps are ``(makespan - optimum) / optimum``.
- Co-inference stream ``instances/pipeline/coinfer_stream_50x5.json`` (50
  tasks, 3 stages, 5 configurations each, accuracy floor): every heuristic's
  makespan, its gap to the best proven bound (the larger of the
  ``lower_bound`` method's and CP-SAT's bound after the time limit), and its
  median wall time (warm: one untimed call first, so imports and scipy's
  first LP are not counted). Baseline: what a user would write without a
  solver, every task in its most accurate configuration (fastest among
  equals) in arrival order.
- One process, 2-core machine, other jobs possibly running; times in ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import solvers
from formulations import load
from formulations.pipeline.taillard import TA_20x5, read_taillard

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "pipeline.md"
STREAM = ROOT / "instances" / "pipeline" / "coinfer_stream_50x5.json"
HEURISTICS = ("lower_bound", "lagrangian", "bottleneck", "johnson", "neh", "ig")


def timed(problem, method, repeats, **options):
    """(solution of the last run, median wall ms)."""
    times, sol = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        sol = solvers.pipeline(problem, method=method, **options)
        times.append((time.perf_counter() - start) * 1000.0)
    return sol, statistics.median(times)


def bench_taillard(quick: bool, ig_budget_s: float, cp_limit_s: float, workers: int) -> list[dict]:
    rows = []
    names = TA_20x5[:3] if quick else TA_20x5
    for name, _, optimum in names:
        p = read_taillard(ROOT / "instances" / "flowshop" / f"{name}.fsp")
        neh, neh_ms = timed(p, "neh", 3 if quick else 11)
        ig, ig_ms = timed(p, "ig", 1, time_budget=ig_budget_s, seed=0)
        ex, ex_ms = timed(p, "exact", 1, time_limit=cp_limit_s, num_workers=workers)
        rows.append({
            "instance": name, "optimum": optimum,
            "neh": neh.objective, "neh_gap": (neh.objective - optimum) / optimum, "neh_ms": neh_ms,
            "ig": ig.objective, "ig_gap": (ig.objective - optimum) / optimum, "ig_iter": ig.details.get("iterations"),
            "lb": neh.bound, "cp_status": ex.status.value, "cp_obj": ex.objective, "cp_bound": ex.bound, "cp_s": ex_ms / 1000.0,
        })
        print(f"  {name}: neh {neh.objective:.0f} ig {ig.objective:.0f} exact {ex.status.value} {ex.objective} "
              f"bound {ex.bound} in {ex_ms / 1000:.1f} s", file=sys.stderr)
    return rows


def naive(problem):
    """Most accurate configuration (fastest among equals), arrival order."""
    config = []
    for j, task in enumerate(problem.tasks):
        best = max(range(len(task.configs)), key=lambda c: (task.configs[c].accuracy or 0.0, -task.configs[c].total_ms))
        config.append(best)
    order = sorted(range(problem.n), key=lambda j: (problem.release_ms[j], j))
    return problem.evaluate(problem.assignment(order, config)).objective


def bench_stream(quick: bool, cp_limit_s: float, workers: int) -> tuple[list[dict], dict]:
    p = load(STREAM)
    repeats = 3 if quick else 11
    ex, ex_ms = timed(p, "exact", 1, time_limit=cp_limit_s, num_workers=workers)
    best_bound = ex.bound
    rows = []
    for method in HEURISTICS:
        solvers.pipeline(p, method=method)  # warm-up (imports, first LP)
        sol, ms = timed(p, method, repeats)
        best_bound = max(best_bound, sol.bound)
        rows.append({"method": method, "objective": sol.objective, "bound": sol.bound, "ms": ms, "status": sol.status.value})
    for r in rows:
        r["gap"] = (r["objective"] - best_bound) / best_bound
    base = naive(p)
    info = {"exact_status": ex.status.value, "exact_obj": ex.objective, "exact_bound": ex.bound, "exact_s": ex_ms / 1000.0,
            "best_bound": best_bound, "naive": base, "naive_gap": (base - best_bound) / best_bound,
            "exact_gap": (ex.objective - best_bound) / best_bound if ex.objective is not None else None}
    return rows, info


def _ms(x) -> str:
    return "none found" if x is None else f"{x:.2f} ms"


def render(ta, stream, info, args) -> str:
    lines = [
        "# Pipeline / flow-shop benchmark",
        "",
        f"Mode: {'quick' if args.quick else 'full'}; ig budget {args.ig_budget} s (seed 0); CP-SAT time limit "
        f"{args.cp_limit} s with {args.workers} worker(s). Protocol: `benchmarks/bench_pipeline.py` docstring.",
        "",
        "## Taillard 20x5 (known optima)",
        "",
        "| Instance | Optimum | LB | NEH | NEH gap | NEH (ms) | IG | IG gap | IG iters | CP-SAT status | CP-SAT bound | CP-SAT (s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in ta:
        lines.append(
            f"| {r['instance']} | {r['optimum']} | {r['lb']:.0f} | {r['neh']:.0f} | {100 * r['neh_gap']:.2f}% | {r['neh_ms']:.2f} | "
            f"{r['ig']:.0f} | {100 * r['ig_gap']:.2f}% | {r['ig_iter']} | {r['cp_status']} | {r['cp_bound']:.0f} | {r['cp_s']:.1f} |"
        )
    if ta:
        proven = sum(r["cp_status"] == "optimal" for r in ta)
        lines += [
            f"| **mean** | | | | {100 * statistics.mean(r['neh_gap'] for r in ta):.2f}% | "
            f"{statistics.mean(r['neh_ms'] for r in ta):.2f} | | {100 * statistics.mean(r['ig_gap'] for r in ta):.2f}% | | "
            f"{proven}/{len(ta)} proven | | {statistics.median(r['cp_s'] for r in ta):.1f} (median) |",
        ]
    lines += [
        "",
        f"## Co-inference stream: `{STREAM.name}` (50 tasks, 3 stages, 5 configurations, accuracy floor)",
        "",
        f"Best proven bound: {info['best_bound']:.2f} ms. CP-SAT ({min(args.cp_limit, 60.0)} s): {info['exact_status']}, "
        f"makespan {_ms(info['exact_obj'])}, bound {_ms(info['exact_bound'])}, {info['exact_s']:.1f} s.",
        "",
        "| Method | Makespan (ms) | Gap to best bound | Median time (ms) | Status |",
        "|---|---:|---:|---:|---|",
    ]
    for r in stream:
        lines.append(f"| {r['method']} | {r['objective']:.2f} | {100 * r['gap']:.2f}% | {r['ms']:.1f} | {r['status']} |")
    lines.append(f"| baseline: most accurate, arrival order | {info['naive']:.2f} | {100 * info['naive_gap']:.2f}% | - | - |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> str:
    """Run the benchmark, print the markdown tables, write ``results/pipeline.md``."""
    parser = argparse.ArgumentParser(description="pipeline solver benchmark")
    parser.add_argument("--quick", action="store_true", help="3 Taillard instances, short limits")
    parser.add_argument("--ig-budget", type=float, default=None, help="seconds of iterated greedy per Taillard instance")
    parser.add_argument("--cp-limit", type=float, default=None, help="CP-SAT time limit in seconds")
    parser.add_argument("--workers", type=int, default=1, help="CP-SAT workers (1 is deterministic)")
    args = parser.parse_args(argv)
    args.ig_budget = args.ig_budget or (0.2 if args.quick else 1.0)
    args.cp_limit = args.cp_limit or (10.0 if args.quick else 120.0)
    ta = bench_taillard(args.quick, args.ig_budget, args.cp_limit, args.workers)
    stream, info = bench_stream(args.quick, min(args.cp_limit, 60.0), args.workers)
    text = render(ta, stream, info, args)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    return text


if __name__ == "__main__":
    main()
