"""coinfer formulations: what each co-inference problem is.

Data classes, loading and validation, independent evaluators, and the
mathematical models (min-cut network, CP-SAT) as data a solver consumes.

>>> import formulations
>>> problem = formulations.load("instances/partition/tiny_chain.json")  # doctest: +SKIP
"""

from .base import Evaluation, Problem
from .errors import CoinferError, InfeasibleAssignmentError, InstanceError, OptionError
from .io import load, load_all, load_dict, register_kind, save
from .exits import ExitProblem
from .offloading import OffloadingProblem
from .partition import Layer, Network, PartitionProblem, TieredPartitionProblem
from .pipeline import PipelineProblem
from .placement import PlacementProblem

__all__ = [
    "load",
    "load_all",
    "load_dict",
    "save",
    "register_kind",
    "CoinferError",
    "InstanceError",
    "InfeasibleAssignmentError",
    "OptionError",
    "Problem",
    "Evaluation",
    "PartitionProblem",
    "TieredPartitionProblem",
    "ExitProblem",
    "PipelineProblem",
    "OffloadingProblem",
    "PlacementProblem",
    "Layer",
    "Network",
]
