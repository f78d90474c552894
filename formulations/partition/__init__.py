"""DNN DAG partitioning between device and server, or over k tiers (QDMP, DADS, Neurosurgeon).

One model, :class:`~.core.PartitionCore`, holds and evaluates both forms:
:class:`PartitionProblem` is its two-tier view (:mod:`.problem`),
:class:`TieredPartitionProblem` its k-tier form (:mod:`.tiers`). The other
modules of this package hold the kind's models, strategies and helpers.
"""

from .core import PartitionCore
from .problem import Layer, Network, PartitionProblem, RESOURCE_FIELDS, transfer_ms
from .tiers import EnergyModel, Link, TierLayer, TieredPartitionProblem

__all__ = ['Layer', 'Network', 'PartitionProblem', 'RESOURCE_FIELDS', 'transfer_ms',
           'TieredPartitionProblem', 'TierLayer', 'Link', 'EnergyModel', 'PartitionCore']
