"""PyTorch models to partition instances, by torch.fx tracing.

Two routes, both without downloading weights (torchvision models are built
with ``weights=None``, random initial weights; timing does not depend on the
weight values):

- :func:`import_fx`: trace an ``nn.Module`` with ``torch.fx``, propagate a
  zero input through it to get every node's output shape, and make one layer
  per traced operation (``call_module``, ``call_function``,
  ``call_method``); placeholders are the device-side inputs; parameters and
  buffers (``get_attr``) are not layers. The device side is measured on this
  CPU by timing each node in a ``torch.fx.Interpreter`` (median over runs
  after warm-up) or taken from a profile; the server side from a profile.
- :func:`export_onnx` / :func:`torchvision_model`: export to ONNX and use
  :func:`formulations.partition.importers.onnx.import_onnx` (onnxruntime-measured
  costs; what ``coinfer import torchvision:NAME`` and the suite use).

Needs the ``torch`` extra (``pip install 'coinfer[torch]'``).
"""

from __future__ import annotations

import math
import statistics
import time
import warnings
from typing import Any, Sequence

import numpy as np

from ...errors import InstanceError
from ..problem import Layer, Network, PartitionProblem

__all__ = ["torchvision_model", "torchvision_names", "default_input_shape", "export_onnx", "import_fx",
           "fx_layers"]


def _require_torch():
    try:
        import torch
        import torch.fx  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("PyTorch import needs the torch extra: pip install 'coinfer[torch]'") from None
    return torch


def torchvision_names() -> list[str]:
    """Names of torchvision's classification architectures."""
    _require_torch()
    import torchvision

    return sorted(torchvision.models.list_models(module=torchvision.models))


def torchvision_model(name: str):
    """A torchvision classification model with random weights (no download), in eval mode.

    Raises
    ------
    InstanceError
        Naming ``model`` for an unknown architecture.
    """
    _require_torch()
    import torchvision

    names = torchvision_names()
    if name not in names:
        close = [n for n in names if n.startswith(name[:4])][:8]
        raise InstanceError(f"unknown torchvision architecture {name!r}"
                            + (f"; did you mean one of {close}?" if close else f"; known: {names}"), field="model")
    kwargs = {"aux_logits": False, "init_weights": False} if name in ("inception_v3", "googlenet") else {}
    return torchvision.models.get_model(name, weights=None, **kwargs).eval()


def default_input_shape(name: str) -> list[int]:
    """The input shape a torchvision architecture expects (batch 1)."""
    side = 299 if name == "inception_v3" else 224
    return [1, 3, side, side]


def export_onnx(module, path, input_shape: Sequence[int], *, opset: int = 17) -> None:
    """Export ``module`` to an ONNX file with a static input shape.

    Uses the TorchScript exporter (``dynamo=False``), which needs no extra
    packages; input named ``input``, output ``output``.
    """
    torch = _require_torch()
    example = torch.zeros(tuple(input_shape))
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)  # the fused attention kernel has no ONNX export
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(module, (example,), str(path), dynamo=False, opset_version=opset,
                              input_names=["input"], output_names=["output"])
        finally:
            torch.backends.mha.set_fastpath_enabled(fastpath)


def _nbytes(value) -> int:
    torch = _require_torch()
    if isinstance(value, torch.Tensor):
        return int(value.numel() * value.element_size())
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(v) for v in value)
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    return 0


def _module_flops(module, inputs, output) -> float:
    """FLOPs of common modules (2 per multiply-accumulate); 0 if unknown."""
    torch = _require_torch()
    nn = torch.nn
    out = output.numel() if isinstance(output, torch.Tensor) else 0
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        w = module.weight
        return 2.0 * out * (w.shape[1] * math.prod(w.shape[2:]))
    if isinstance(module, nn.Linear):
        return 2.0 * out * module.in_features
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm, nn.GroupNorm)):
        return 2.0 * out
    return float(out)


