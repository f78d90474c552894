"""The README's Python examples run as written and print what they claim."""

from tests.helpers import ROOT, check_doc_examples


def test_readme_examples_run_and_match_their_comments(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert check_doc_examples("README.md") > 0
