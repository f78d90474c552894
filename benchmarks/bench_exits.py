"""Benchmark of the exit placement methods (``python benchmarks/bench_exits.py``).

Protocol
--------
- Instances: the real multi-exit network on scikit-learn digits
  (``instances/exits/digits_2node.json``, 359 samples x 3 exits x 2 nodes),
  ResNet-18 stage costs with fixed nested thresholds
  (``resnet18_3node_fixed.json``, 1,000 samples x 4 exits x 3 nodes), and a
  generated instance of 10,000 samples x 20 candidate exits x 3 nodes (seed 7,
  ResNet-18-like stage costs, confidences never falling with depth, fixed
  thresholds 0.95 -> 0.6, accuracy floor = final accuracy - 0.02).
- Methods run in the same process: ``dp``, ``exact`` (CP-SAT, one worker,
  time limit 60 s), ``greedy``, and a naive baseline: exhaustive enumeration
  of every kept-exit subset x every placement, each plan scored by
  ``problem.measure`` (exact on the 1,000-sample fixed-threshold instance; on
  the 10,000 x 20 one only subsets of at most one exit, since all 2^19 x 231
  plans are out of reach), or a grid search over 10 threshold quantiles per
  exit (digits).
- Times are wall-clock medians over ``REPEATS`` runs (one run for ``exact``
  and the baselines), on one core of this machine; objective in ms (latency).

Writes ``benchmarks/results/exits.md``.
"""

from __future__ import annotations

import itertools
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "instances" / "exits"))

import formulations  # noqa: E402
import solvers  # noqa: E402
from formulations.exits import Exit, ExitBlock, ExitProblem, Link  # noqa: E402
from solvers.algorithms.exits._common import placements  # noqa: E402

REPEATS = 5
EXACT_LIMIT_S = 60.0


def big_instance(n_samples=10_000, n_exits=20, n_nodes=3, seed=7) -> ExitProblem:
    """The generated 10,000 x 20 x 3 instance (fixed nested thresholds: ``dp`` is exact)."""
    from make_resnet import synthetic_samples

    conf, correct = synthetic_samples(n_samples, n_exits, seed=seed)
    conf = np.maximum.accumulate(conf, axis=1)
    nodes = ["device", "edge", "cloud"][:n_nodes]
    gmacs = [10.0, 200.0, 2000.0][:n_nodes]
    stage = np.r_[118.0, np.repeat([462.4 / 4, 411.0 / 4, 411.0 / 4, 411.0 / 4], 5)][:n_exits]
    out = np.r_[802816, np.repeat([802816, 401408, 200704, 100352], 5)][:n_exits]
    blocks = [ExitBlock(f"b{i}", tuple(m / g for g in gmacs), int(out[i])) for i, m in enumerate(stage)]
    heads = np.linspace(25.0, 0.5, n_exits)  # MMACs
    taus = np.linspace(0.95, 0.6, n_exits - 1)
    exits = [Exit(f"e{i}", f"b{i}", tuple(heads[i] / g for g in gmacs), float(taus[i])) for i in range(n_exits - 1)]
    exits.append(Exit("final", f"b{n_exits - 1}", tuple(heads[-1] / g for g in gmacs)))
    links = [Link(18.88, 2.0), Link(50.0, 10.0)][: n_nodes - 1]
    amin = round(float(correct[:, -1].mean()) - 0.02, 3)
    return ExitProblem(nodes, links, 150528, 4000, blocks, exits, conf, correct,
                       constraints={"accuracy_min": amin}, name=f"synthetic_{n_samples}x{n_exits}x{n_nodes}")


def _best(problem, plans):
    best = None
    for plan in plans:
        res = problem.measure(plan)
        if res.feasible and (best is None or (res.objective < best[0] if problem.sense == "min" else res.objective > best[0])):
            best = (res.objective, plan)
    return best


