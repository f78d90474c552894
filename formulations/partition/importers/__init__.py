"""Importers: real DNN models to partition instances.

- :mod:`formulations.partition.importers.onnx`: ONNX files (extra ``coinfer[onnx]``),
  with costs measured by onnxruntime's profiler (:mod:`.profiling`) or from a
  device profile (:mod:`.profiles`).
- :mod:`formulations.partition.importers.torchfx`: PyTorch modules and torchvision
  architectures (extra ``coinfer[torch]``).
- :mod:`formulations.partition.importers.tier_builder`: one profile per tier
  and the links between them to a k-tier instance (:func:`import_tiers`,
  ``coinfer import --tiers``).
- :mod:`formulations.partition.importers.onnx_split`: cut an imported model into
  ``device.onnx`` and ``server.onnx`` (:func:`split_model`);
  :mod:`formulations.partition.importers.segments`: measure a split
  (:func:`measure_split`, :func:`measure_segments`). Choosing the split (a
  solve) is on the solver side: ``solvers.split``.

Nothing heavy is imported here: ``onnx``, ``onnxruntime`` and ``torch`` are
imported inside the functions that need them.
"""

from __future__ import annotations

__all__ = ["import_onnx", "import_tiers", "get_profile", "profile_names", "split_model", "measure_split"]


def import_onnx(source, **kwargs):
    """See :func:`formulations.partition.importers.onnx.import_onnx`."""
    from .onnx import import_onnx as run

    return run(source, **kwargs)


def import_tiers(source, tiers, links, **kwargs):
    """See :func:`formulations.partition.importers.tier_builder.import_tiers` (a k-tier instance)."""
    from .tier_builder import import_tiers as run

    return run(source, tiers, links, **kwargs)


def get_profile(name):
    """See :func:`formulations.partition.importers.profiles.get_profile`."""
    from .profiles import get_profile as run

    return run(name)


def profile_names():
    """See :func:`formulations.partition.importers.profiles.profile_names`."""
    from .profiles import profile_names as run

    return run()


def split_model(model, device_side, **kwargs):
    """See :func:`formulations.partition.importers.onnx_split.split_model`."""
    from .onnx_split import split_model as run

    return run(model, device_side, **kwargs)


def measure_split(problem, assignment, split, feeds, **kwargs):
    """See :func:`formulations.partition.importers.segments.measure_split`."""
    from .segments import measure_split as run

    return run(problem, assignment, split, feeds, **kwargs)
