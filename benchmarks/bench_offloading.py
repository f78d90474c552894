"""Benchmark of the drift-plus-penalty controller: slots per second, against a plain-Python controller.

Run ``python benchmarks/bench_offloading.py [--quick]`` (or ``benchmarks/run.py``).
Prints a markdown table and writes it to ``benchmarks/results/offloading.md``.

Protocol
--------
- Instances: ``synthetic(n, s, seed=0)`` from
  :mod:`formulations.offloading.strategies` (3 links per device, 3 i.i.d.
  link states, Poisson arrivals) for 10 x 2, 100 x 10 and 1,000 x 50
  devices x servers. One process; wall-clock over the whole run.
- ``dpp``: :class:`~solvers.algorithms.offloading.DriftPlusPenalty` (V = 50)
  in :func:`formulations.offloading.simulator.simulate` with every decision
  checked, the simulator's own work (random inputs, queues, costs)
  included, for ``SLOTS`` slots.
- ``python loop``: the same controller written as a user would, a Python
  loop over devices and their options per slot (:class:`PythonDPP`), in
  the same simulator, for fewer slots (``LOOP_SLOTS``); its decisions are
  checked to equal the vectorized ones on the same run (column ``agree``,
  by the simulated average cost).
- ``lp``: time of ``stationary_lp`` (HiGHS) on the instance, in ms.
- The long run: 1,000 devices x 50 servers x 10,000 slots of ``dpp``, wall
  and CPU seconds (on a shared machine the wall time includes waiting).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import solvers
from formulations.offloading.simulator import simulate
from formulations.offloading.strategies import synthetic
from solvers.algorithms.offloading import DriftPlusPenalty

RESULTS = Path(__file__).resolve().parent / "results" / "offloading.md"
SIZES = ((10, 2), (100, 10), (1000, 50))
SLOTS = 2000
LOOP_SLOTS = {10: 2000, 100: 300, 1000: 30}
LONG = (1000, 50, 10_000)


class PythonDPP:
    """Drift-plus-penalty with a per-device Python loop (the baseline a user would write)."""

    name = "dpp_python"

    def __init__(self, problem, v):
        self.v = v
        self.p = problem
        self.links_of = [[] for _ in range(problem.n_devices)]
        for m, s in zip(problem.link_device, problem.link_server):
            self.links_of[int(m)].append(int(s))

    def decide(self, view):
        p, v = self.p, self.v
        local = np.zeros(p.n_devices, dtype=np.int64)
        send = np.zeros((p.n_devices, p.n_servers), dtype=np.int64)
        for m in range(p.n_devices):
            q = int(view.queues[m])
            options = [(v * p.local_cost[m] - q, 0, -1, int(view.local_capacity[m]))]
            for j, s in enumerate(self.links_of[m]):
                options.append((v * view.link_cost[m, s] + view.server_queues[s] - q, j + 1, s, int(view.link_capacity[m, s])))
            options.sort()
            for w, _, s, cap in options:
                if w >= 0 or q == 0:
                    break
                x = min(cap, q)
                q -= x
                if s < 0:
                    local[m] = x
                else:
                    send[m, s] = x
        return local, send


def measure(n, s, slots, loop_slots):
    p = synthetic(n, s, seed=0)
    t0 = time.perf_counter()
    lp = solvers.offloading(p)
    lp_ms = 1000 * (time.perf_counter() - t0)
    fast = simulate(p, DriftPlusPenalty(p, 50.0), slots=slots, seed=1)
    short = simulate(p, DriftPlusPenalty(p, 50.0), slots=loop_slots, seed=1)
    slow = simulate(p, PythonDPP(p, 50.0), slots=loop_slots, seed=1)
    agree = abs(short.average_penalty - slow.average_penalty) <= 1e-9 * max(1.0, abs(short.average_penalty)) \
        and short.average_backlog == slow.average_backlog
    return {
        "size": f"{n} x {s}",
        "links": p.n_links,
        "slots": slots,
        "dpp": fast.slots_per_s,
        "loop": slow.slots_per_s,
        "speedup": fast.slots_per_s / slow.slots_per_s,
        "agree": "yes" if agree else "NO",
        "lp_ms": lp_ms,
        "gap": fast.average_penalty / lp.objective - 1 if lp.objective else float("nan"),
    }


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer slots")
    args = parser.parse_args(argv)
    slots = 300 if args.quick else SLOTS
    loop = {k: max(10, v // 10) for k, v in LOOP_SLOTS.items()} if args.quick else LOOP_SLOTS
    solvers.offloading(synthetic(2, 1, seed=0))  # warm up scipy/HiGHS imports before timing the LP
    rows = [measure(n, s, slots, loop[n]) for n, s in SIZES]
    lines = [
        "| devices x servers | links | slots | dpp (slots/s) | python loop (slots/s) | speedup | same decisions | stationary_lp (ms) | cost vs p* |",
        "|---|---:|---:|---:|---:|---:|:---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']} | {r['links']} | {r['slots']} | {r['dpp']:,.0f} | {r['loop']:,.0f} | {r['speedup']:.0f}x | "
            f"{r['agree']} | {r['lp_ms']:.1f} | {100 * r['gap']:+.1f}% |"
        )
    n, s, t = LONG
    if args.quick:
        t = 1000
    p = synthetic(n, s, seed=0)
    start, cpu_start = time.perf_counter(), time.process_time()
    res = simulate(p, DriftPlusPenalty(p, 50.0), slots=t, seed=1)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    lines += [
        "",
        f"Long run: {n} devices x {s} servers x {t:,} slots of dpp (V = 50): {wall:.1f} s wall, {cpu:.1f} s CPU "
        f"({res.slots_per_s:,.0f} slots/s), average cost {res.average_penalty:.2f}, "
        f"average backlog {res.average_backlog:,.0f} tasks, stable: {'yes' if res.stable else 'no'}.",
    ]
    table = "\n".join(lines)
    header = "# Offloading benchmark\n\n" + ("(--quick run)\n\n" if args.quick else "")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(header + table + "\n", encoding="utf-8")
    print(table)
    return table


if __name__ == "__main__":
    main(sys.argv[1:])
