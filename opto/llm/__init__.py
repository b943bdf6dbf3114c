"""The LLM layer: code that needs a model talks to it through ``LM.complete(Request) -> Response``.

Backends: ``OpenAICompatible`` (OpenAI, vLLM, Ollama, llama.cpp servers), ``LocalLM`` (embedded
SmolLM2, offline), ``ScriptedLM`` (tests). ``resolve_lm()`` picks the default when none is passed;
``record_calls`` writes every call into a run store.
Nothing here picks a provider at import time. See docs/llm.md.
"""

from opto.llm.base import LM, BaseLM
from opto.llm.batch import acomplete_many, complete_many
from opto.llm.cache import ResponseCache, cache_key, default_cache_path
from opto.llm.local import EMBEDDED_MODEL_NAME, INSTALL_COMMAND, LocalLM, find_embedded_model
from opto.llm.openai_compatible import OpenAICompatible
from opto.llm.recording import Recording, record_calls
from opto.llm.resolve import default_lm, lm_from_env, resolve_lm
from opto.llm.scripted import ScriptedLM
from opto.llm.server import LocalServer
from opto.llm.structured import extract_json, parse_reply
from opto.llm.types import (
    BudgetExceeded,
    Choice,
    Failure,
    LMCallError,
    LMConfigError,
    LMError,
    Message,
    RawReply,
    Request,
    Response,
    Usage,
)
from opto.llm.usage import Budget, CallRecord, Price, UsageSummary, UsageTracker, track_usage

__all__ = [
    "LM",
    "BaseLM",
    "Request",
    "Response",
    "Choice",
    "Usage",
    "Message",
    "RawReply",
    "Failure",
    "LMError",
    "LMConfigError",
    "LMCallError",
    "BudgetExceeded",
    "OpenAICompatible",
    "LocalLM",
    "LocalServer",
    "ScriptedLM",
    "resolve_lm",
    "default_lm",
    "lm_from_env",
    "find_embedded_model",
    "EMBEDDED_MODEL_NAME",
    "INSTALL_COMMAND",
    "ResponseCache",
    "cache_key",
    "default_cache_path",
    "Budget",
    "Price",
    "CallRecord",
    "UsageSummary",
    "UsageTracker",
    "track_usage",
    "complete_many",
    "acomplete_many",
    "extract_json",
    "parse_reply",
    "record_calls",
    "Recording",
]
