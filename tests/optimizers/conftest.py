"""Fixtures for optimizer tests: no model settings from the shell, fakes for replies ScriptedLM can't give."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from opto.llm import Choice, Request, Response, Usage

_ENV_PREFIXES = ("OPTO_", "TRACE_", "OPENAI_")


@pytest.fixture(autouse=True)
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path):
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OPTO_CACHE_DIR", str(tmp_path / "cache"))


class FakeLM:
    """An LM whose replies carry a chosen finish_reason (ScriptedLM always says "stop")."""

    model = "fake"

    def __init__(self, replies: list[tuple[str, str]] | Callable[[Request], tuple[str, str]]) -> None:
        self.replies = replies
        self.requests: list[Request] = []

    def complete(self, request: Request) -> Response:
        self.requests.append(request)
        text, finish = self.replies(request) if callable(self.replies) else self.replies.pop(0)
        return Response(choices=(Choice(text=text, finish_reason=finish),), model=self.model,
                        usage=Usage(10, 5))

    async def acomplete(self, request: Request) -> Response:
        return self.complete(request)


def user_prompt(request: Request) -> str:
    return str(request.messages[-1]["content"])
