"""Benchmark of ``coinfer solve`` batches: serial vs ``--workers N`` vs a Dask LocalCluster.

Run ``python benchmarks/bench_batch.py [--quick]`` (or ``benchmarks/run.py batch``).
Prints a markdown table and writes it to ``benchmarks/results/batch.md``.

Protocol
--------
- Batch: the nine exit-placement instances ``instances/exits/*.json`` solved
  with ``--method exact`` (CP-SAT, one worker each, proven optimal well
  inside the limit, so the results do not depend on timing): a CPU-bound
  batch of 0.1-10 s per file; the speed-up measures the batch path, not
  process start-up.
- Each configuration runs the whole command as a subprocess (``python -m
  solvers.cli solve ...``), wall-clock seconds, ``repeats`` runs; the table
  gives the median and the inter-quartile range (IQR), and the speed-up of
  the medians over the serial run **of the same benchmark run**.
- ``--scheduler``: a ``dask.distributed.LocalCluster`` (processes, one thread
  per worker) started once before timing; its start-up is not timed.
- ``same rows``: the parallel run's JSON records equal the serial run's,
  runtimes removed.
- On a 2-core machine the ideal speed-up with 2 workers is 2x; the machine
  is shared, so compare only within one run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.timing import median_iqr  # noqa: E402
RESULTS = Path(__file__).resolve().parent / "results" / "batch.md"
FILES = sorted(str(p) for p in (ROOT / "instances" / "exits").glob("*.json"))
OPTIONS = ["--method", "exact", "--time-limit", "60", "--json"]


def run_batch(extra: list[str], files: list[str]) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "solvers.cli", "solve", *files, *OPTIONS, *extra],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 2):
        raise RuntimeError(f"coinfer solve failed ({done.returncode}): {done.stderr[-500:]}")
    records = json.loads(done.stdout)
    for record in records:
        record.pop("runtime_s", None)
        record.get("details", {}).pop("wall_s", None)
    return wall, records


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="four files, one run each")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv)
    files = FILES[:4] if args.quick else FILES
    repeats = args.repeats or (1 if args.quick else 3)
    configs = [("serial", []), ("--workers 2", ["--workers", "2"])]
    cluster = None
    try:
        import dask.distributed as distributed

        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        configs.append(("--scheduler (LocalCluster, 2 workers)", ["--scheduler", cluster.scheduler_address]))
    except ImportError:
        print("dask not installed: the --scheduler row is skipped", file=sys.stderr)
    rows = []
    try:
        baseline_records = None
        for label, extra in configs:
            times, records = [], None
            for _ in range(repeats):
                wall, records = run_batch(extra, files)
                times.append(wall)
            if baseline_records is None:
                baseline_records = records
            median, iqr = median_iqr(times)
            rows.append((label, median, iqr, records == baseline_records))
    finally:
        if cluster is not None:
            cluster.close()
    serial = rows[0][1]
    lines = [
        f"Batch: {len(files)} exit-placement files (instances/exits), `coinfer solve {' '.join(OPTIONS)}`; "
        f"wall s over {repeats} run(s) of the whole command.",
        "",
        "| configuration | median s | IQR s | speed-up | same rows |",
        "|---|---|---|---|---|",
    ]
    for label, median, iqr, same in rows:
        lines.append(f"| {label} | {median:.2f} | {iqr:.2f} | {serial / median:.2f}x | {'yes' if same else 'NO'} |")
    text = "\n".join(lines)
    print(text)
    if not args.quick:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text("# Batch solves: serial vs parallel\n\n" + text + "\n")


if __name__ == "__main__":
    main()
