"""A real multi-exit network on scikit-learn's digits: committed exit instances.

Trains a small multi-exit MLP (numpy, full-batch Adam, seed 0) on the 8x8
digits that ship with scikit-learn (1797 images, 10 classes; no download):
three backbone blocks (64 -> 12 -> 512 -> 2048 units, ReLU), an exit head
(linear -> softmax over 10 classes) after each block, all exits trained
jointly (sum of cross-entropies). The data are split 60/20/20 (stratified,
seed 0) into training, validation and test samples; the instances hold the
per-sample softmax confidence (max probability) and correctness of every
exit on the **validation** samples, and a twin file holds the **test**
samples (for holdout evaluation: choose thresholds on one, run on the other).

Costs: each block and exit head is timed on this machine's CPU (numpy,
batch of one sample, median of 2000 runs) for node ``device``; node
``edge`` is modelled as 8x faster. Link: 18.88 Mbps (Wi-Fi), 0.05 ms per
traversal. Inputs are the 64 pixels as uint8 (64 bytes); block outputs are
float32 activations; the result is one class index (4 bytes).

Needs the optional extra ``sklearn`` (``pip install 'coinfer[sklearn]'``,
i.e. scikit-learn); the committed instances do not. Run ``python instances/exits/make_digits.py``.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WIDTHS = [64, 12, 512, 2048]
EDGE_SPEEDUP = 8.0


def _load_digits():
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:  # pragma: no cover - optional extra
        raise SystemExit("make_digits.py needs the optional extra 'sklearn': "
                         "pip install 'coinfer[sklearn]' (or pip install scikit-learn)") from None
    X, y = load_digits(return_X_y=True)
    X_tr, X_rest, y_tr, y_rest = train_test_split(X, y, test_size=0.4, stratify=y, random_state=0)
    X_val, X_te, y_val, y_te = train_test_split(X_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=0)
    return (X_tr / 16.0, y_tr), (X_val / 16.0, y_val), (X_te / 16.0, y_te)


def _init(rng):
    params = []
    for i in range(len(WIDTHS) - 1):
        w = rng.normal(0, np.sqrt(2 / WIDTHS[i]), (WIDTHS[i], WIDTHS[i + 1]))
        h = rng.normal(0, np.sqrt(1 / WIDTHS[i + 1]), (WIDTHS[i + 1], 10))
        params += [w, np.zeros(WIDTHS[i + 1]), h, np.zeros(10)]
    return params


def _forward(params, X):
    acts, probs = [X], []
    h = X
    for i in range(len(WIDTHS) - 1):
        w, b, hw, hb = params[4 * i : 4 * i + 4]
        h = np.maximum(h @ w + b, 0.0)
        acts.append(h)
        logits = h @ hw + hb
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        probs.append(p / p.sum(axis=1, keepdims=True))
    return acts, probs


def _grads(params, X, y):
    acts, probs = _forward(params, X)
    n = len(y)
    onehot = np.eye(10)[y]
    grads = [None] * len(params)
    back = np.zeros_like(acts[-1])
    for i in range(len(WIDTHS) - 2, -1, -1):
        w, b, hw, hb = params[4 * i : 4 * i + 4]
        dlog = (probs[i] - onehot) / n
        grads[4 * i + 2] = acts[i + 1].T @ dlog
        grads[4 * i + 3] = dlog.sum(axis=0)
        dh = dlog @ hw.T + back
        dh = dh * (acts[i + 1] > 0)
        grads[4 * i] = acts[i].T @ dh
        grads[4 * i + 1] = dh.sum(axis=0)
        back = dh @ w.T
    return grads


def train(X, y, epochs=150, lr=0.005, seed=0):
    """Full-batch Adam on the sum of the exits' cross-entropies."""
    rng = np.random.default_rng(seed)
    params = _init(rng)
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for t in range(1, epochs + 1):
        for j, g in enumerate(_grads(params, X, y)):
            m[j] = 0.9 * m[j] + 0.1 * g
            v[j] = 0.999 * v[j] + 0.001 * g * g
            params[j] -= lr * (m[j] / (1 - 0.9**t)) / (np.sqrt(v[j] / (1 - 0.999**t)) + 1e-8)
    return params


