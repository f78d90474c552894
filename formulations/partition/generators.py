"""Synthetic DNN-like partition instances, deterministic by seed.

:func:`synthetic_dnn` stacks blocks the way CNNs are built (plain chains,
ResNet residual blocks, Inception branches joined by a concat, DenseNet
blocks in which every layer reads all earlier ones) and derives every cost
from the tensor shapes: FLOPs and bytes per layer, then times on a device and
a server by the roofline profiles of :mod:`formulations.partition.importers.profiles`
(figures and sources in ``formulations/data/device_profiles.json``). The same
builder and cost model make the real architectures of
``instances/partition/make_real.py``.

Examples
--------
>>> from formulations.partition.generators import synthetic_dnn
>>> p = synthetic_dnn(40, seed=1)
>>> p.n_layers, p.inputs
(40, ['input'])
"""

from __future__ import annotations

import numpy as np

from .problem import Layer, Network, PartitionProblem

__all__ = ["BLOCK_KINDS", "GraphBuilder", "ROOFLINE_DOC", "synthetic_dnn"]

#: Block types :func:`synthetic_dnn` can stack.
BLOCK_KINDS = ("chain", "residual", "inception", "dense")

BYTES_PER_FLOAT = 4  # float32 activations and weights


#: How :meth:`GraphBuilder.problem` turns shapes into times (for instance metadata).
ROOFLINE_DOC = (
    "roofline model per layer (formulations.partition.importers.profiles): ms = overhead_us / 1000 + "
    "max(flops / (peak_gflops * efficiency * 1e6), memory_bytes / (memory_gbps * efficiency * 1e6)); "
    "memory_bytes = input tensors + output tensor + weights, float32; input layers 0 ms"
)


def _profile(profile):
    from .importers.profiles import get_profile

    return get_profile(profile) if isinstance(profile, str) else profile


class GraphBuilder:
    """Builds a layer DAG from tensor shapes, then its roofline costs.

    Each layer reads the channel-wise concatenation of its predecessors and
    produces a ``channels x side x side`` float32 tensor. Used by
    :func:`synthetic_dnn` and by the real architectures of
    ``instances/partition/make_real.py``.

    Examples
    --------
    >>> g = GraphBuilder()
    >>> x = g.add("input", "input", [], 3, 224)
    >>> y = g.add("conv", "conv", [x], 64, 112, k=7)
    >>> g.macs[y] == 7 * 7 * 3 * 64 * 112 * 112
    True
    """

    def __init__(self):
        self.names: list[str] = []
        self.ops: list[str] = []
        self.channels: list[int] = []
        self.sides: list[int] = []
        self.macs: list[float] = []
        self.flops: list[float] = []
        self.weight_bytes: list[float] = []
        self.in_bytes: list[float] = []
        self.src: list[int] = []
        self.dst: list[int] = []

    def __len__(self) -> int:
        return len(self.names)

    def out_bytes(self, v: int) -> int:
        """Bytes of layer ``v``'s output tensor (float32)."""
        return self.channels[v] * self.sides[v] * self.sides[v] * BYTES_PER_FLOAT

    def add(self, name: str, op: str, preds, channels: int, side: int, k: int = 1, groups: int = 1) -> int:
        """Append a layer; return its index.

        Parameters
        ----------
        name : str
        op : {"input", "conv", "fc", "pool", "add", "concat"}
            ``conv``/``fc``: a ``k x k`` convolution with ``groups`` groups
            (an ``fc`` on a ``c x s x s`` tensor is a conv with ``k = s``);
            MACs ``k*k*cin*channels*side^2/groups``. ``pool``: ``k*k``
            comparisons or adds per output element; ``add``: one per element
            per extra input; both counted as half a MAC. ``concat`` and
            ``input`` move data only.
        preds : list of int
            Predecessor layer indices; the input has ``sum`` of their channels.
        channels, side : int
            Output tensor shape ``channels x side x side``.
        """
        v = len(self.names)
        cin = sum(self.channels[u] for u in preds)
        hw = side * side
        flops = 0.0
        macs = weights = 0
        if op in ("conv", "fc"):
            macs = k * k * cin * channels * hw // groups
            weights = k * k * cin * channels // groups + channels
            flops = 2.0 * macs
        elif op == "pool":
            flops = float(k * k * channels * hw)
        elif op == "add":
            flops = float((len(preds) - 1) * channels * hw)
        elif op not in ("concat", "input"):
            raise ValueError(f"unknown `op` {op!r}")
        self.names.append(name)
        self.ops.append(op)
        self.channels.append(int(channels))
        self.sides.append(int(side))
        self.macs.append(float(macs))
        self.flops.append(flops)
        self.weight_bytes.append(float(weights) * BYTES_PER_FLOAT)
        self.in_bytes.append(float(sum(self.out_bytes(u) for u in preds)))
        self.src.extend(preds)
        self.dst.extend([v] * len(preds))
        return v

    def problem(
        self,
        network: Network,
        *,
        device="phone-cpu",
        server="edge-gpu",
        jitter: np.ndarray | None = None,
        metadata: dict | None = None,
        name: str | None = None,
    ) -> PartitionProblem:
        """The :class:`PartitionProblem` with roofline costs.

        Parameters
        ----------
        network : Network
        device, server : str or profile
            A profile name of ``formulations/data/device_profiles.json``
            (e.g. ``"phone-cpu"``, ``"edge-gpu"``) or a profile object with
            ``layer_ms(names, flops, bytes, work)`` (see
            :mod:`formulations.partition.importers.profiles`).
        jitter : ndarray, optional
            Shape ``(2, n)``: multipliers of the device and server times.
        metadata : dict, optional
            ``device_profile``/``server_profile`` provenance is added.
        name : str, optional

        Notes
        -----
        ``device_ms``/``server_ms`` come from the roofline of each layer's
        FLOPs and memory traffic (input + output + weight bytes); input
        layers cost 0 ms (they are data). O(n + m).
        """
        n = len(self.names)
        flops = np.array(self.flops)
        out_bytes = np.array([self.out_bytes(v) for v in range(n)], dtype=np.int64)
        memory = np.array(self.in_bytes) + out_bytes + np.array(self.weight_bytes)
        work = np.array([op != "input" for op in self.ops])
        device, server = _profile(device), _profile(server)
        device_ms = device.layer_ms(self.names, flops, memory, work)
        server_ms = server.layer_ms(self.names, flops, memory, work)
        if jitter is not None:
            device_ms, server_ms = device_ms * jitter[0], server_ms * jitter[1]
        metadata = dict(metadata or {})
        metadata["device_profile"] = device.provenance()
        metadata["server_profile"] = server.provenance()
        layers = [
            Layer(nm, d, s, o, flops=f, op=op)
            for nm, d, s, o, f, op in zip(
                self.names, device_ms.tolist(), server_ms.tolist(), out_bytes.tolist(), flops.tolist(), self.ops
            )
        ]
        names = self.names
        edges = [(names[u], names[v]) for u, v in zip(self.src, self.dst)]
        return PartitionProblem(layers, edges, network, metadata=metadata, name=name)


