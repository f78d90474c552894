"""The Python examples of docs/pipeline.md run as written and print what they claim."""

import contextlib
import io
import re
from pathlib import Path
from tests.helpers import ROOT



def test_docs_examples_run_and_match_their_comments(monkeypatch):
    monkeypatch.chdir(ROOT)
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "pipeline.md").read_text(), re.S)
    assert blocks
    outputs, claims = [], []
    for code in blocks:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(code, "docs/pipeline.md", "exec"), {"__name__": "docs"})
        outputs.append(buffer.getvalue())
        claims += [(len(outputs) - 1, b[2:]) for a, b in zip(code.splitlines(), code.splitlines()[1:])
                   if a.startswith("print(") and b.startswith("# ")]
    assert claims
    missing = [(text, outputs[k]) for k, text in claims if text not in outputs[k]]
    assert not missing


def test_example_instance_matches_the_docs():
    import formulations

    p = formulations.load(ROOT / "instances" / "pipeline" / "example_3tasks.json")
    assert [t.name for t in p.tasks] == ["cam1", "cam2", "mic"] and p.accuracy_min == 0.8


def test_docs_json_example_loads():
    import json

    import formulations

    blocks = re.findall(r"```json\n(.*?)```", (ROOT / "docs" / "pipeline.md").read_text(), re.S)
    assert blocks
    for block in blocks:
        problem = formulations.load_dict(json.loads(block))
        assert problem.n == 2 and problem.accuracy_min == 0.75
