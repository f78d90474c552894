"""Chains of layers for placement: a transformer decoder from its configuration, a CNN from a partition instance."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import InstanceError
from .problem import PlacementLayer

__all__ = ["decoder", "from_partition"]

#: ``torch_dtype`` names of a Hugging Face ``config.json`` -> bytes per value.
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "float8": 1, "int4": 0.5}


def decoder(n_layers: int | Mapping = 32, d_model: int = 4096, d_ff: int = 14336, n_heads: int = 32,
            n_kv_heads: int = 8, vocab: int = 128256, dtype_bytes: float = 2.0) -> list[PlacementLayer]:
    """The layers of a decoder-only transformer for one generated token: ``embed``, ``block0`` ...,
    ``lm_head`` (no download: shapes only).

    Parameters
    ----------
    n_layers : int or mapping
        The number of blocks, or a ``config.json``-like dict with
        ``num_hidden_layers``, ``hidden_size``, ``intermediate_size``,
        ``num_attention_heads``, ``num_key_value_heads``, ``vocab_size`` and
        ``torch_dtype`` (which then give every other argument).
    d_model, d_ff, n_heads, n_kv_heads, vocab : int
    dtype_bytes : float
        Bytes per weight and activation value (2 for float16, 0.5 for 4-bit).

    Returns
    -------
    list of PlacementLayer
        Per block: weights ``(2 d^2 + 2 d d_kv + 3 d d_ff) * dtype_bytes`` (MB;
        attention with grouped KV heads, ``d_kv = d n_kv / n_heads``, and a
        gated MLP), ``gflop = 2 * parameters / 1e9`` per token, output the
        hidden state ``d * dtype_bytes`` bytes, KV cache ``2 d_kv * dtype_bytes``
        bytes per token of context. ``embed`` is a lookup (no FLOPs);
        ``lm_head`` returns the sampled token id (4 bytes). Llama-3-8B:
        ``decoder(32, 4096, 14336, 32, 8, 128256, 2)``, 16.06 GB in all.
    """
    if isinstance(n_layers, Mapping):
        cfg = n_layers
        try:
            dtype = cfg.get("torch_dtype", "float16")
            return decoder(int(cfg["num_hidden_layers"]), int(cfg["hidden_size"]), int(cfg["intermediate_size"]),
                           int(cfg["num_attention_heads"]),
                           int(cfg.get("num_key_value_heads", cfg["num_attention_heads"])), int(cfg["vocab_size"]),
                           DTYPE_BYTES.get(dtype, 2) if isinstance(dtype, str) else float(dtype))
        except KeyError as exc:
            raise InstanceError(f"the configuration lacks {exc.args[0]!r}", field=str(exc.args[0])) from None
    d_kv = d_model * n_kv_heads / n_heads
    block_params = 2 * d_model * d_model + 2 * d_model * d_kv + 3 * d_model * d_ff
    hidden = int(round(d_model * dtype_bytes))
    layers = [PlacementLayer("embed", 0.0, vocab * d_model * dtype_bytes / 1e6, hidden, 0.0)]
    layers += [PlacementLayer(f"block{i}", 2 * block_params / 1e9, block_params * dtype_bytes / 1e6, hidden,
                              2 * d_kv * dtype_bytes) for i in range(int(n_layers))]
    layers.append(PlacementLayer("lm_head", 2 * vocab * d_model / 1e9, vocab * d_model * dtype_bytes / 1e6, 4, 0.0))
    return layers


def from_partition(problem) -> list[PlacementLayer]:
    """The chain of blocks between adjacent cut vertices of a partition instance (a CNN as a chain).

    Each block runs from the layer after one cut vertex to the next cut
    vertex: ``gflop`` sums the layers' ``flops`` (/1e9), ``weight_mb`` their
    ``memory_bytes`` (/1e6), ``output_bytes`` is the closing cut vertex's
    output, and ``ms`` keeps the instance's own times as two devices,
    ``"device"`` and ``"server"`` (summed ``device_ms`` / ``server_ms``). O(n + m).
    """
    topo = problem.topology
    order = topo.order
    cut_pos = sorted(int(p) for p in topo.cut_positions)
    if not cut_pos or cut_pos[-1] != len(order) - 1:
        cut_pos.append(len(order) - 1)
    res = problem.resources
    flops = res.get("flops", np.zeros(problem.n_layers))
    memory = res.get("memory_bytes", np.zeros(problem.n_layers))
    layers, begin = [], 0
    for end in cut_pos:
        members = order[begin:end + 1]
        last = int(order[end])
        layers.append(PlacementLayer(
            problem.names[last], float(flops[members].sum()) / 1e9, float(memory[members].sum()) / 1e6,
            int(problem.output_bytes[last]), 0.0,
            {"device": float(problem.device_ms[members].sum()), "server": float(problem.server_ms[members].sum())}))
        begin = end + 1
    return layers
