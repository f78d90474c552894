"""How far past ``time_limit`` every registered method returns (``python benchmarks/bench_stopping.py``).

Protocol
--------
- Instances: those of ``tests/common/test_stopping_rule.py`` (one per
  registry kind, on which the oracles and searches run far past the limit:
  an 18-layer star, a 15-layer star on three tiers, ResNet-18 exits on three
  nodes, a 300 x 5 flow shop, 8 devices x 3 servers of offloading, Llama-70B
  on 8 devices).
- Every registered method runs ``REPEATS`` times with ``time_limit`` in
  ``LIMITS`` through :func:`solvers.solve` (one process, imports warmed up
  first). Reported: wall-clock median and IQR of the call, the overrun
  ``wall - limit`` (median), and the statuses seen.
- ``--quick``: one repeat, limit 0.2 s only.

Writes ``benchmarks/results/stopping.md``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.timing import median_iqr  # noqa: E402

LIMITS = (0.2, 1.0)
REPEATS = 5


def main(argv=None) -> int:
    import solvers
    from tests.common.test_stopping_rule import instance, stopping_cases, warm_up

    argv = list(sys.argv[1:] if argv is None else argv)
    quick = "--quick" in argv
    limits, repeats = ((0.2,), 1) if quick else (LIMITS, REPEATS)
    warm_up()
    rows = ["| kind | method | limit (s) | wall median (s) | IQR (s) | overrun (s) | statuses |",
            "|---|---|---|---|---|---|---|"]
    for kind, name in stopping_cases():
        problem = instance(kind)
        for limit in limits:
            walls, statuses = [], set()
            for _ in range(repeats):
                start = time.perf_counter()
                try:
                    sol = solvers.solve(problem, method=name, time_limit=limit)
                    statuses.add(sol.status.value)
                except Exception as exc:  # noqa: BLE001 - reported, never expected
                    statuses.add(f"error {type(exc).__name__}")
                walls.append(time.perf_counter() - start)
            med, iqr = median_iqr(walls)
            rows.append(f"| {kind} | {name} | {limit:g} | {med:.3f} | {iqr:.3f} | {med - limit:+.3f} | "
                        f"{', '.join(sorted(statuses))} |")
            print(rows[-1], flush=True)
    out = ROOT / "benchmarks" / "results" / "stopping.md"
    out.write_text("# Stopping rule: wall time of every method at its time limit\n\n"
                   f"{repeats} run(s) per cell on a shared 2-core machine (see the module docstring of "
                   "benchmarks/bench_stopping.py).\n\n" + "\n".join(rows) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