def fx_layers(module, input_shape: Sequence[int]):
    """Trace ``module`` and return ``(graph_module, layers, edges, values)``.

    ``layers`` are ``(name, op, output_bytes, flops)`` for placeholders and
    computing nodes; ``values`` maps node names to the example output.
    O(nodes) plus one forward pass.

    Raises
    ------
    InstanceError
        Naming ``model`` when the module cannot be traced symbolically.
    """
    torch = _require_torch()  # also imports torch.fx

    try:
        gm = torch.fx.symbolic_trace(module)
    except Exception as exc:  # fx raises TraceError and others on dynamic control flow
        raise InstanceError(f"torch.fx cannot trace this model: {str(exc).splitlines()[0]}", field="model") from None
    values: dict[str, Any] = {}
    inputs = iter([torch.zeros(tuple(input_shape))])
    modules = dict(gm.named_modules())
    for node in gm.graph.nodes:  # a plain interpreter, keeping every value
        if node.op == "placeholder":
            values[node.name] = next(inputs, None)
        elif node.op == "get_attr":
            values[node.name] = _fetch(gm, node.target)
        elif node.op != "output":
            args = torch.fx.node.map_arg(node.args, lambda n: values[n.name])
            kwargs = torch.fx.node.map_arg(node.kwargs, lambda n: values[n.name])
            with torch.no_grad():
                if node.op == "call_module":
                    values[node.name] = modules[node.target](*args, **kwargs)
                elif node.op == "call_function":
                    values[node.name] = node.target(*args, **kwargs)
                else:
                    values[node.name] = getattr(args[0], node.target)(*args[1:], **kwargs)
    constant = {n.name for n in gm.graph.nodes if n.op == "get_attr"}
    layers, edges = [], []
    outputs = {a.name for n in gm.graph.nodes if n.op == "output" for a in n.all_input_nodes}
    users_out = {n.name for n in gm.graph.nodes if any(u.op != "output" for u in n.users)}
    needed = set(outputs)
    for node in reversed(list(gm.graph.nodes)):
        if node.name in needed or node.op == "placeholder":
            needed.update(src.name for src in node.all_input_nodes)
    for node in gm.graph.nodes:
        if node.op in ("output", "get_attr") or node.name not in needed and node.op != "placeholder":
            continue  # weights, and nodes no output depends on (e.g. shape asserts)
        value = values[node.name]
        sent = _nbytes(value) if (node.name in users_out or node.name in outputs) else 0
        if node.op == "placeholder":
            layers.append((node.name, "Input", sent, 0.0))
            continue
        if all(src.name in constant for src in node.all_input_nodes):
            constant.add(node.name)  # computed from weights/constants only: not a layer
            continue
        if node.op == "call_module":
            mod = modules[node.target]
            op, flops = type(mod).__name__, _module_flops(mod, None, value)
        else:
            op = getattr(node.target, "__name__", str(node.target))
            flops = float(value.numel()) if isinstance(value, torch.Tensor) and node.op == "call_function" else 0.0
        layers.append((node.name, op, sent, flops))
        for src in node.all_input_nodes:
            if src.name not in constant:
                edges.append((src.name, node.name))
    return gm, layers, edges, values


def _fetch(gm, target: str):
    obj = gm
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def _time_nodes(gm, input_shape, runs: int, warmup: int) -> dict[str, list[float]]:
    torch = _require_torch()  # also imports torch.fx

    times: dict[str, list[float]] = {}

    class Timer(torch.fx.Interpreter):  # type: ignore[name-defined]
        def run_node(self, n):
            start = time.perf_counter()
            result = super().run_node(n)
            times.setdefault(n.name, []).append((time.perf_counter() - start) * 1000.0)
            return result

    example = torch.zeros(tuple(input_shape))
    with torch.no_grad():
        for _ in range(warmup):
            Timer(gm).run(example)
        times.clear()
        for _ in range(runs):
            Timer(gm).run(example)
    return times


def import_fx(module, input_shape: Sequence[int], *, server_profile: str = "datacentre-gpu",
              device_profile: str | None = None, runs: int = 10, warmup: int = 2, threads: int = 1,
              uplink_mbps: float = 5.85, name: str | None = None) -> PartitionProblem:
    """Trace a PyTorch module with torch.fx and build a partition instance.

    Parameters
    ----------
    module : torch.nn.Module
        In eval mode; traced with random or real weights alike.
    input_shape : sequence of int
        The single input's shape.
    server_profile, device_profile : str
        As for :func:`formulations.partition.importers.onnx.import_onnx`; with
        ``device_profile=None`` each node is timed on this CPU in a
        ``torch.fx.Interpreter`` (median of ``runs`` after ``warmup``, with
        ``threads`` torch threads; interpreter overhead included).

    Returns
    -------
    PartitionProblem
    """
    torch = _require_torch()
    from .profiles import get_profile

    server = get_profile(server_profile)
    device = get_profile(device_profile, "device_profile") if device_profile is not None else None
    gm, raw, edges, _ = fx_layers(module, input_shape)
    names = [r[0] for r in raw]
    flops = np.array([r[3] for r in raw])
    moved = np.array([float(r[2]) for r in raw])
    work = np.array([r[1] != "Input" for r in raw])
    server_ms = server.layer_ms(names, flops, moved, work)
    if device is None:
        old = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            times = _time_nodes(gm, input_shape, runs, warmup)
        finally:
            torch.set_num_threads(old)
        device_ms = np.array([statistics.median(times[n]) if w and n in times else 0.0
                              for n, w in zip(names, work)])
        device_info = {"model": "measured", "runtime": f"torch {torch.__version__} fx.Interpreter, CPU",
                       "threads": threads, "runs": runs, "warmup": warmup, "statistic": "median"}
    else:
        device_ms = device.layer_ms(names, flops, moved, work)
        device_info = device.provenance()
    layers = [Layer(n, float(f"{d:.4g}"), float(f"{s:.4g}"), int(b), flops=float(fl), op=op)
              for (n, op, b, fl), d, s in zip(raw, device_ms, server_ms)]
    metadata = {"source": {"format": "torch.fx", "module": type(module).__name__, "input_shape": list(input_shape)},
                "units": {"device_ms": "ms", "server_ms": "ms", "output_bytes": "bytes", "flops": "FLOP"},
                "device_costs": device_info, "server_costs": server.provenance()}
    return PartitionProblem(layers, edges, Network(uplink_mbps), metadata=metadata,
                            name=name or type(module).__name__)
