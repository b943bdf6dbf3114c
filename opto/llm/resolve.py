"""Which LM to use when an optimizer is given none — decided when asked, never at import.

Order: the explicit argument; ``with opto.context(lm=...)``; environment variables (read now);
the embedded offline model. Environment variables, first match wins:

1. ``OPTO_LLM_MODEL`` (+ optional ``OPTO_LLM_BASE_URL``, ``OPTO_LLM_API_KEY``) — opto's own;
   ``OPTO_LLM_BASE_URL`` alone is an error (name the served model).
2. ``TRACE_CUSTOMLLM_URL`` (+ ``TRACE_CUSTOMLLM_MODEL``, ``TRACE_CUSTOMLLM_API_KEY``) — trace-opt's
   custom OpenAI-compatible server; it gets only ``TRACE_CUSTOMLLM_API_KEY`` (never ``OPENAI_API_KEY``).
   Without ``TRACE_CUSTOMLLM_MODEL`` the model is trace-opt's default, ``gpt-4o`` (with a warning).
3. ``TRACE_LITELLM_MODEL`` (or trace-opt's older ``DEFAULT_LITELLM_MODEL``) — trace-opt's model name,
   sent to the OpenAI API (or ``OPENAI_BASE_URL``); a LiteLLM ``openai/`` prefix is dropped. Other
   providers: run a LiteLLM proxy and use 2.
4. ``OPENAI_API_KEY`` or ``OPENAI_BASE_URL`` alone — ``gpt-4o`` there, as trace-opt's ``LLM()`` does.
In 3 and 4, LiteLLM's ``OPENAI_API_BASE`` stands for ``OPENAI_BASE_URL`` when that is unset.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Mapping

from opto.context import settings
from opto.llm.errors import LMConfigError
from opto.llm.protocol import LM

log = logging.getLogger("opto.llm")


def resolve_lm(lm: LM | None = None) -> LM:
    """The LM to use: ``lm`` if given, else the context default, else env config, else embedded."""
    if lm is not None:
        return lm
    ctx_lm = settings().lm
    if ctx_lm is not None:
        return ctx_lm
    from_env = lm_from_env()
    if from_env is not None:
        return from_env
    return default_lm()


def lm_from_env(environ: Mapping[str, str] | None = None) -> LM | None:
    """An OpenAICompatible built from opto's or trace-opt's variables, or None when none are set."""
    from opto.llm.openai_compatible import OpenAICompatible

    env = os.environ if environ is None else environ
    if env.get("OPTO_LLM_MODEL"):
        return OpenAICompatible(env["OPTO_LLM_MODEL"], base_url=env.get("OPTO_LLM_BASE_URL") or None)
    if env.get("OPTO_LLM_BASE_URL"):
        raise LMConfigError(
            f"OPTO_LLM_BASE_URL={env['OPTO_LLM_BASE_URL']!r} is set but OPTO_LLM_MODEL is not; set it to the "
            "model name the server serves (listed at <base_url>/models)"
        )
    if env.get("TRACE_CUSTOMLLM_URL"):
        model = env.get("TRACE_CUSTOMLLM_MODEL")
        if not model:  # trace-opt's CustomLLM default, kept so its programs run unchanged
            model = TRACE_DEFAULT_MODEL
            log.warning("opto: TRACE_CUSTOMLLM_URL is set without TRACE_CUSTOMLLM_MODEL; asking the server "
                        "for %r as trace-opt does (set TRACE_CUSTOMLLM_MODEL to the served model)", model)
        # Only the custom server's own key goes there (never OPENAI_API_KEY); none: a placeholder.
        return OpenAICompatible(
            model,
            base_url=env["TRACE_CUSTOMLLM_URL"],
            api_key=env.get("TRACE_CUSTOMLLM_API_KEY") or None,
            api_key_env="TRACE_CUSTOMLLM_API_KEY",
        )
    # LiteLLM (trace-opt's default backend) also reads OPENAI_API_BASE, paired with OPENAI_API_KEY
    base = None if env.get("OPENAI_BASE_URL") else env.get("OPENAI_API_BASE") or None
    key = env.get("OPENAI_API_KEY") or None if base else None
    model = env.get("TRACE_LITELLM_MODEL") or env.get("DEFAULT_LITELLM_MODEL")
    if model:
        return OpenAICompatible(model.removeprefix("openai/"), base_url=base, api_key=key)
    if env.get("OPENAI_API_KEY") or env.get("OPENAI_BASE_URL") or base:
        # trace-opt's LLM() with only OpenAI's variables set: its default model at OpenAI (or OPENAI_BASE_URL)
        return OpenAICompatible(TRACE_DEFAULT_MODEL, base_url=base, api_key=key)
    return None


TRACE_DEFAULT_MODEL = "gpt-4o"
"""The model trace-opt asks for when its variables name none."""


@functools.lru_cache(maxsize=1)
def default_lm() -> LM:
    """The embedded SmolLM2 model, built once per process; says so in one log line.

    Raises LMConfigError with the install command when the [local] extra is missing.
    """
    from opto.llm.local import LocalLM

    lm = LocalLM()
    log.warning(
        "opto: no LM configured (pass lm=, use opto.context(lm=...), or set OPTO_LLM_MODEL); "
        "using the embedded offline model %s from %s",
        lm.model,
        lm.model_path,
    )
    return lm
