"""Write the README's figures into docs/img/ (needs the ``plot`` extra).

    python docs/img/make_figures.py

Deterministic: the same instances, uplinks and seeds every run.

- ``bandwidth_map.png``: optimal latency vs uplink of ``instances/partition/inception_block.json``
- ``partition.png``: the optimal cut of ``instances/partition/synthetic_700.json`` (700 layers, collapsed)
- ``gantt.png``: the optimal schedule of ``instances/pipeline/coinfer_6tasks.json``
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def main() -> int:
    sys.path.insert(0, str(ROOT))
    import formulations
    from solvers.plots import plot_bandwidth_map, plot_gantt, plot_partition, save_figure

    inst = ROOT / "instances"
    figures = {
        "bandwidth_map.png": plot_bandwidth_map(formulations.load(inst / "partition" / "inception_block.json"), 0.1, 1000),
        "partition.png": plot_partition(formulations.load(inst / "partition" / "synthetic_700.json")),
        "gantt.png": plot_gantt(formulations.load(inst / "pipeline" / "coinfer_6tasks.json"), method="exact", time_limit=30),
    }
    for name, fig in figures.items():
        out = save_figure(fig, HERE / name, dpi=90)
        print(f"wrote {out} ({out.stat().st_size / 1000:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
