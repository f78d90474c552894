"""The public API (issue 19): what the two packages and each kind's package export, documented.

docs/api/index.md states that these ``__all__`` lists are the public API; the reference
(``mkdocs build --strict`` in CI) is built from the same docstrings.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

PUBLIC_MODULES = [
    "formulations", "solvers", "formulations.partition", "formulations.exits", "formulations.pipeline",
    "formulations.offloading", "formulations.placement", "formulations.errors",
]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_name_exists_and_is_documented(module_name):
    module = importlib.import_module(module_name)
    assert module.__doc__, module_name
    missing, undocumented = [], []
    for name in module.__all__:
        if not hasattr(module, name):
            missing.append(name)
            continue
        obj = getattr(module, name)
        if (inspect.isclass(obj) or inspect.isfunction(obj) or callable(obj)) and not inspect.getdoc(obj):
            undocumented.append(name)
    assert not missing, f"{module_name}.__all__ names what it does not define: {missing}"
    assert not undocumented, f"{module_name}: public names without a docstring: {undocumented}"


def test_the_error_tree_is_exported_from_both_packages():
    import formulations
    import solvers

    for name in ("CoinferError", "InstanceError", "OptionError", "InfeasibleAssignmentError"):
        assert getattr(formulations, name) is getattr(solvers, name)
        assert issubclass(getattr(formulations, name), formulations.CoinferError)


def test_both_packages_are_typed():
    from pathlib import Path

    import formulations
    import solvers

    for package in (formulations, solvers):
        assert (Path(package.__file__).parent / "py.typed").is_file()
