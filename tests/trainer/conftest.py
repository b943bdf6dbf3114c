"""Trainer tests: no model settings from the shell, the LM cache in the test's tmp dir, fakes importable."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # trainer_fakes.py (a name no other test folder uses)


@pytest.fixture(autouse=True)
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    for name in list(os.environ):
        if name.startswith(("OPTO_", "TRACE_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OPTO_CACHE_DIR", str(tmp_path / "cache"))
    yield
