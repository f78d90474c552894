"""Solve time of every suite instance by each exact method and a networkx baseline.

Run ``python benchmarks/bench_import_suite.py [--quick]`` (or ``benchmarks/run.py``).
Prints a markdown table and writes it to ``benchmarks/results/suite.md``.

Protocol
--------
- Instances: every ``instances/partition/suite/*.json`` (real architectures
  imported from ONNX with measured device costs, see
  ``instances/partition/suite/make_suite.py``), at the LTE uplink (5.85 Mbps).
- Methods: every exact, non-oracle partition method of the registry
  (``solvers.solve(p, method=m)``, warm: the problem was solved once before
  timing, as a runtime scheduler re-solving one model would) and the
  networkx DADS baseline :func:`bench_partition.dads_networkx` (graph built
  and cut with ``nx.minimum_cut``, as a user would write it; construction
  timed). Wall-clock medians in ms over ``--repeats`` runs (ILP: fewer), all
  in one process on the same problem objects.
- ``agree``: every method's latency (re-evaluated by ``problem.latency``)
  equals the stored proven optimum within 1e-6 ms.
- The synthetic cost-growth curve (100 to 100,000 layers) is in
  ``benchmarks/bench_partition.py`` (``results/partition.md``).
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import formulations  # noqa: E402
import solvers  # noqa: E402
from bench_partition import dads_networkx, median_ms  # noqa: E402
from solvers.registry import methods  # noqa: E402

SUITE = HERE.parent / "instances" / "partition" / "suite"
RESULTS = HERE / "results" / "suite.md"
UPLINK_MBPS = 5.85


def bench(path: Path, repeats: int, slow_repeats: int) -> dict:
    problem = formulations.load(path).with_network(uplink_mbps=UPLINK_MBPS)
    optimum = problem.metadata["optimum"][f"{UPLINK_MBPS:g}"]["latency_ms"]
    row = {"name": path.stem, "layers": problem.n_layers, "edges": len(problem.edges),
           "cuts": len(problem.cut_vertices)}
    agree = True
    for m in methods("partition"):
        if not m.exact or m.oracle:
            continue
        sol = solvers.solve(problem, method=m.name)  # warm-up and check
        agree &= abs(sol.objective - optimum) <= 1e-6 * max(1.0, optimum)
        reps = slow_repeats if m.name == "ilp" else repeats
        row[m.name] = median_ms(lambda name=m.name: solvers.solve(problem, method=name), reps)
    device = dads_networkx(problem)
    agree &= abs(problem.latency(device) - optimum) <= 1e-6 * max(1.0, optimum)
    row["networkx"] = median_ms(lambda: dads_networkx(problem), slow_repeats)
    row["agree"] = agree
    return row


def table(rows: list[dict]) -> str:
    names = [k for k in rows[0] if k not in ("name", "layers", "edges", "cuts", "networkx", "agree")]
    head = ("| Instance | Layers | Edges | Cut vertices | " + " | ".join(f"{n} (ms)" for n in names)
            + " | networkx (ms) | networkx / qdmp | agree |")
    lines = [head, "|" + "---|" * (7 + len(names))]
    for r in rows:
        cells = " | ".join(f"{r[n]:.3f}" for n in names)
        lines.append(f"| {r['name']} | {r['layers']} | {r['edges']} | {r['cuts']} | {cells} | {r['networkx']:.2f} | "
                     f"{r['networkx'] / r['qdmp']:.0f}x | {'yes' if r['agree'] else 'NO'} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv)
    repeats = args.repeats or (5 if args.quick else 21)
    slow = 1 if args.quick else 3
    files = sorted(SUITE.glob("*.json"))
    rows = sorted((bench(f, repeats, slow) for f in files), key=lambda r: r["layers"])
    text = "\n".join([
        "# Partition suite: solve times",
        "",
        f"Uplink {UPLINK_MBPS} Mbps (LTE). Wall-clock medians of `solvers.solve` (warm; {repeats} runs, ILP "
        f"{slow}) and of the networkx DADS baseline ({slow} runs, graph construction included), in ms. "
        f"Python {platform.python_version()}, {platform.machine()}, one process.",
        "",
        table(rows),
        "",
    ])
    print(text)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    return 0 if all(r["agree"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
