"""Regenerate ``synthetic_700.json``: a 700-layer generated DNN-like DAG.

Usage::

    python instances/partition/make_synthetic.py

The DAG comes from :func:`formulations.partition.generators.synthetic_dnn` (seed 0,
every block type: chains, residual, inception and dense blocks) with
roofline costs for a phone CPU and an edge GPU, LTE uplink (5.85 Mbps). Its
proven optimum at 1.1 / 5.85 / 18.88 / 100 Mbps is stored in
``metadata.optimum`` (``qdmp``, ``mincut`` and ``ilp`` checked to agree), as
for the real architectures of ``make_real.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from formulations.partition.generators import synthetic_dnn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_real import HERE, store_optima  # noqa: E402

N_LAYERS = 700
SEED = 0


def build():
    """The 700-layer instance with its optima (ms) by uplink (Mbps)."""
    problem = synthetic_dnn(N_LAYERS, seed=SEED, uplink_mbps=5.85, name="synthetic_700")
    problem = problem.replace(metadata={**problem.metadata,
                                        "generator_call": f"synthetic_dnn({N_LAYERS}, seed={SEED}, uplink_mbps=5.85)"})
    return store_optima(problem)


def main() -> int:
    problem = build()
    path = HERE / "synthetic_700.json"
    path.write_text(json.dumps(problem.to_dict(), indent=1) + "\n")
    best = {k: round(v["latency_ms"], 3) for k, v in problem.metadata["optimum"].items()}
    print(f"wrote {path}: {problem.n_layers} layers, {len(problem.edges)} edges, "
          f"{len(problem.cut_vertices)} cut vertices; optimum (ms) by uplink (Mbps) {best}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
