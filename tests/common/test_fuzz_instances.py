"""Mutated instance files of every kind fail with InstanceError, never another exception.

Each example takes a small shipped instance, replaces one field (or deletes it) with a
wrong value, and loads it. Either the result is a valid problem (the mutation was
harmless) or an InstanceError names the file; anything else would reach the CLI as an
internal error.
"""

import copy
import json

import pytest
from hypothesis import assume, given, settings, strategies as st

import formulations
from formulations.errors import InstanceError
from formulations.validate import MAX_MAGNITUDE
from tests.helpers import FIXTURES, INSTANCES, examples

#: Shipped instances plus the adversarial corpus of issue 18 (tests/fixtures/extreme) as mutation seeds.
FILES = sorted(p for p in [*INSTANCES.rglob("*.json"), *(FIXTURES / "extreme").glob("*.json")]
               if p.stat().st_size < 60_000)
BAD = [None, -1, -2.5, float("nan"), float("inf"), "x", "", [], {}, 0, True, 1e300, 10**30, [1, "a"], {"a": 1}]


def field_paths(obj, prefix=()):
    if prefix:
        yield prefix
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key != "metadata":
                yield from field_paths(value, prefix + (key,))
    elif isinstance(obj, list):
        for i, value in enumerate(obj[:3]):
            yield from field_paths(value, prefix + (i,))


@st.composite
def mutations(draw):
    path = draw(st.sampled_from(FILES))
    data = json.loads(path.read_text())
    paths = list(field_paths(data))
    where = draw(st.sampled_from(paths))
    mutated = copy.deepcopy(data)
    parent = mutated
    for key in where[:-1]:
        parent = parent[key]
    if draw(st.booleans()) and isinstance(parent, dict):
        del parent[where[-1]]
    else:
        parent[where[-1]] = draw(st.sampled_from(BAD))
    return path, mutated


def test_there_are_instances_of_every_kind():
    kinds = {json.loads(p.read_text()).get("kind") for p in FILES}
    assert {"partition", "exits", "pipeline", "flowshop", "offloading"} <= kinds


@settings(max_examples=examples(300))
@given(mutations())
def test_mutated_files_raise_instance_errors_only(case):
    path, data = case
    try:
        formulations.load_dict(data, file=str(path), base_dir=path.parent)
    except InstanceError as exc:
        assert str(path) in str(exc)


# --- adversarial files (issue 15): every kind of bad file is an InstanceError naming the
# --- file and, where there is one, the field; a batch keeps the good files' results.

TINY = INSTANCES / "partition" / "tiny_chain.json"
EXITS_NPZ = INSTANCES / "exits" / "resnet18_1node.json"
TRACE = INSTANCES / "offloading" / "trace_wifi.json"


def _with(path, edit):
    data = json.loads(path.read_text())
    edit(data)
    return data


def _set_layer(key, value):
    return lambda d: d["layers"][1].__setitem__(key, value)


