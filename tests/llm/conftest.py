"""Fixtures for the LLM layer: a hermetic environment, a stub OpenAI server, the real local server."""

from __future__ import annotations

import importlib.util
import os

import pytest

from opto.context import reset as reset_context
from opto.llm.testing import StubServer

_ENV_PREFIXES = ("OPTO_", "TRACE_", "OPENAI_")
HAS_LLAMA = importlib.util.find_spec("llama_cpp") is not None


@pytest.fixture(autouse=True)
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path):
    """No model settings leak in from the shell; the cache lives in the test's tmp dir."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OPTO_CACHE_DIR", str(tmp_path / "cache"))
    reset_context()
    yield
    reset_context()


@pytest.fixture
def stub():
    with StubServer(reply="hello") as server:
        yield server


@pytest.fixture(scope="session")
def llama_server():
    """The real ``opto serve-llm`` (llama_cpp.server + SmolLM2) on a free port, once per session."""
    if not HAS_LLAMA:
        pytest.skip("llama_cpp is not importable: install the [local] extra (scripts/setup.sh --local)")
    from opto.llm.server import LocalServer

    with LocalServer(n_ctx=2048) as server:
        yield server


@pytest.fixture(scope="session")
def local_lm():
    if not HAS_LLAMA:
        pytest.skip("llama_cpp is not importable: install the [local] extra (scripts/setup.sh --local)")
    from opto.llm.local import LocalLM

    return LocalLM(n_ctx=2048, cache=False)
