"""The committed partition suite: every file validates, carries provenance, and
its stored optima equal a fresh solve by two different exact methods.

Needs neither torch nor onnx (the files are plain JSON).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import formulations
import solvers
from solvers.registry import methods
from tests.helpers import INSTANCES

SUITE = INSTANCES / "partition" / "suite"
FILES = sorted(SUITE.glob("*.json"))
UPLINKS = ("1.1", "5.85", "18.88", "100")
EXACT = ("qdmp", "mincut")


def test_suite_shape():
    assert len(FILES) >= 14
    problems = [formulations.load(f) for f in FILES]
    torchvision = [p for p in problems if p.metadata["source"]["model"].startswith("torchvision.models.")]
    assert len(torchvision) >= 12
    assert sum(p.n_layers > 300 for p in torchvision) >= 3
    assert any(p.n_layers >= 1000 for p in problems)  # operator-level graphs for scale
    assert sum(f.stat().st_size for f in FILES) < 30e6


def test_two_exact_methods_are_registered():
    exact = {m.name for m in methods("partition") if m.exact and not m.oracle}
    assert set(EXACT) <= exact


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_suite_file(path):
    problem = formulations.load(path)
    md = problem.metadata
    for key in ("source", "units", "device_costs", "server_costs", "optimum"):
        assert key in md, key
    assert md["device_costs"]["model"] == "measured" and md["server_costs"]["model"] == "roofline"
    assert md["latency"]["whole_model_ms_all_opt"] > 0
    assert set(md["optimum"]) == set(UPLINKS)
    for mbps in UPLINKS:
        p = problem.with_network(uplink_mbps=float(mbps))
        stored = md["optimum"][mbps]
        for method in EXACT:
            sol = solvers.solve(p, method=method)
            assert sol.status.value == "optimal"
            assert sol.objective == pytest.approx(stored["latency_ms"], abs=1e-5), (mbps, method)
            assert sol.bound <= sol.objective + 1e-6
    # the file is what the loader writes back (no hidden fields lost)
    assert json.loads(json.dumps(problem.to_dict()))["layers"][0]["name"] == problem.names[0]
