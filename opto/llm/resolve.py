"""Which LM to use when an optimizer is given none — decided when asked, never at import.

Order: the explicit argument; ``with opto.context(lm=...)``; environment variables (read now);
the embedded offline model. Environment variables, first match wins:

1. ``OPTO_LLM_MODEL`` (+ optional ``OPTO_LLM_BASE_URL``, ``OPTO_LLM_API_KEY``) — opto's own;
   ``OPTO_LLM_BASE_URL`` alone is an error (name the served model).
2. ``TRACE_CUSTOMLLM_URL`` (+ ``TRACE_CUSTOMLLM_MODEL``, ``TRACE_CUSTOMLLM_API_KEY``) — trace-opt's
   custom OpenAI-compatible server; it gets only ``TRACE_CUSTOMLLM_API_KEY`` (never ``OPENAI_API_KEY``).
3. ``TRACE_LITELLM_MODEL`` — trace-opt's model name, sent to the OpenAI API (or ``OPENAI_BASE_URL``);
   a LiteLLM ``openai/`` prefix is dropped. Other providers: run a LiteLLM proxy and use 2.
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
        if not model:
            raise LMConfigError("TRACE_CUSTOMLLM_URL is set but TRACE_CUSTOMLLM_MODEL is not; set the model name")
        # Only the custom server's own key goes there (never OPENAI_API_KEY); none: a placeholder.
        return OpenAICompatible(
            model,
            base_url=env["TRACE_CUSTOMLLM_URL"],
            api_key=env.get("TRACE_CUSTOMLLM_API_KEY") or None,
            api_key_env="TRACE_CUSTOMLLM_API_KEY",
        )
    if env.get("TRACE_LITELLM_MODEL"):
        model = env["TRACE_LITELLM_MODEL"]
        return OpenAICompatible(model.removeprefix("openai/"))
    return None


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
