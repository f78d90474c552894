"""Regenerate Taillard's 20x5 flow-shop instances ta001-ta010 (``.fsp`` text files).

Source: E. Taillard, "Benchmarks for basic scheduling problems", European
Journal of Operational Research 64(2):278-285, 1993. The processing times
come from the paper's portable generator and the published time seeds
(:func:`formulations.pipeline.taillard.taillard_times`); ta001's first machine row
matches the published instance (54 83 15 71 77 36 53 38 27 87 76 91 14 29
12 77 32 87 68 94). The header's upper and lower bounds are both set to the
optimal makespan known from the literature (1278, 1359, 1081, 1293, 1235,
1195, 1234, 1206, 1230, 1108), which ``benchmarks/bench_pipeline.py``
re-proves with CP-SAT.

It also writes ``tai20_5.txt``, the ten instances in one file exactly as
Taillard distributes them (header ``20 5 seed upper lower`` per instance, the
upper bound being the optimum, the lower bound the one printed in Taillard's
file, :data:`~formulations.pipeline.taillard.TA_20x5_LOWER_BOUNDS`); read it
with ``formulations.load_all`` (``coinfer solve`` prints a row per instance).

It also writes ta041-ta050 (50x10) and ta081-ta090 (100x20) from their
published seeds (:data:`~formulations.pipeline.taillard.TA_50x10`,
:data:`~formulations.pipeline.taillard.TA_100x20`; ta041's first machine row
starts 46 52 79 45 97 and ta082's 20 24 40 36 31, as in Taillard's
``tai50_10.txt`` and ``tai100_20.txt``). Their headers carry the best-known
makespan as the upper bound and, as the lower bound, the proven bound of
``solvers`` (``lower_bound`` method; the stage-load / task-length bounds),
rounded up: not the literature's tighter bounds. ``benchmarks/bench_taillard.py``
measures ``ig`` on them.

It also writes ``small_5x3.json``, a ``kind: "flowshop"`` JSON example (5
jobs, 3 machines, with release times) whose optimum is found by
enumerating all 120 orders (``brute_force``) at generation time.

Run from the repository root: ``python instances/flowshop/make_taillard.py``.
"""

import math
from pathlib import Path

import formulations
import solvers
from formulations.pipeline import PipelineProblem
from formulations.pipeline.taillard import TA_20x5, TA_20x5_LOWER_BOUNDS, TA_50x10, TA_100x20, format_taillard, taillard_times

HERE = Path(__file__).resolve().parent


def main() -> None:
    for name, seed, optimum in TA_20x5:
        times = taillard_times(20, 5, seed)
        (HERE / f"{name}.fsp").write_text(format_taillard(times, seed, optimum, optimum), encoding="utf-8")
        print(f"wrote {name}.fsp (optimum {optimum})")
    text = "".join(format_taillard(taillard_times(20, 5, seed), seed, optimum, lower)
                   for (_, seed, optimum), lower in zip(TA_20x5, TA_20x5_LOWER_BOUNDS))
    (HERE / "tai20_5.txt").write_text(text, encoding="utf-8")
    print("wrote tai20_5.txt (ta001-ta010, Taillard's multi-instance layout)")
    for (n, m), table in (((50, 10), TA_50x10), ((100, 20), TA_100x20)):
        for name, seed, upper in table:
            times = taillard_times(n, m, seed)
            bound = solvers.pipeline(PipelineProblem.from_matrix(list(map(list, zip(*times)))), method="lower_bound").bound
            lower = math.ceil(bound - 1e-9)
            (HERE / f"{name}.fsp").write_text(format_taillard(times, seed, upper, lower), encoding="utf-8")
            print(f"wrote {name}.fsp ({n}x{m}, best known {upper}, lower bound {lower})")
    small = {
        "kind": "flowshop", "version": 1, "name": "small_5x3",
        "stages": ["device", "uplink", "server"],
        "tasks": [
            {"name": "a", "ms": [4, 3, 6]}, {"name": "b", "ms": [2, 5, 3]},
            {"name": "c", "release_ms": 6, "ms": [5, 2, 4]}, {"name": "d", "ms": [3, 6, 2]},
            {"name": "e", "release_ms": 10, "ms": [1, 4, 5]},
        ],
        "objective": "makespan",
        "metadata": {"source": "hand-made example (instances/flowshop/make_taillard.py)", "units": "ms"},
    }
    problem = formulations.load_dict(small)
    optimum = solvers.pipeline(problem, method="brute_force").objective
    small["metadata"]["optimum"] = optimum
    small["metadata"]["optimum_note"] = "brute force over all 120 orders"
    formulations.save(formulations.load_dict(small), HERE / "small_5x3.json")
    print(f"wrote small_5x3.json (optimum {optimum})")


if __name__ == "__main__":
    main()
