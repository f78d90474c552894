"""Mutated instance files of every kind fail with InstanceError, never another exception.

Each example takes a small shipped instance, replaces one field (or deletes it) with a
wrong value, and loads it. Either the result is a valid problem (the mutation was
harmless) or an InstanceError names the file; anything else would reach the CLI as an
internal error.
"""

import copy
import json

import pytest
from hypothesis import given, settings, strategies as st

import formulations
from formulations.errors import InstanceError
from tests.helpers import INSTANCES, examples

FILES = sorted(p for p in INSTANCES.rglob("*.json") if p.stat().st_size < 60_000)
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
