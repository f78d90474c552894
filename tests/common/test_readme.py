"""The README's Python examples run as written and print what they claim."""

import contextlib
import io
import re

from tests.helpers import ROOT


def python_blocks():
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_readme_examples_run_and_match_their_comments(monkeypatch):
    monkeypatch.chdir(ROOT)
    blocks = python_blocks()
    assert blocks
    for code in blocks:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
        lines = code.splitlines()
        for prev, line in zip(lines, lines[1:]):
            if prev.startswith("print(") and line.startswith("# "):
                assert line[2:] in out.getvalue(), (line, out.getvalue())
