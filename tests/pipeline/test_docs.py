"""The Python examples of docs/pipeline.md run as written and print what they claim."""

import re
from tests.helpers import ROOT, check_doc_examples



def test_docs_examples_run_and_match_their_comments(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert check_doc_examples("docs/pipeline.md") > 0


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
