"""Layer placement across a heterogeneous cluster (kind ``"placement"``): see :mod:`.problem`."""

from .builders import decoder, from_partition
from .problem import OBJECTIVES, Device, PlacementEvaluation, PlacementLayer, PlacementProblem

__all__ = ["PlacementProblem", "PlacementEvaluation", "PlacementLayer", "Device", "OBJECTIVES", "decoder",
           "from_partition"]