def _adversarial_files(tmp_path):
    """(file name, bytes, expected words in the error) for every kind of bad file."""
    tiny = TINY.read_text()
    cases = [
        ("int400.json", tiny.replace('"output_bytes": 150528', '"output_bytes": ' + "9" * 400, 1),
         "layers[0].output_bytes"),
        ("int5000.json", tiny.replace('"output_bytes": 150528', '"output_bytes": ' + "9" * 5000, 1),
         "layers[0].output_bytes"),
        ("deep.json", "[" * 100_000 + "]" * 100_000, "nested"),
        ("deep_object.json", '{"a":' * 70 + "1" + "}" * 70, "nested"),
        ("pins_nested.json", json.dumps(_with(TINY, lambda d: d.__setitem__("pinned", {"device": [["input"]]}))),
         "pinned.device[0]"),
        ("pow63.json", json.dumps(_with(TINY, _set_layer("output_bytes", 2**63))), "layers[1].output_bytes"),
        ("e308.json", json.dumps(_with(TINY, _set_layer("device_ms", 1e308))), "layers[1].device_ms"),
        ("e400.json", tiny.replace('"device_ms": 0.0', '"device_ms": 1e400', 1), "layers[0].device_ms"),
        ("nan.json", tiny.replace('"device_ms": 0.0', '"device_ms": NaN', 1), "layers[0].device_ms"),
        ("binary.json", bytes(range(256)) * 4, "UTF-8"),
        ("empty.json", "", "not valid JSON"),
        ("null.json", "null", "JSON object"),
        ("string.json", '"partition"', "JSON object"),
        ("number.json", "12.5", "JSON object"),
        ("inf.json", "1e400", "finite"),
        ("list.json", "[1, 2]", "JSON object"),
    ]
    npz = tmp_path / "garbage.npz"
    npz.write_bytes(b"PK\x03\x04" + bytes(range(200)))
    cases.append(("npz.json", json.dumps(_with(EXITS_NPZ, lambda d: d.__setitem__("samples", "garbage.npz"))),
                  "samples"))
    (tmp_path / "pickled.npz").write_bytes(bytes(range(256)) * 8)
    cases.append(("npz2.json", json.dumps(_with(EXITS_NPZ, lambda d: d.__setitem__("samples", "pickled.npz"))),
                  "samples"))
    (tmp_path / "binary_trace.txt").write_bytes(bytes(range(128, 256)) * 8)
    cases.append(("trace.json", json.dumps(_with(TRACE, lambda d: d["links"][0].__setitem__("trace_file",
                                                                                          "binary_trace.txt"))),
                  "links[0].trace_file"))
    cases.append(("trace_device.json", json.dumps(_with(TRACE, lambda d: d["links"][0].__setitem__(
        "trace_file", "/dev/zero"))), "links[0].trace_file"))  # once read forever
    paths = []
    for name, content, words in cases:
        path = tmp_path / name
        (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
        paths.append((path, words))
    return paths


def test_adversarial_files_are_instance_errors_naming_file_and_field(tmp_path):
    for path, words in _adversarial_files(tmp_path):
        with pytest.raises(InstanceError) as info:
            formulations.load(path)
        assert str(path) in str(info.value) and words in str(info.value), (path.name, str(info.value))


BAD_VALUES = [2**63, -(2**63), 1e308, -1e308, 10**400, [["a"]], [[1]], [[]], [{"a": 1}], 5e-324]


@settings(max_examples=examples(150))
@given(mutations(), st.sampled_from(BAD_VALUES))
def test_extreme_values_anywhere_raise_instance_errors_only(case, value):
    path, data = case
    paths = [p for p in field_paths(data) if "metadata" not in p]
    assume(paths)
    where = paths[len(paths) // 2]
    parent = data
    for key in where[:-1]:
        parent = parent[key]
    parent[where[-1]] = value
    try:
        formulations.load_dict(data, file=str(path), base_dir=path.parent)
    except InstanceError as exc:
        assert str(path) in str(exc)


def test_a_batch_keeps_the_good_files(tmp_path, capsys):
    from solvers.cli import main

    bad = [p for p, _ in _adversarial_files(tmp_path)]
    good = [INSTANCES / "partition" / "tiny_chain.json", INSTANCES / "partition" / "residual_block.json"]
    files = [good[0], *bad, good[1]]
    assert main(["solve", *map(str, files)]) == 2
    out, err = capsys.readouterr()
    rows = out.splitlines()
    assert len(rows) == len(files) + 2 and "Traceback" not in err and "internal error" not in err
    assert rows[1].startswith("tiny_chain.json") and "optimal" in rows[1]
    assert rows[-2].startswith("residual_block.json") and "optimal" in rows[-2]
    assert all(" error " in row for row in rows[2:-2])
    assert f"errors: {len(bad)}" in rows[-1]
    assert main(["solve", "--json", *map(str, files)]) == 2
    records = json.loads(capsys.readouterr().out)
    assert [r["file"] for r in records] == list(map(str, files))
    assert records[0]["status"] == records[-1]["status"] == "optimal"
    for record, path in zip(records[1:-1], bad):
        assert record["status"] == "error" and str(path) in record["message"]
        assert set(record) == {"status", "file", "message"}


EXTREME = [MAX_MAGNITUDE, MAX_MAGNITUDE * 0.999, 1e12, 1e-300, 5e-324, 0, 0.0]
FAST_FILES = [p for p in FILES if p.stat().st_size < 20_000]


@st.composite
def extreme_files(draw):
    """A small shipped instance with 1-3 numeric fields set to extreme but allowed values."""
    path = draw(st.sampled_from(FAST_FILES))
    data = json.loads(path.read_text())
    numeric = [w for w in field_paths(data) if "metadata" not in w]
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(numeric))
        parent = data
        for key in where[:-1]:
            parent = parent[key]
        current = parent[where[-1]]
        if isinstance(current, (int, float)) and not isinstance(current, bool):
            parent[where[-1]] = draw(st.sampled_from(EXTREME))
    return path, data


@settings(max_examples=examples(12))
@given(extreme_files())
def test_loaded_files_never_end_in_an_internal_error(case):
    """Through `coinfer solve`: exit 0 (solved) or 2 (bad input), never 1, for every kind."""
    import contextlib
    import io
    import tempfile
    from pathlib import Path

    from solvers.cli import main

    source, data = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / source.name
        path.write_text(json.dumps(data))
        for side in source.parent.glob("*"):  # side files (.npz samples, traces) next to the instance
            if side.suffix in (".npz", ".txt"):
                (Path(tmp) / side.name).write_bytes(side.read_bytes())
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = main(["solve", "--time-limit", "1", str(path)])
    assert code in (0, 2), err.getvalue()
    assert "internal error" not in err.getvalue()
