"""Importers: real DNN models to partition instances.

- :mod:`formulations.partition.importers.onnx`: ONNX files (extra ``coinfer[onnx]``),
  with costs measured by onnxruntime's profiler (:mod:`.profiling`) or from a
  device profile (:mod:`.profiles`).
- :mod:`formulations.partition.importers.torchfx`: PyTorch modules and torchvision
  architectures (extra ``coinfer[torch]``).

Nothing heavy is imported here: ``onnx``, ``onnxruntime`` and ``torch`` are
imported inside the functions that need them.
"""

from __future__ import annotations

__all__ = ["import_onnx", "get_profile", "profile_names"]


def import_onnx(source, **kwargs):
    """See :func:`formulations.partition.importers.onnx.import_onnx`."""
    from .onnx import import_onnx as run

    return run(source, **kwargs)


def get_profile(name):
    """See :func:`formulations.partition.importers.profiles.get_profile`."""
    from .profiles import get_profile as run

    return run(name)


def profile_names():
    """See :func:`formulations.partition.importers.profiles.profile_names`."""
    from .profiles import profile_names as run

    return run()
