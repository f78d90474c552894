"""Online policies by name, for ``coinfer simulate``, :func:`~.sweep.sweep` and users."""

from __future__ import annotations

from formulations.errors import OptionError

from .baselines import BASELINES
from .dpp import DriftPlusPenalty
from .fqla import FQLA

__all__ = ["POLICIES", "V_POLICIES", "make_policy"]

#: policy name -> class ``cls(problem, **params)`` (a simulator policy).
POLICIES = {"dpp": DriftPlusPenalty, "fqla": FQLA, **BASELINES}
#: The policies that take the cost weight ``v`` (swept over V).
V_POLICIES = ("dpp", "fqla")


def make_policy(problem, name: str, **params):
    """Build the policy ``name`` for ``problem`` (``dpp`` and ``fqla`` take ``v``); ``OptionError`` for an unknown name."""
    if name not in POLICIES:
        raise OptionError(f"unknown `policy` {name!r}; choose from {sorted(POLICIES)}")
    return POLICIES[name](problem, **params)
