"""What the tests share: paths (repository root, shipped instances, broken fixtures) and CLI helpers."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INSTANCES = ROOT / "instances"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def registered_commands() -> set[str]:
    """The sub-command names the ``coinfer`` parser knows."""
    import argparse

    from solvers.cli import build_parser

    actions = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return set(actions[0].choices)


#: Multiplier of every property test's example count, by ``HYPOTHESIS_PROFILE``.
EXAMPLE_SCALE = {"ci": 1.0, "dev": 4.0, "thorough": 20.0}


def examples(count: int, *, profile: str | None = None) -> int:
    """The example count for a property test that asks for ``count`` under the ``ci`` profile.

    ``@settings(max_examples=examples(200))`` runs 200 examples in CI, 800
    with ``HYPOTHESIS_PROFILE=dev`` and 4000 with ``thorough``.
    """
    name = profile or os.environ.get("HYPOTHESIS_PROFILE", "ci")
    if name not in EXAMPLE_SCALE:
        raise ValueError(f"unknown HYPOTHESIS_PROFILE {name!r}; use one of {sorted(EXAMPLE_SCALE)}")
    return max(1, round(count * EXAMPLE_SCALE[name]))
