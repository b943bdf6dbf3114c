"""Fixtures for the viz tests: a small traced graph holding every node kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from opto import trace


@pytest.fixture(autouse=True)
def _fresh_graph() -> Any:
    """Node names restart per test, so expected names such as ``prompt:0`` are stable."""
    trace.GRAPH.clear()
    yield
    trace.GRAPH.clear()


@trace.bundle()
def repeat(text, n):
    """Repeat the text n times."""
    return text * n


@trace.bundle()
def explode(text):
    """Always fails."""
    raise ValueError('no <way> "out"')


@dataclass
class SmallGraph:
    prompt: Any  # trainable parameter
    count: Any  # plain input
    combined: Any  # bundle op output, used further on
    shouted: Any  # final output
    error: Any  # exception node


@pytest.fixture
def small_graph() -> SmallGraph:
    prompt = trace.node("Say hi", name="prompt", trainable=True)
    count = trace.node(3, name="count")

    combined = repeat(prompt, count)
    shouted = combined + "!"
    try:
        explode(combined)
    except trace.ExecutionError as e:
        error = e.exception_node
    else:  # pragma: no cover - bundle must raise
        raise AssertionError("explode() did not raise")
    return SmallGraph(prompt, count, combined, shouted, error)
