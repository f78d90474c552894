"""Test configuration: Hypothesis profiles and shared fixtures.

The profile is chosen by the environment variable ``HYPOTHESIS_PROFILE``
(default ``ci``; ``.ci/run`` sets it explicitly). Every profile is
derandomized, with no example database and no deadline, so runs are
reproducible. ``ci`` runs each property test with the example count the test
asks for; ``dev`` multiplies every count by 4 and ``thorough`` by 20 (see
``tests.helpers.examples``), for long local runs.
"""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.helpers import EXAMPLE_SCALE, examples  # noqa: E402

for _name in EXAMPLE_SCALE:
    settings.register_profile(
        _name,
        derandomize=True,
        database=None,
        deadline=None,
        max_examples=examples(60, profile=_name),  # tests without their own count
        suppress_health_check=[HealthCheck.too_slow],
        print_blob=True,
    )
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

from tests.helpers import FIXTURES, INSTANCES, ROOT  # noqa: E402,F401  (shared with the test modules)


@pytest.fixture(autouse=True)
def _own_machine_records(tmp_path_factory, monkeypatch):
    """Every test gets an empty coinfer cache directory (the speed-probe record,
    ``formulations.partition.importers.profiling.machine_probe_ms``): no test reads or writes the
    user's, and none depends on another's timings."""
    monkeypatch.setenv("COINFER_CACHE_DIR", str(tmp_path_factory.mktemp("coinfer-cache")))


@pytest.fixture
def instances_dir() -> Path:
    return INSTANCES


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