def _median_ms(fn, reps=2000):
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times) * 1000.0)


def measure_costs(params):
    """Median ms of each block and exit head for one sample on this CPU."""
    x = np.random.default_rng(1).random((1, WIDTHS[0]))
    block_ms, head_ms = [], []
    h = x
    for i in range(len(WIDTHS) - 1):
        w, b, hw, hb = params[4 * i : 4 * i + 4]
        block_ms.append(_median_ms(lambda: np.maximum(h @ w + b, 0.0)))
        h = np.maximum(h @ w + b, 0.0)

        def head(h=h, hw=hw, hb=hb):
            z = h @ hw + hb
            p = np.exp(z - z.max())
            return p / p.sum()

        head_ms.append(_median_ms(head))
    return block_ms, head_ms


def samples(params, X, y):
    _, probs = _forward(params, X)
    conf = np.stack([np.round(p.max(axis=1), 4) for p in probs], axis=1)
    correct = np.stack([(p.argmax(axis=1) == y).astype(int) for p in probs], axis=1)
    return conf, correct


def instance(name, nodes, block_ms, head_ms, conf, correct, constraints, objective="latency"):
    speed = {"device": 1.0, "edge": EDGE_SPEEDUP}
    blocks = [{"name": f"dense{i + 1}", "ms": [round(ms / speed[n], 5) for n in nodes], "output_bytes": 4 * WIDTHS[i + 1]}
              for i, ms in enumerate(block_ms)]
    exits = [{"name": f"exit{i + 1}" if i < len(head_ms) - 1 else "final", "after": f"dense{i + 1}",
              "ms": [round(ms / speed[n], 5) for n in nodes]} for i, ms in enumerate(head_ms)]
    return {
        "kind": "exits", "version": 1, "name": name, "nodes": nodes,
        "links": [{"mbps": 18.88, "rtt_ms": 0.05}][: len(nodes) - 1],
        "input_bytes": 64, "result_bytes": 4, "blocks": blocks, "exits": exits,
        "samples": {"confidence": conf.tolist(), "correct": correct.tolist()},
        "objective": objective, "constraints": constraints,
        "metadata": {
            "source": "multi-exit MLP trained on scikit-learn digits (make_digits.py)",
            "cpu": platform.processor() or platform.machine(),
            "edge_speedup": EDGE_SPEEDUP,
            "units": {"ms": "milliseconds", "bytes": "bytes", "mbps": "megabits per second"},
        },
    }


def main():
    (X_tr, y_tr), (X_val, y_val), (X_te, y_te) = _load_digits()
    params = train(X_tr, y_tr)
    block_ms, head_ms = measure_costs(params)
    conf_v, corr_v = samples(params, X_val, y_val)
    conf_t, corr_t = samples(params, X_te, y_te)
    final_acc = float(corr_v[:, -1].mean())
    amin = round(final_acc - 0.01, 3)
    cons = {"accuracy_min": amin}
    out = {
        "digits_1node.json": instance("digits_1node", ["device"], block_ms, head_ms, conf_v, corr_v, cons),
        "digits_2node.json": instance("digits_2node", ["device", "edge"], block_ms, head_ms, conf_v, corr_v, cons),
        "digits_2node_test.json": instance("digits_2node_test", ["device", "edge"], block_ms, head_ms, conf_t, corr_t, cons),
    }
    for fname, data in out.items():
        (HERE / fname).write_text(json.dumps(data) + "\n")
    accs = ", ".join(f"{a:.3f}" for a in corr_v.mean(axis=0))
    print(f"exit accuracies (validation): {accs}; block ms {np.round(block_ms, 4)}; head ms {np.round(head_ms, 4)}")


if __name__ == "__main__":
    main()
