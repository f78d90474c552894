"""A/B timing of ``qdmp`` between two source trees, interleaved in one run.

Run ``python benchmarks/ab_partition.py BASE_DIR [NEW_DIR] [--rounds 10]``,
where each directory is a checkout of coinfer (e.g. ``git worktree add
/tmp/base 1de3368``); NEW_DIR defaults to this checkout. Writes
``benchmarks/results/ab_partition.md``.

Protocol
--------
- A round starts one fresh Python process per version (alternating which
  goes first), with ``PYTHONPATH`` set to that version's tree. Each process
  builds the instances, solves each once untimed (warm caches), then times
  ``solvers.solve(p, method="qdmp")`` ``--calls`` times and reports the
  median (ms). So each version gets one median per round and instance.
- Across rounds: the median of the round medians and its IQR, and a
  two-sided Mann-Whitney U test of the two samples of round medians
  (scipy). A difference is reported as real only when ``p < 0.05`` *and*
  the IQRs do not overlap; otherwise it is "within noise". Interleaving
  matters on a shared machine: its speed drifts between states (we saw
  2.0 and 3.0 ms for the same call minutes apart), and runs done one
  version after the other would attribute the drift to the code.
- Instances: ``synthetic_dnn(n, seed=1)`` for the sizes in ``--sizes`` and
  the shipped ``googlenet.json`` and ``synthetic_700.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "ab_partition.md"

#: The timing child: prints {label: median ms} as JSON. Uses only APIs both versions have.
CHILD = r"""
import json, statistics, sys, time
from pathlib import Path
import solvers
from formulations import load
from formulations.partition.generators import synthetic_dnn
root, sizes, calls = Path(sys.argv[1]), [int(s) for s in sys.argv[2].split(",")], int(sys.argv[3])
cases = [(f"synthetic_dnn({n})", synthetic_dnn(n, seed=1)) for n in sizes]
cases += [(f, load(root / "instances" / "partition" / f)) for f in ("googlenet.json", "synthetic_700.json")]
out = {}
for label, p in cases:
    solvers.solve(p, method="qdmp")
    ts = []
    for _ in range(calls):
        t = time.perf_counter(); solvers.solve(p, method="qdmp"); ts.append((time.perf_counter() - t) * 1e3)
    out[label] = statistics.median(ts)
print(json.dumps(out))
"""


def run_child(tree: Path, sizes: str, calls: int) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    done = subprocess.run([sys.executable, "-c", CHILD, str(tree), sizes, str(calls)], env=env,
                          capture_output=True, text=True, check=True, cwd=tree)
    return json.loads(done.stdout.strip().splitlines()[-1])


def quartiles(xs):
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], statistics.median(xs), q[2]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("base", type=Path)
    ap.add_argument("new", type=Path, nargs="?", default=HERE.parent)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--sizes", default="700,2000")
    args = ap.parse_args(argv)
    from scipy.stats import mannwhitneyu

    samples: dict[str, dict[str, list[float]]] = {"base": {}, "new": {}}
    trees = {"base": args.base.resolve(), "new": args.new.resolve()}
    for r in range(args.rounds):
        order = ("base", "new") if r % 2 == 0 else ("new", "base")
        for version in order:
            for label, ms in run_child(trees[version], args.sizes, args.calls).items():
                samples[version].setdefault(label, []).append(ms)
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    load = os.getloadavg()[0]
    lines = [
        f"qdmp warm, base `{trees['base'].name}` vs new `{trees['new'].name}`: {args.rounds} interleaved rounds, "
        f"each the median of {args.calls} calls in a fresh process; cells are the median of the round "
        f"medians [IQR] in ms. 1-minute load average at the end: {load:.2f} (2 cores).",
        "",
        "| Instance | base (ms) | new (ms) | change | Mann-Whitney p | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for label in samples["base"]:
        b, n = samples["base"][label], samples["new"][label]
        bq, nq = quartiles(b), quartiles(n)
        p = float(mannwhitneyu(b, n, alternative="two-sided").pvalue)
        overlap = not (nq[0] > bq[2] or bq[0] > nq[2])
        verdict = "within noise" if p >= 0.05 or overlap else ("slower" if nq[1] > bq[1] else "faster")
        lines.append(f"| {label} | {bq[1]:.3f} [{bq[0]:.3f}-{bq[2]:.3f}] | {nq[1]:.3f} [{nq[0]:.3f}-{nq[2]:.3f}] | "
                     f"{(nq[1] / bq[1] - 1) * 100:+.1f}% | {p:.3f} | {verdict} |")
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
