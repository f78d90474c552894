"""Regenerate the partition benchmark suite from torchvision and transformer models.

Run in an environment with the ``torch`` and ``onnx`` extras (the committed
JSON files need neither)::

    python instances/partition/suite/make_suite.py            # everything
    python instances/partition/suite/make_suite.py resnet50    # some models

For each model: build it with random weights (``weights=None``, no
download), export it to ONNX (TorchScript exporter, opset 17; the
transformers with opset 13, so LayerNorm stays operator-level), import it with
:func:`formulations.partition.importers.onnx.import_onnx` (device side measured on this
CPU by onnxruntime's profiler, one thread at real-time priority when
permitted, median of ``--runs`` runs after warm-up; server side from the ``--server-profile`` roofline), time the whole
model and the prefixes ending at cut vertices, import it once more with the
runtime's fused groups as layers (``optimize="fuse"``, for the
measured-vs-additive table), then solve at the 3G / LTE /
Wi-Fi / 100 Mbps uplinks (1.1 / 5.85 / 18.88 / 100 Mbps) with two exact
methods (``qdmp`` and ``mincut``), check they agree, and store the optimum
in ``metadata["optimum"]``. Writes ``<model>.json`` files and ``summary.md``
(the suite table and the measured-vs-additive latency table) beside this
script.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
UPLINKS_MBPS = (1.1, 5.85, 18.88, 100.0)
EXACT_METHODS = ("qdmp", "mincut")

#: torchvision classification architectures in the suite.
TORCHVISION = [
    "resnet50", "resnet152", "densenet201", "inception_v3", "googlenet", "mobilenet_v2",
    "mobilenet_v3_large", "efficientnet_b0", "shufflenet_v2_x1_0", "regnet_y_400mf", "convnext_tiny",
    "vit_b_16", "swin_t", "vgg16", "squeezenet1_1",
]
#: operator-level transformer encoders: name -> (layers, width, heads, sequence length).
TRANSFORMERS = {"transformer_24l_d256_s128": (24, 256, 4, 128), "transformer_48l_d256_s128": (48, 256, 4, 128)}


def transformer(layers: int, width: int, heads: int, classes: int = 1000):
    """A pre-LN transformer encoder (BERT-style blocks, mean-pooled classifier) written op by op."""
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(width), nn.LayerNorm(width)
            self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
            self.fc1, self.fc2 = nn.Linear(width, 4 * width), nn.Linear(4 * width, width)

        def forward(self, x):
            b, t, d = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
            q, k, v = (z.reshape(b, t, heads, d // heads).transpose(1, 2) for z in (q, k, v))
            att = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d // heads), dim=-1)
            x = x + self.proj((att @ v).transpose(1, 2).reshape(b, t, d))
            return x + self.fc2(torch.nn.functional.gelu(self.fc1(self.ln2(x))))

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.Sequential(*[Block() for _ in range(layers)])
            self.norm = nn.LayerNorm(width)
            self.head = nn.Linear(width, classes)

        def forward(self, x):  # x: token embeddings (batch, sequence, width)
            return self.head(self.norm(self.blocks(x)).mean(dim=1))

    return Encoder().eval()


def export(name: str, path: Path) -> tuple[list[int], dict]:
    """Export model ``name`` to ``path``; return its input shape and provenance."""
    import torch

    from formulations.partition.importers.torchfx import default_input_shape, export_onnx, torchvision_model

    if name in TRANSFORMERS:
        layers, width, heads, seq = TRANSFORMERS[name]
        torch.manual_seed(0)
        model = transformer(layers, width, heads)
        ids = torch.zeros((1, seq, width))
        import warnings

        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (ids,), str(path), dynamo=False, opset_version=13,
                              input_names=["input"], output_names=["output"])
        info = {"model": f"transformer encoder, {layers} blocks, width {width}, {heads} heads, "
                         f"sequence {seq}; input: token embeddings; mean-pooled 1000-class head (written op by op in "
                         "make_suite.py)",
                "weights": "random (torch.manual_seed(0))", "exporter": f"torch {torch.__version__} "
                "TorchScript ONNX exporter, opset 13"}
        return [1, seq, width], info
    torch.manual_seed(0)
    shape = default_input_shape(name)
    export_onnx(torchvision_model(name), path, shape)
    import torchvision

    info = {"model": f"torchvision.models.{name}", "torchvision": torchvision.__version__,
            "weights": "random (weights=None; timing does not depend on weight values)",
            "exporter": f"torch {torch.__version__} TorchScript ONNX exporter, opset 17"}
    return shape, info


def optima(problem) -> dict:
    """Proven optimum at each suite uplink; every exact method must agree."""
    import solvers

    out = {}
    for mbps in UPLINKS_MBPS:
        p = problem.with_network(uplink_mbps=mbps)
        sols = {m: solvers.solve(p, method=m) for m in EXACT_METHODS}
        values = [s.objective for s in sols.values()]
        disagree = max(values) - min(values) > 1e-6 * max(1, min(values))
        if disagree or any(s.status.value != "optimal" for s in sols.values()):
            raise RuntimeError(f"exact methods disagree at {mbps} Mbps: { {m: s.objective for m, s in sols.items()} }")
        best = sols[EXACT_METHODS[0]]
        b = p.breakdown(best.assignment)
        out[f"{mbps:g}"] = {"latency_ms": round(best.objective, 6), "device_layers": b["device_layers"],
                            "uplink_bytes": b["uplink_bytes"], "methods": list(EXACT_METHODS)}
    return out


def dump(problem, path: Path) -> None:
    """Write the instance with one layer (and one line of edges) per line."""
    data = problem.to_dict()
    layers = data.pop("layers")
    edges = data.pop("edges")
    head = json.dumps(data, indent=1)[:-2]
    lines = [head + ',\n "layers": [']
    lines.append(",\n".join("  " + json.dumps(layer, separators=(",", ":")) for layer in layers))
    lines.append(' ],\n "edges": [')
    chunks = [edges[k:k + 8] for k in range(0, len(edges), 8)]
    lines.append(",\n".join("  " + ",".join(json.dumps(e, separators=(",", ":")) for e in c) for c in chunks))
    lines.append(" ]\n}\n")
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    tmp.replace(path)  # atomic: a reader never sees half a file


def build(name: str, args) -> dict:
    from formulations.partition.importers.onnx import import_onnx

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = Path(tmp) / f"{name}.onnx"
        shape, info = export(name, onnx_path)
        optimize = "none" if name in TRANSFORMERS else "basic"
        problem = import_onnx(onnx_path, input_shape=shape, server_profile=args.server_profile,
                              runs=args.runs, warmup=args.warmup, threads=1, optimize=optimize, realtime=True,
                              prefixes=args.prefixes, name=name, source_info=info)
        if optimize == "basic":  # the additive model again, with the runtime's fused groups as layers
            fused = import_onnx(onnx_path, input_shape=shape, server_profile=args.server_profile, runs=args.runs,
                                warmup=args.warmup, threads=1, optimize="fuse", realtime=True)
    metadata = json.loads(json.dumps(dict(problem.metadata)))  # a deep, mutable copy
    if optimize == "basic":
        metadata["latency"]["fused_layers"] = {
            "layers": fused.n_layers, "sum_of_layers_ms": fused.metadata["latency"]["sum_of_layers_ms"],
            "note": "optimize='fuse': groups onnxruntime's extended optimizations fuse, timed as one kernel"}
    metadata["source"].pop("file", None)  # a temporary file
    metadata["source"]["generator"] = "instances/partition/suite/make_suite.py"
    metadata["optimum"] = optima(problem)
    metadata["optimum_note"] = ("proven optimum latency (ms) by uplink in Mbps, at downlink = uplink and "
                                "rtt 0; solved by " + " and ".join(EXACT_METHODS) + ", which agree")
    problem = problem.replace(metadata=metadata)
    dump(problem, HERE / f"{name}.json")
    print(f"{name}: {problem.n_layers} layers, {len(problem.edges)} edges, "
          f"{time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return summary_row(problem)


def summary_row(problem) -> dict:
    md = problem.metadata
    lat = md.get("latency", {})
    return {"name": problem.name, "layers": problem.n_layers, "edges": len(problem.edges),
            "cuts": len(problem.cut_vertices), "optimum": md["optimum"], "latency": lat}


def write_summary(rows: list[dict]) -> None:
    head = "| Model | Layers | Edges | Cut vertices | " + " | ".join(f"Opt. @{m:g} Mbps (ms)" for m in UPLINKS_MBPS)
    lines = ["# Partition suite", "", "Device: this CPU (onnxruntime, 1 thread at real-time priority, median); "
             "server: roofline profile (see each file's metadata.server_costs). "
             "Optimum latency in ms (device layers / total).", "",
             head + " |", "|" + "---|" * (4 + len(UPLINKS_MBPS))]
    for r in rows:
        cells = [f"{r['optimum'][f'{m:g}']['latency_ms']:.2f} ({r['optimum'][f'{m:g}']['device_layers']}/{r['layers']})"
                 for m in UPLINKS_MBPS]
        lines.append(f"| {r['name']} | {r['layers']} | {r['edges']} | {r['cuts']} | " + " | ".join(cells) + " |")
    lines += ["", "## Measured vs additive latency (QDMP's observation)", "",
              "Whole model: median ms of complete runs with graph optimizations off / all on; sum: the sum of "
              "per-layer medians (the additive model). Prefixes: sub-models up to a cut vertex run as their own "
              "model; error = (additive - measured) / measured, mean |error| and the range over the prefixes.", "",
              "Fused: the sum again with one layer per group the runtime fuses (`optimize='fuse'`, timed with "
              "the extended optimizations on).", "",
              "| Model | Whole, no opt. (ms) | Whole, all opt. (ms) | Sum of layers (ms) | Sum / whole(all opt.) "
              "| Fused layers | Sum of fused layers (ms) | Fused sum / whole(all opt.) "
              "| Prefixes | Mean abs. error vs no opt. | Mean abs. error vs all opt. | Range vs all opt. |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lat = r["latency"]
        if not lat:
            continue
        pre = lat.get("prefixes", [])
        err_none = [(p["additive_ms"] - p["measured_ms_none_opt"]) / p["measured_ms_none_opt"] for p in pre]
        err_all = [(p["additive_ms"] - p["measured_ms_all_opt"]) / p["measured_ms_all_opt"] for p in pre]
        mean = lambda e: f"{100 * sum(map(abs, e)) / len(e):.1f}%" if e else "-"  # noqa: E731
        rng = f"{100 * min(err_all):+.1f}% .. {100 * max(err_all):+.1f}%" if err_all else "-"
        whole = lat["whole_model_ms_all_opt"]
        fz = lat.get("fused_layers")
        fused = (f"{fz['layers']} | {fz['sum_of_layers_ms']:.2f} | {fz['sum_of_layers_ms'] / whole:.2f}" if fz
                 else "- | - | -")
        lines.append(f"| {r['name']} | {lat['whole_model_ms_none_opt']:.2f} | {whole:.2f} | "
                     f"{lat['sum_of_layers_ms']:.2f} | {lat['sum_of_layers_ms'] / whole:.2f} | {fused} | "
                     f"{len(pre)} | {mean(err_none)} | {mean(err_all)} | {rng} |")
    (HERE / "summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", help="subset of models (default: all)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--prefixes", type=int, default=5, help="cut-vertex prefixes to time per model")
    parser.add_argument("--server-profile", default="datacentre-gpu")
    args = parser.parse_args(argv)
    names = args.models or TORCHVISION + list(TRANSFORMERS)
    for name in names:
        build(name, args)
    import formulations

    rows = [summary_row(formulations.load(p)) for p in sorted(HERE.glob("*.json"))]
    write_summary(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
