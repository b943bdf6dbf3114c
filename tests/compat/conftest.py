"""Run trace-opt programs in-process, in a scratch directory, with a scripted model as the default LM."""

from __future__ import annotations

import os
import runpy
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import opto
from opto.llm import Request, ScriptedLM

sys.path.insert(0, str(Path(__file__).parent))  # compat_replies.py (a name no other test folder uses)
PROGRAMS = Path(__file__).parent / "programs"
_ENV_PREFIXES = ("OPTO_", "TRACE_", "OPENAI_")


@pytest.fixture(autouse=True)
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES) or name in ("DEFAULT_LITELLM_MODEL", "OAI_CONFIG_LIST"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OPTO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def run_program() -> Callable[..., tuple[dict[str, Any], ScriptedLM]]:
    """``run_program("name.py", reply_fn)`` -> (the program's globals, the scripted LM it talked to)."""

    def run(name: str, replies: Callable[[Request], str], **globals_: Any) -> tuple[dict[str, Any], ScriptedLM]:
        lm = ScriptedLM(replies)
        with opto.context(lm=lm):
            namespace = runpy.run_path(str(PROGRAMS / name), init_globals=globals_, run_name="__traceopt__")
        return namespace, lm

    return run
