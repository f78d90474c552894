"""Per-node floating-point operation counts for common ONNX operators.

Counts follow the usual convention: one multiply-accumulate is 2 FLOPs,
one elementwise arithmetic operation per output element is 1 FLOP. The
counts feed the roofline cost model (:mod:`formulations.partition.importers.profiles`);
they are estimates of work, not of time.

Operators that only move or reinterpret data (``Reshape``, ``Concat``,
``Transpose``...) count 0 FLOPs. An operator not listed here also counts 0,
and :func:`node_flops` reports it as unknown so that the importer can warn.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

__all__ = ["node_flops", "MOVEMENT_OPS", "ELEMENTWISE_FLOPS"]

Shape = Sequence[int]

#: Operators that move, select or reinterpret data: 0 FLOPs, no warning.
MOVEMENT_OPS = frozenset(
    """Reshape Flatten Squeeze Unsqueeze Transpose Concat Split Slice Gather GatherElements
    GatherND Identity Dropout Shape Size Constant ConstantOfShape Expand Tile Pad Cast
    CastLike Range Where Equal Greater Less GreaterOrEqual LessOrEqual Not And Or Xor
    ScatterND ScatterElements DepthToSpace SpaceToDepth Resize Upsample NonZero TopK
    ArgMax ArgMin EyeLike Trilu OneHot""".split()
)

#: FLOPs per output element of elementwise operators.
ELEMENTWISE_FLOPS: Mapping[str, int] = {
    "Add": 1, "Sub": 1, "Mul": 1, "Div": 1, "Pow": 1, "Neg": 1, "Abs": 1, "Sqrt": 1,
    "Reciprocal": 1, "Relu": 1, "LeakyRelu": 2, "PRelu": 2, "Clip": 1, "Max": 1, "Min": 1,
    "Floor": 1, "Ceil": 1, "Round": 1, "Sign": 1, "Sum": 1, "Mean": 1,
    "Exp": 4, "Log": 4, "Tanh": 4, "Sigmoid": 4, "HardSigmoid": 3, "HardSwish": 4,
    "Erf": 4, "Elu": 4, "Selu": 4, "Softplus": 4, "Mish": 8, "Gelu": 8, "Sin": 4, "Cos": 4,
}


def _numel(shape: Shape | None) -> int:
    return int(math.prod(shape)) if shape is not None else 0


def node_flops(op: str, inputs: Sequence[Shape | None], outputs: Sequence[Shape | None],
               attrs: Mapping[str, object]) -> tuple[float, bool]:
    """FLOPs of one ONNX node from its static shapes.

    Parameters
    ----------
    op : str
        ONNX operator type (``node.op_type``).
    inputs, outputs : sequence of shape or None
        Static shapes of the node's inputs (weights included) and outputs;
        ``None`` for an absent optional input.
    attrs : mapping
        The node's attributes (``kernel_shape``, ``group``...).

    Returns
    -------
    (flops, known) : (float, bool)
        ``known`` is False for an operator this table does not cover (then
        ``flops`` is 0).

    Notes
    -----
    O(rank) per node. Convolutions: ``2 * numel(out) * C_in/group * prod(kernel)``
    (+ ``numel(out)`` with a bias); MatMul/Gemm: ``2 * M * N * K`` per batch.
    """
    out = _numel(outputs[0]) if outputs else 0
    if op in MOVEMENT_OPS:
        return 0.0, True
    if op in ELEMENTWISE_FLOPS:
        return float(ELEMENTWISE_FLOPS[op] * out), True
    if op in ("Conv", "ConvTranspose"):
        w: Any = inputs[1]  # Conv: [C_out, C_in/group, k...]; ConvTranspose: [C_in, C_out/group, k...]
        if op == "Conv":
            per_out = w[1] * _numel(w[2:])  # C_in/group * prod(kernel)
            flops = 2.0 * out * per_out
        else:  # each input element scatters into C_out/group * prod(kernel) outputs
            flops = 2.0 * _numel(inputs[0]) * (w[1] * _numel(w[2:]))
        if len(inputs) > 2 and inputs[2] is not None:
            flops += out
        return flops, True
    if op in ("MatMul", "Gemm", "MatMulInteger", "QLinearMatMul"):
        a: Any = inputs[0]
        k = a[-1] if op != "Gemm" or not attrs.get("transA") else a[0]
        flops = 2.0 * out * k
        if op == "Gemm" and len(inputs) > 2 and inputs[2] is not None:
            flops += out
        return flops, True
    if op in ("MaxPool", "AveragePool", "LpPool"):
        return float(out * _numel(attrs.get("kernel_shape") or [1])), True  # type: ignore[arg-type]
    if op in ("GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "ReduceSum", "ReduceMax",
              "ReduceMin", "ReduceProd", "ReduceL2", "ReduceSumSquare"):
        return float(_numel(inputs[0])), True
    if op == "BatchNormalization":
        return 2.0 * out, True
    if op in ("InstanceNormalization", "LayerNormalization", "GroupNormalization"):
        return 8.0 * out, True
    if op in ("Softmax", "LogSoftmax"):
        return 5.0 * out, True
    return 0.0, False
