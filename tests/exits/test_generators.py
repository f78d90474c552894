"""The instance generators of instances/exits (digits needs the optional extra ``sklearn``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import formulations
from tests.helpers import INSTANCES

GEN = INSTANCES / "exits"


def _module(name):
    spec = importlib.util.spec_from_file_location(name, GEN / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_synthetic_samples_rise_with_depth_and_overthink():
    gen = _module("make_resnet")
    conf, correct = gen.synthetic_samples(2000, 4, seed=1)
    assert conf.shape == correct.shape == (2000, 4)
    assert ((conf >= 0) & (conf <= 1)).all() and set(np.unique(correct)) <= {0, 1}
    assert np.all(np.diff(conf.mean(axis=0)) > 0)  # confidence rises with depth on average
    assert np.all(np.diff(correct.mean(axis=0)) > 0)
    assert ((correct[:, :-1] == 1) & (correct[:, 1:] == 0)).any()  # some deeper exits are wrong
    assert not gen.synthetic_samples(50, 4, seed=1)[0].tolist() == gen.synthetic_samples(50, 4, seed=2)[0].tolist()


def test_resnet_instances_are_valid_and_reproducible(tmp_path):
    gen = _module("make_resnet")
    data = gen.instance(["device", "edge", "cloud"], constraints={"accuracy_min": 0.8})
    assert data["blocks"][1]["ms"][0] == round(462.4 / gen.GMACS["device"], 4)
    conf, correct = gen.synthetic_samples(1000, len(gen.EXITS))
    committed = np.load(GEN / gen.SAMPLES_FILE)
    assert np.array_equal(committed["confidence"], conf) and np.array_equal(committed["correct"], correct)
    np.savez(tmp_path / gen.SAMPLES_FILE, confidence=conf, correct=correct)
    problem = formulations.load_dict(data, base_dir=tmp_path)
    assert problem.n_nodes == 3 and problem.n_samples == 1000


def test_digits_generator_trains_a_multi_exit_network(monkeypatch):
    pytest.importorskip("sklearn")
    gen = _module("make_digits")
    monkeypatch.setattr(gen, "WIDTHS", [64, 8, 16, 32])
    (X_tr, y_tr), (X_val, y_val), _ = gen._load_digits()
    params = gen.train(X_tr, y_tr, epochs=40, lr=0.02)
    conf, correct = gen.samples(params, X_val, y_val)
    assert conf.shape == (len(y_val), 3) and ((conf > 0) & (conf <= 1)).all()
    assert correct.mean(axis=0).min() > 0.5  # far better than chance (0.1)
    blocks, heads = gen.measure_costs(params)
    assert all(ms > 0 for ms in blocks + heads)
    data = gen.instance("t", ["device", "edge"], blocks, heads, conf, correct, {"accuracy_min": 0.5})
    problem = formulations.load_dict(data)
    assert problem.n_exits == 3 and problem.block_ms[0, 1] == pytest.approx(problem.block_ms[0, 0] / gen.EDGE_SPEEDUP, abs=1e-5)