def _stage(position: int, body: int, stages: int) -> int:
    return min(stages - 1, position * stages // max(body, 1))


def _block_size(kind: str, width: int) -> int:
    return {"chain": 1, "residual": 3, "inception": 8, "dense": width + 1}[kind]


def synthetic_dnn(
    n_layers: int,
    mix=BLOCK_KINDS,
    seed: int = 0,
    *,
    uplink_mbps: float = 5.85,
    downlink_mbps: float | None = None,
    rtt_ms: float = 0.0,
    device="phone-cpu",
    server="edge-gpu",
    image_side: int = 224,
    name: str | None = None,
) -> PartitionProblem:
    """A CNN-like layer DAG with exactly ``n_layers`` layers and roofline costs.

    Layout: ``input`` (3 x side x side float32 image), a 7x7 stride-2 stem
    conv and a 3x3 pool (when ``n_layers >= 5``), a body of blocks drawn
    uniformly from ``mix``, then global average pool and a 1000-way ``fc``.
    The body has four stages (ResNet-like 64/128/256/512 channels at
    side/4, /8, /16, /32), so tensors shrink with depth. Blocks:

    - ``chain``: one 3x3 conv.
    - ``residual``: conv3x3 -> conv3x3 -> add, the add also reading the
      block input (skip connection).
    - ``inception``: four parallel branches (1x1; 1x1->3x3; 1x1->5x5;
      pool->1x1) joined by a concat.
    - ``dense``: 3 to 6 conv layers (growth 32 channels), each reading the
      block input and every earlier layer of the block, then a 1x1
      transition conv reading all of them.

    Block inputs and outputs are cut vertices; only ``chain`` layers and the
    block joins are. When a block no longer fits, chain layers fill up.

    Parameters
    ----------
    n_layers : int
        Exact number of layers, ``>= 3``.
    mix : sequence of str
        Block types to draw from, a non-empty subset of :data:`BLOCK_KINDS`.
    seed : int
        Seed of the ``numpy.random.Generator``; same seed, same instance.
    uplink_mbps, downlink_mbps, rtt_ms : float
        The network (Mbps, Mbps, ms); LTE uplink 5.85 Mbps by default.
    device, server : str or profile
        Roofline profiles for ``device_ms`` and ``server_ms``: names in
        ``formulations/data/device_profiles.json`` or profile objects.
    image_side : int
        Input height = width (pixels).
    name : str, optional
        Instance name; default ``synthetic_<n>_s<seed>``.

    Returns
    -------
    PartitionProblem
        Layer ``op`` is the operator; ``flops`` holds the layer's FLOPs;
        ``metadata`` records the generator arguments, block counts, cost
        model and units.

    Raises
    ------
    ValueError
        For ``n_layers < 3``, an empty or unknown ``mix``.

    Notes
    -----
    O(n) time and memory: each block has a bounded number of layers and
    edges (a dense block of ``k <= 6`` layers has ``O(k^2)`` edges).
    100,000 layers take 1.5-3 s on a 2-core machine, about half of it in
    ``PartitionProblem``'s constructor (validation, topological sort). Each layer's device and server time gets an independent
    multiplicative jitter drawn from ``[0.8, 1.25]`` so ties are rare.
    """
    n_layers = int(n_layers)
    if n_layers < 3:
        raise ValueError(f"`n_layers` must be >= 3, got {n_layers}")
    mix = tuple(mix)
    if not mix or any(kind not in BLOCK_KINDS for kind in mix):
        raise ValueError(f"`mix` must be a non-empty subset of {BLOCK_KINDS}, got {mix!r}")
    rng = np.random.default_rng(seed)
    builder = GraphBuilder()
    head = builder.add("input", "input", [], 3, image_side)
    n_tail_layers = 2  # global pool + fc
    if n_layers >= 5:
        head = builder.add("stem_conv", "conv", [head], 64, image_side // 2, k=7)
        head = builder.add("stem_pool", "pool", [head], 64, image_side // 4, k=3)
    head, block_counts = _add_body(builder, head, n_layers - len(builder.names) - n_tail_layers, mix, rng, image_side)
    head = builder.add("global_pool", "pool", [head], builder.channels[head], 1, k=builder.sides[head])
    builder.add("fc", "fc", [head], 1000, 1)

    jitter = rng.uniform(0.8, 1.25, size=(2, n_layers))
    metadata = {
        "source": "formulations.partition.generators.synthetic_dnn",
        "generator": {"n_layers": n_layers, "mix": list(mix), "seed": int(seed), "image_side": image_side},
        "blocks": block_counts,
        "units": {
            "device_ms": "ms",
            "server_ms": "ms",
            "output_bytes": "bytes (float32 tensor)",
            "flops": "FLOPs (multiply-add = 2)",
        },
        "costs": ROOFLINE_DOC + "; times a per-layer jitter in [0.8, 1.25]",
    }
    return builder.problem(
        Network(uplink_mbps, downlink_mbps, rtt_ms),
        device=device,
        server=server,
        jitter=jitter,
        metadata=metadata,
        name=name or f"synthetic_{n_layers}_s{seed}",
    )


def _add_block(builder: "GraphBuilder", kind: str, tag: str, head: int, channels: int, side: int, width: int) -> int:
    """Add one block of ``kind`` after layer ``head``; return the block's output layer."""
    if kind == "chain":
        return builder.add(f"{tag}_conv", "conv", [head], channels, side, k=3)
    if kind == "residual":
        conv1 = builder.add(f"{tag}_conv1", "conv", [head], channels, side, k=3)
        conv2 = builder.add(f"{tag}_conv2", "conv", [conv1], channels, side, k=3)
        return builder.add(f"{tag}_add", "add", [conv2, head], channels, side)
    if kind == "inception":
        quarter = channels // 4
        branch1 = builder.add(f"{tag}_1x1", "conv", [head], quarter, side)
        reduce3 = builder.add(f"{tag}_3x3_reduce", "conv", [head], quarter // 2, side)
        branch3 = builder.add(f"{tag}_3x3", "conv", [reduce3], quarter, side, k=3)
        reduce5 = builder.add(f"{tag}_5x5_reduce", "conv", [head], quarter // 4, side)
        branch5 = builder.add(f"{tag}_5x5", "conv", [reduce5], quarter, side, k=5)
        pool = builder.add(f"{tag}_pool", "pool", [head], builder.channels[head], side, k=3)
        pool_proj = builder.add(f"{tag}_pool_proj", "conv", [pool], channels - 3 * quarter, side)
        return builder.add(f"{tag}_concat", "concat", [branch1, branch3, branch5, pool_proj], channels, side)
    feed = [head]  # dense
    for i in range(width):
        feed.append(builder.add(f"{tag}_conv{i}", "conv", list(feed), 32, side, k=3))
    return builder.add(f"{tag}_transition", "conv", feed, channels, side)


def _add_body(builder: "GraphBuilder", head: int, n_body_layers: int, mix, rng, image_side: int) -> tuple[int, dict]:
    """Add exactly ``n_body_layers`` layers of blocks drawn from ``mix`` in four
    stages (64/128/256/512 channels at side/4../32); return the last layer
    and the number of blocks of each kind."""
    n_stages = 4
    start = len(builder.names)
    kinds = rng.integers(len(mix), size=n_body_layers + 1)
    widths = rng.integers(3, 7, size=n_body_layers + 1)
    block_counts = {kind: 0 for kind in BLOCK_KINDS}
    n_blocks = 0
    while len(builder.names) - start < n_body_layers:
        left = n_body_layers - (len(builder.names) - start)
        kind, width = mix[int(kinds[n_blocks])], int(widths[n_blocks])
        if _block_size(kind, width) > left:
            kind = "chain"
        stage = _stage(len(builder.names) - start, n_body_layers, n_stages)
        channels, side = 64 << stage, max(1, (image_side // 4) >> stage)
        head = _add_block(builder, kind, f"b{n_blocks}_{kind}", head, channels, side, width)
        block_counts[kind] += 1
        n_blocks += 1
    return head, block_counts
