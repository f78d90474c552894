"""The house rules, enforced: imports point one way and functions stay small.

- ``formulations`` never imports ``solvers``, not even inside a function.
- No import cycles among the project's modules, counting imports inside
  functions too (a deferred import is still a dependency).
- No function in ``formulations`` or ``solvers`` is longer than 120 lines.

An AST walk of the source, no import-linter needed. ``test_the_checks_catch_*``
show that each check fails on a violation.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

from tests.helpers import ROOT

PACKAGES = ("formulations", "solvers")
MAX_FUNCTION_LINES = 120


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def imported_modules(tree: ast.AST, name: str, is_package: bool, known: set[str]) -> set[str]:
    """Project modules that ``tree`` (module ``name``) imports anywhere, functions included."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # "from pkg import sub" imports the submodule when there is one
            targets = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in known else prefix for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # "import a.b.c" -> nearest project module
                target = target.rpartition(".")[0]
            if target:
                out.add(target)
    return out


def import_graph(sources: dict[str, str]) -> nx.DiGraph:
    known = set(sources)
    graph = nx.DiGraph()
    graph.add_nodes_from(known)
    for name, text in sources.items():
        is_package = name in PACKAGES or any(other.startswith(name + ".") for other in known)
        for target in imported_modules(ast.parse(text), name, is_package, known):
            if target != name:
                graph.add_edge(name, target)
    return graph


def layering_violations(graph: nx.DiGraph) -> list[str]:
    return sorted(f"{u} imports {v}" for u, v in graph.edges if u.startswith("formulations") and v.startswith("solvers"))


def import_cycles(graph: nx.DiGraph) -> list[list[str]]:
    """Groups of modules that import each other (strongly connected components)."""
    return [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]


def long_functions(sources: dict[str, str]) -> list[str]:
    out = []
    for name, text in sources.items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    out.append(f"{name}.{node.name}: {length} lines")
    return out


def read_sources() -> dict[str, str]:
    return {name: path.read_text(encoding="utf-8") for name, path in project_modules().items()}


def test_formulations_never_imports_solvers():
    assert layering_violations(import_graph(read_sources())) == []


def test_no_import_cycles():
    assert import_cycles(import_graph(read_sources())) == []


def test_no_function_is_longer_than_120_lines():
    assert long_functions(read_sources()) == []


def test_the_checks_catch_a_deferred_solvers_import_a_cycle_and_a_long_function():
    sources = read_sources()
    sources["formulations.partition.problem"] += "\n\ndef _helper():\n    import solvers\n    return solvers\n"
    assert layering_violations(import_graph(sources)) == ["formulations.partition.problem imports solvers"]

    sources = read_sources()
    sources["solvers.algorithms.pipeline.bounds"] += "\n\ndef _later():\n    from .neh import neh\n    return neh\n"
    sources["solvers.algorithms.pipeline.neh"] += "\n\nfrom . import bounds\n"
    cycles = import_cycles(import_graph(sources))
    assert any({"solvers.algorithms.pipeline.bounds", "solvers.algorithms.pipeline.neh"} <= set(c) for c in cycles)

    sources = read_sources()
    sources["solvers.solution"] += "\n\ndef _long():\n" + "    x = 1\n" * MAX_FUNCTION_LINES + "    return x\n"
    assert f"solvers.solution._long: {MAX_FUNCTION_LINES + 2} lines" in long_functions(sources)


def test_hypothesis_profiles_scale_every_example_count():
    from tests.helpers import examples

    assert examples(50, profile="ci") == 50
    assert examples(50, profile="dev") == 200
    assert examples(50, profile="thorough") == 1000
    with pytest.raises(ValueError, match="HYPOTHESIS_PROFILE"):
        examples(50, profile="nope")
