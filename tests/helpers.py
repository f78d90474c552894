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


#: The optional extras' top-level modules: a doc example importing one is skipped when it is not installed.
OPTIONAL_MODULES = ("torch", "torchvision", "dask", "matplotlib", "onnx", "onnxruntime", "sklearn")


def check_doc_examples(relative_path: str, *, optional_modules: tuple[str, ...] = OPTIONAL_MODULES) -> int:
    """Run every ```python block of a Markdown file (from the repository root) and check
    that each ``print(...)`` line followed by a ``# expected`` comment printed that text.

    A block that imports one of ``optional_modules`` is skipped when that module is not
    installed (the heavy extras CI does not install). Returns the number of claims checked
    (callers assert it is positive where a page makes claims, so a page whose examples
    lost their comments cannot pass silently).
    """
    import contextlib
    import importlib.util
    import io
    import re

    text = (ROOT / relative_path).read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, f"{relative_path} has no python examples"
    checked = 0
    for code in blocks:
        if any(re.search(rf"^\s*(import|from) {m}\b", code, re.M) and importlib.util.find_spec(m) is None
               for m in optional_modules):
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            # "<file>": not a Python file, so inspect.getsource (Hypothesis's derandomize digest) cannot misread it
            exec(compile(code, f"<{relative_path}>", "exec"), {"__name__": "docs"})
        lines = code.splitlines()
        claims = [b[2:] for a, b in zip(lines, lines[1:]) if a.startswith("print(") and b.startswith("# ")]
        missing = [claim for claim in claims if claim not in out.getvalue()]
        assert not missing, (relative_path, missing, out.getvalue())
        checked += len(claims)
    return checked
