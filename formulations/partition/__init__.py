"""DNN DAG partitioning between device and server (QDMP, DADS, Neurosurgeon).

The problem class and its parts live in :mod:`.problem`; the other modules of
this package hold the kind's models, strategies and helpers.
"""

from .problem import Layer, Network, PartitionProblem, RESOURCE_FIELDS, transfer_ms
from .tiers import EnergyModel, Link, TierLayer, TieredPartitionProblem

__all__ = ['Layer', 'Network', 'PartitionProblem', 'RESOURCE_FIELDS', 'transfer_ms',
           'TieredPartitionProblem', 'TierLayer', 'Link', 'EnergyModel']
