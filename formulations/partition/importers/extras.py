"""The optional extras of the importers, imported on demand with an error naming the extra."""

from __future__ import annotations

__all__ = ["require_onnx"]


def require_onnx():
    """Import onnx or raise an ImportError naming the extra."""
    try:
        import onnx
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("ONNX import needs the onnx extra: pip install 'coinfer[onnx]'") from None
    return onnx
