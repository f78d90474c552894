"""Test configuration: Hypothesis profiles and shared fixtures.

The ``ci`` profile (selected when ``CI`` is set, or with
``--hypothesis-profile=ci``) is derandomized with no example database and no
deadline, so CI runs are reproducible. ``dev`` is the same with more examples.
"""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "dev", derandomize=True, database=None, deadline=None, max_examples=200,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

from tests.helpers import FIXTURES, INSTANCES, ROOT  # noqa: E402,F401  (shared with the test modules)


@pytest.fixture
def instances_dir() -> Path:
    return INSTANCES


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
