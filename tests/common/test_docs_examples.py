"""Every Python example in docs/*.md runs as written (and prints what it claims, where it claims).

Pages with their own, stricter checks (cli, pipeline, plots, offloading) are checked here too.
Pages that need an optional extra (:data:`NEEDS`) skip without it: docs/import.md starts from
a torchvision export (its code paths are tested in tests/partition/test_import_*.py), and
docs/plots.md draws with matplotlib.
"""

import pytest

from tests.helpers import ROOT, check_doc_examples

#: Pages whose examples need an optional extra (skipped without it).
NEEDS = {"docs/import.md": ("torch", "torchvision"), "docs/plots.md": ("matplotlib",)}  # import.md: a torchvision export
PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md") if "```python" in p.read_text())


def test_the_pages_with_examples_are_found():
    assert {"docs/exits.md", "docs/import.md", "docs/partition_instances.md"} <= set(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_doc_examples_run(page, monkeypatch):
    for module in NEEDS.get(page, ()):
        pytest.importorskip(module)
    monkeypatch.chdir(ROOT)
    check_doc_examples(page)
