"""The LLM layer: code that needs a model talks to it through ``LM.complete(Request) -> Response``.

The protocol and its values (``LM``, ``Request``, ``Response``, ``Choice``, ``Usage``, ``Message``,
``LMFailure``) and the errors are in opto.llm.protocol / opto.llm.errors and load with this package;
everything else loads on first use, so ``from opto.llm import LM, Request`` imports no backend and
no openai. Backends: ``OpenAICompatible`` (OpenAI, vLLM, Ollama, llama.cpp servers), ``LocalLM``
(embedded SmolLM2, offline), ``ScriptedLM`` (tests); their shared options are ``LMOptions``.
``resolve_lm()`` picks the default when none is passed; ``record_calls`` writes every call into a
run store. Nothing here picks a provider at import time. See docs/llm.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from opto.llm.errors import BudgetExceeded, LMCallError, LMConfigError, LMError
from opto.llm.protocol import LM, Choice, LMFailure, Message, Request, Response, Usage

if TYPE_CHECKING:  # the lazily loaded names, for type checkers and editors
    from opto.llm.base import BaseLM
    from opto.llm.batch import acomplete_many, complete_many
    from opto.llm.cache import ResponseCache
    from opto.llm.local import LocalLM
    from opto.llm.openai_compatible import OpenAICompatible
    from opto.llm.options import LMOptions
    from opto.llm.recording import record_calls
    from opto.llm.resolve import resolve_lm
    from opto.llm.scripted import ScriptedLM
    from opto.llm.server import LocalServer
    from opto.llm.structured import extract_json, parse_reply
    from opto.llm.usage import Budget, CallRecord, Price, UsageSummary, UsageTracker, track_usage

_LAZY = {
    "BaseLM": "opto.llm.base",
    "LMOptions": "opto.llm.options",
    "OpenAICompatible": "opto.llm.openai_compatible",
    "LocalLM": "opto.llm.local",
    "LocalServer": "opto.llm.server",
    "ScriptedLM": "opto.llm.scripted",
    "resolve_lm": "opto.llm.resolve",
    "ResponseCache": "opto.llm.cache",
    "Budget": "opto.llm.usage",
    "Price": "opto.llm.usage",
    "CallRecord": "opto.llm.usage",
    "UsageSummary": "opto.llm.usage",
    "UsageTracker": "opto.llm.usage",
    "track_usage": "opto.llm.usage",
    "record_calls": "opto.llm.recording",
    "complete_many": "opto.llm.batch",
    "acomplete_many": "opto.llm.batch",
    "extract_json": "opto.llm.structured",
    "parse_reply": "opto.llm.structured",
}

__all__ = [
    "LM",
    "Request",
    "Response",
    "Choice",
    "Usage",
    "Message",
    "LMFailure",
    "LMError",
    "LMConfigError",
    "LMCallError",
    "BudgetExceeded",
    "BaseLM",
    "LMOptions",
    "OpenAICompatible",
    "LocalLM",
    "LocalServer",
    "ScriptedLM",
    "resolve_lm",
    "ResponseCache",
    "Budget",
    "Price",
    "CallRecord",
    "UsageSummary",
    "UsageTracker",
    "track_usage",
    "record_calls",
    "complete_many",
    "acomplete_many",
    "extract_json",
    "parse_reply",
]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'opto.llm' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
