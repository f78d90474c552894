"""What the tests share: paths (repository root, shipped instances, broken fixtures) and CLI helpers."""

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
