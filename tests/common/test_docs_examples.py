"""Every Python example in docs/*.md runs as written (and prints what it claims, where it claims).

Pages with their own, stricter checks (cli, pipeline, plots, offloading) are checked here too;
blocks that need torch are skipped without it, and docs/import.md (whose examples start
from a torchvision export) is skipped without torch; its code paths are tested in
tests/partition/test_import_*.py.
"""

import pytest

from tests.helpers import ROOT, check_doc_examples

PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md") if "```python" in p.read_text())


def test_the_pages_with_examples_are_found():
    assert {"docs/exits.md", "docs/import.md", "docs/partition_instances.md"} <= set(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_doc_examples_run(page, monkeypatch):
    if page == "docs/import.md":  # its examples export a torchvision model first, then time it
        pytest.importorskip("torch")
    monkeypatch.chdir(ROOT)
    check_doc_examples(page)
