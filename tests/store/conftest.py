"""Run-store fixtures; store_helpers (next to this file) is made importable by name."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from opto.store import RunStore  # noqa: E402


@pytest.fixture
def store(tmp_path):
    with RunStore.open(tmp_path / "run.db", config={"model": "m", "search": {"islands": 4}}, seed=1) as s:
        yield s