def enumerate_fixed(problem, max_kept=None):
    """Naive baseline for fixed thresholds: every subset (of at most ``max_kept``
    exits) x every placement, each plan scored by ``problem.measure``; exact
    when ``max_kept`` is None."""
    early = list(range(problem.n_exits - 1))
    places = [list(p) for p in placements(problem)]
    top = len(early) if max_kept is None else max_kept

    def plans():
        for r in range(top + 1):
            for subset in itertools.combinations(early, r):
                th = {problem.exits[e].name: problem.exits[e].threshold for e in subset}
                if len(th) > problem.constraints.get("max_exits", len(early)):
                    continue
                for p in places:
                    yield {"placement": p, "thresholds": th}

    return _best(problem, plans())


def grid_search(problem, grid=10):
    """Naive baseline for free thresholds: subsets x quantile grid x placements."""
    early = list(range(problem.n_exits - 1))
    places = [list(p) for p in placements(problem)]
    qs = {e: np.unique(np.quantile(problem.confidence[:, e], np.linspace(0, 1, grid))) for e in early}

    def plans():
        for r in range(len(early) + 1):
            for subset in itertools.combinations(early, r):
                for ts in itertools.product(*(qs[e] for e in subset)):
                    th = {problem.exits[e].name: float(t) for e, t in zip(subset, ts)}
                    for p in places:
                        yield {"placement": p, "thresholds": th}

    return _best(problem, plans())


def _timed(fn, repeats=1):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, statistics.median(times)


def _row(instance, method, sol=None, seconds=0.0, objective=None, status=None, note=""):
    if sol is not None:
        objective, status = sol.objective, sol.status.value
        gap = sol.gap
        note = note or ("" if gap is None else f"gap {100 * gap:.2f}%")
    return {"instance": instance, "method": method, "status": status or "-",
            "objective": "-" if objective is None else f"{objective:.4f}", "time": f"{seconds * 1000:.1f}", "note": note}


def run(repeats=REPEATS, exact_limit_s=EXACT_LIMIT_S):
    rows = []
    cases = [
        (formulations.load(ROOT / "instances/exits/digits_2node.json"), "grid"),
        (formulations.load(ROOT / "instances/exits/resnet18_3node_fixed.json"), "enum"),
        (big_instance(), "enum1"),
    ]
    for problem, baseline in cases:
        name = f"{problem.name} ({problem.n_samples}x{problem.n_exits}x{problem.n_nodes})"
        sol, t = _timed(lambda: solvers.exits(problem, method="dp"), repeats)
        rows.append(_row(name, "dp", sol, t))
        sol, t = _timed(lambda: solvers.exits(problem, method="greedy"), repeats)
        rows.append(_row(name, "greedy", sol, t, note=f"bound {sol.bound:.4f}"))
        sol, t = _timed(lambda: solvers.exits(problem, method="exact", time_limit=exact_limit_s))
        rows.append(_row(name, "exact (CP-SAT)", sol, t))
        if baseline == "enum":
            best, t = _timed(lambda: enumerate_fixed(problem))
            rows.append(_row(name, "enumerate subsets x placements", None, t, best and best[0], "optimal"))
        elif baseline == "enum1":
            best, t = _timed(lambda: enumerate_fixed(problem, max_kept=1))
            rows.append(_row(name, "enumerate <= 1 exit x placements", None, t, best and best[0], "feasible"))
        elif baseline == "grid":
            best, t = _timed(lambda: grid_search(problem))
            rows.append(_row(name, "grid search (10 quantiles)", None, t, best and best[0], "feasible"))
    return rows


def main(argv=None):
    """Run the benchmark; ``--quick``: one repeat and a 5 s CP-SAT limit."""
    import argparse

    parser = argparse.ArgumentParser(description="exit placement benchmark")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    rows = run(1, 5.0) if args.quick else run()
    head = "| Instance (N x E x k) | Method | Status | Mean latency (ms) | Time (ms) | Note |"
    lines = [head, "|---|---|---|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['instance']} | {r['method']} | {r['status']} | {r['objective']} | {r['time']} | {r['note']} |")
    table = "\n".join(lines)
    print(table)
    out = ROOT / "benchmarks" / "results" / "exits.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("# Exit placement benchmark\n\nMedians of wall-clock time; see benchmarks/bench_exits.py "
                   "for the protocol.\n\n" + table + "\n", encoding="utf-8")
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
