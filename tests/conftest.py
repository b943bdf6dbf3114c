"""Shared fixtures: every test starts with default settings and an empty name registry."""

from __future__ import annotations

import pytest

from opto.context import reset as reset_context
from opto.trace.nodes import GRAPH


@pytest.fixture(autouse=True)
def _reset_opto_state():
    reset_context()
    GRAPH.clear()
    yield
    reset_context()
    GRAPH.clear()
