"""Record proven optima in the committed exit instances' metadata.

For each ``instances/exits/*.json``, solves with ``exact`` (CP-SAT, one
worker, 300 s limit) and, when the status is ``optimal``, writes
``metadata.optimum`` (mean latency in ms, or accuracy) and
``metadata.optimum_method``; otherwise ``metadata.best_known`` and
``metadata.lower_bound`` / ``upper_bound``. Run after ``make_resnet.py`` /
``make_digits.py``: ``python instances/exits/record_optima.py [FILE...]``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def record(path: Path, time_limit: float = 300.0) -> str:
    import formulations
    import solvers

    problem = formulations.load(path)
    sol = solvers.exits(problem, method="exact", time_limit=time_limit)
    data = json.loads(path.read_text())
    meta = data.setdefault("metadata", {})
    for key in ("optimum", "optimum_method", "best_known", "lower_bound", "upper_bound"):
        meta.pop(key, None)
    if sol.status.value == "optimal":
        meta["optimum"] = round(sol.objective, 9)
        meta["optimum_method"] = "exact (CP-SAT)"
    elif sol.objective is not None:
        meta["best_known"] = round(sol.objective, 9)
        meta["lower_bound" if problem.sense == "min" else "upper_bound"] = round(sol.bound, 9)
    elif sol.status.value == "infeasible":
        meta["optimum"] = None
        meta["infeasible"] = True
    indent = 1 if len(path.read_text()) < 100_000 and "\n " in path.read_text() else None
    path.write_text(json.dumps(data, indent=indent) + "\n")
    return f"{path.name}: {sol.status.value} {sol.objective}"


def main(argv=None):
    files = [Path(a) for a in (argv or [])] or sorted(HERE.glob("*.json"))
    for path in files:
        print(record(path))


if __name__ == "__main__":
    main(sys.argv[1:])
