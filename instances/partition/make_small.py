"""Write the small, hand-readable partition instances of this folder.

Run from anywhere: ``python instances/partition/make_small.py``. Costs are
illustrative (ms, bytes), chosen so that the optimum changes with bandwidth;
each file's ``metadata.optimum`` is filled in by a fresh exact solve
(``qdmp``, checked against ``mincut`` and ``brute_force``).
"""

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def layer(name, device_ms, server_ms, output_bytes, **extra):
    return {"name": name, "device_ms": device_ms, "server_ms": server_ms, "output_bytes": output_bytes, **extra}


def instances():
    yield "tiny_chain", {
        "network": {"uplink_mbps": 5.85},
        "layers": [
            layer("input", 0.0, 0.0, 150528),
            layer("conv1", 40.0, 1.2, 802816),
            layer("pool1", 4.0, 0.2, 200704),
            layer("conv2", 60.0, 1.5, 100352),
            layer("pool2", 2.0, 0.1, 25088),
            layer("fc", 80.0, 0.4, 4000),
        ],
        "edges": [["input", "conv1"], ["conv1", "pool1"], ["pool1", "conv2"], ["conv2", "pool2"], ["pool2", "fc"]],
        "metadata": {"source": "illustrative 5-layer CNN", "units": {"time": "ms", "size": "bytes", "bandwidth": "Mbps"}},
    }
    yield "residual_block", {
        "network": {"uplink_mbps": 18.88, "rtt_ms": 4.0},
        "layers": [
            layer("input", 0.0, 0.0, 150528),
            layer("stem", 20.0, 0.9, 100352),
            layer("conv_a", 35.0, 0.6, 100352),
            layer("conv_b", 35.0, 0.6, 100352),
            layer("add", 0.3, 0.05, 100352),
            layer("pool", 0.5, 0.05, 2048),
            layer("fc", 30.0, 0.05, 4000),
        ],
        "edges": [["input", "stem"], ["stem", "conv_a"], ["conv_a", "conv_b"], ["conv_b", "add"], ["stem", "add"],
                  ["add", "pool"], ["pool", "fc"]],
        "metadata": {"source": "illustrative ResNet-style basic block; the stem output feeds two layers but is sent once",
                     "units": {"time": "ms", "size": "bytes", "bandwidth": "Mbps"}},
    }
    yield "inception_block", {
        "network": {"uplink_mbps": 5.85},
        "layers": [
            layer("input", 0.0, 0.0, 150528),
            layer("stem", 30.0, 1.0, 50176),
            layer("b1_1x1", 12.0, 0.2, 12544),
            layer("b2_1x1", 6.0, 0.2, 6272),
            layer("b2_3x3", 40.0, 0.5, 25088),
            layer("b3_1x1", 3.0, 0.1, 3136),
            layer("b3_5x5", 25.0, 0.3, 6272),
            layer("b4_pool", 2.0, 0.1, 50176),
            layer("b4_1x1", 6.0, 0.1, 6272),
            layer("concat", 0.2, 0.02, 50176),
            layer("head", 60.0, 0.1, 4000),
        ],
        "edges": [["input", "stem"], ["stem", "b1_1x1"], ["stem", "b2_1x1"], ["b2_1x1", "b2_3x3"], ["stem", "b3_1x1"],
                  ["b3_1x1", "b3_5x5"], ["stem", "b4_pool"], ["b4_pool", "b4_1x1"], ["b1_1x1", "concat"],
                  ["b2_3x3", "concat"], ["b3_5x5", "concat"], ["b4_1x1", "concat"], ["concat", "head"]],
        "metadata": {"source": "illustrative GoogLeNet-style inception module",
                     "units": {"time": "ms", "size": "bytes", "bandwidth": "Mbps"}},
    }
    yield "two_inputs_two_outputs", {
        "network": {"uplink_mbps": 10.0, "downlink_mbps": 50.0, "rtt_ms": 2.0},
        "layers": [
            layer("image", 0.0, 0.0, 150528),
            layer("depth", 0.0, 0.0, 50176),
            layer("img_enc", 45.0, 1.0, 12544),
            layer("dep_enc", 8.0, 0.5, 6272),
            layer("fuse", 30.0, 0.2, 50176),
            layer("boxes", 40.0, 0.3, 16000),
            layer("classes", 20.0, 0.1, 4000),
        ],
        "edges": [["image", "img_enc"], ["depth", "dep_enc"], ["img_enc", "fuse"], ["dep_enc", "fuse"],
                  ["fuse", "boxes"], ["fuse", "classes"]],
        "metadata": {"source": "illustrative two-modality detector: two inputs, two outputs, asymmetric link",
                     "units": {"time": "ms", "size": "bytes", "bandwidth": "Mbps"}},
    }
    yield "pinned_privacy", {
        "network": {"uplink_mbps": 100.0},
        "layers": [
            layer("input", 0.0, 0.0, 150528),
            layer("face_blur", 5.0, 0.4, 150528),
            layer("conv1", 18.0, 1.2, 802816),
            layer("conv2", 25.0, 1.5, 100352),
            layer("fc", 6.0, 0.4, 4000),
        ],
        "edges": [["input", "face_blur"], ["face_blur", "conv1"], ["conv1", "conv2"], ["conv2", "fc"]],
        "pinned": {"device": ["face_blur"]},
        "metadata": {"source": "illustrative: raw frames may not leave the device (privacy pin)",
                     "units": {"time": "ms", "size": "bytes", "bandwidth": "Mbps"}},
    }
    yield "memory_budget", {
        "network": {"uplink_mbps": 1.1},
        "layers": [
            layer("input", 0.0, 0.0, 150528, memory_bytes=0),
            layer("conv1", 10.0, 1.0, 401408, memory_bytes=40000),
            layer("conv2", 12.0, 1.0, 100352, memory_bytes=300000),
            layer("conv3", 8.0, 0.8, 50176, memory_bytes=1200000),
            layer("fc", 3.0, 0.2, 4000, memory_bytes=4000000),
        ],
        "edges": [["input", "conv1"], ["conv1", "conv2"], ["conv2", "conv3"], ["conv3", "fc"]],
        "device_budget": {"memory_bytes": 2000000},
        "metadata": {"source": "illustrative: weights of the late layers do not fit in device memory (needs method ilp)",
                     "units": {"time": "ms", "size": "bytes", "bandwidth": "Mbps", "memory": "bytes"}},
    }


def main():
    import solvers
    from formulations import PartitionProblem

    for name, body in instances():
        data = {"kind": "partition", "version": 1, "name": name, **body}
        problem = PartitionProblem.from_dict(data)
        ref = solvers.solve(problem, method="brute_force")
        methods = ["ilp"] if problem.device_budget else ["qdmp", "mincut", "ilp"]
        for m in methods:
            sol = solvers.solve(problem, method=m)
            assert abs(sol.objective - ref.objective) < 1e-6, (name, m)
        data["metadata"]["optimum"] = {"uplink_mbps": problem.network.uplink_mbps, "latency_ms": round(ref.objective, 6),
                                       "device": ref.assignment["device"], "methods": methods + ["brute_force"]}
        (HERE / f"{name}.json").write_text(json.dumps(data, indent=1) + "\n")
        print(f"{name}: {ref.objective:.3f} ms, device={ref.assignment['device']}")


if __name__ == "__main__":
    main()
