"""trace-opt compatibility: ``from opto.utils.llm import LLM, AbstractModel`` keeps working.

trace-opt's optimizers call ``llm(messages=[...], max_tokens=..., response_format=...)`` (or
``llm.create(...)``) and read ``response.choices[0].message.content``. Here those calls go through an
opto LM (cache, retries, usage, budget included) and come back as the openai package's own
``ChatCompletion`` objects. ``LLM`` also satisfies opto's LM protocol (``model`` is the model name,
``complete``/``acomplete`` answer Requests), so it can be used wherever an opto LM is.

Difference from trace-opt: a failed call raises ``opto.llm.LMCallError`` after the layer's retries
(trace-opt raised the backend's exception); code on ``LM.complete`` gets a typed failure instead.
Also unlike trace-opt, ``LLM.model`` is the model name (a str, as the LM protocol says); the callable
trace-opt kept there is ``LLM.create``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openai.types import CompletionUsage
from openai.types.chat import ChatCompletion, ChatCompletionMessage
from openai.types.chat.chat_completion import Choice as OpenAIChoice

from opto.llm.errors import LMConfigError
from opto.llm.protocol import LM, Request, Response

_FINISH = {"stop", "length", "tool_calls", "content_filter", "function_call"}
_SETTINGS = ("temperature", "max_tokens", "seed", "n")


class AbstractModel:
    """A callable model built by ``factory`` and rebuilt every ``reset_freq`` seconds (None: never).

    Rebuilding helps long runs that hold expiring credentials; the model is not pickled, a copy
    rebuilds it.
    """

    def __init__(self, factory: Callable[[], Any], reset_freq: int | float | None = None) -> None:
        self.factory = factory
        self._model = factory()
        self.reset_freq = reset_freq
        self._init_time = time.time()

    @property
    def model(self) -> Any:
        """The callable that answers ``__call__``; subclasses override it."""
        return self._model

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.reset_freq is not None and time.time() - self._init_time > self.reset_freq:
            self._model = self.factory()
            self._init_time = time.time()
        return self._invoke(*args, **kwargs)

    def _invoke(self, *args: Any, **kwargs: Any) -> Any:
        return self.model(*args, **kwargs)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_model"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._model = self.factory()


class LLM(AbstractModel):
    """trace-opt's ``LLM``: ``LLM()``, ``LLM(model="gpt-4o")`` or ``LLM(lm=any_opto_lm)``.

    With no arguments the LM is resolved like everywhere in opto (context, then OPTO_LLM_* /
    TRACE_CUSTOMLLM_* / TRACE_LITELLM_MODEL variables, then the embedded model). With ``model`` it
    is an OpenAICompatible for that model (``base_url``/``api_key`` or the usual variables).
    ``cache`` turns opto's response cache on or off.
    """

    def __init__(
        self,
        model: str | None = None,
        reset_freq: int | float | None = None,
        cache: bool = True,
        *,
        lm: LM | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
    ) -> None:
        self._spec = (model, cache, lm, base_url, api_key)
        super().__init__(self._build, reset_freq)

    def _build(self) -> LM:
        from opto.llm.openai_compatible import OpenAICompatible
        from opto.llm.resolve import resolve_lm

        model, cache, lm, base_url, api_key = self._spec
        if lm is not None:
            return lm
        if model is not None:
            return OpenAICompatible(model.removeprefix("openai/"), base_url=base_url, api_key=api_key, cache=cache)
        return resolve_lm()

    @property
    def lm(self) -> LM:
        """The opto LM behind this wrapper."""
        return self._model

    @property
    def model(self) -> str:  # type: ignore[override]  # the LM protocol's str, not trace-opt's callable
        """The model name, as every opto LM has it."""
        return self._model.model

    @property
    def model_name(self) -> str:
        """trace-opt's name for ``model``."""
        return self._model.model

    def _invoke(self, *args: Any, **config: Any) -> ChatCompletion:
        if args:
            raise TypeError(
                "LLM(...) takes keyword arguments like chat.completions.create: "
                "llm(messages=[{'role': 'user', 'content': ...}], max_tokens=...)"
            )
        return self.create(**config)

    def create(self, **config: Any) -> ChatCompletion:
        """OpenAI-style ``chat.completions.create`` arguments in, a ``ChatCompletion`` out."""
        request = to_request(config)
        response = self._model.complete(request).raise_for_failure()
        return to_chat_completion(response)

    # opto's LM protocol, so LLM() works wherever an opto LM is expected.
    def complete(self, request: Request) -> Response:
        return self._model.complete(request)

    async def acomplete(self, request: Request) -> Response:
        return await self._model.acomplete(request)


class CustomLLM(LLM):
    """trace-opt's CustomLLM: an OpenAI-compatible server (a LiteLLM proxy, vLLM, llama.cpp, ...).

    Unset arguments come from trace-opt's variables: ``TRACE_CUSTOMLLM_MODEL`` (default ``gpt-4o``),
    ``TRACE_CUSTOMLLM_URL`` and ``TRACE_CUSTOMLLM_API_KEY``; without a URL, ``OPENAI_BASE_URL`` applies.
    """

    def __init__(self, model: str | None = None, reset_freq: int | float | None = None, cache: bool = True,
                 *, base_url: str | None = None, api_key: str | None = None) -> None:
        env = os.environ
        super().__init__(model or env.get("TRACE_CUSTOMLLM_MODEL") or "gpt-4o", reset_freq, cache,
                         base_url=base_url or env.get("TRACE_CUSTOMLLM_URL") or None,
                         api_key=api_key or env.get("TRACE_CUSTOMLLM_API_KEY") or None)


class LiteLLM(LLM):
    """trace-opt's LiteLLM name: ``model`` (default ``TRACE_LITELLM_MODEL``) through an OpenAI-style API.

    opto does not depend on litellm: the model is called with OpenAI's protocol at ``OPENAI_BASE_URL``
    (or api.openai.com); for other providers run a LiteLLM proxy and use ``CustomLLM``.
    """

    def __init__(self, model: str | None = None, reset_freq: int | float | None = None, cache: bool = True) -> None:
        model = model or os.environ.get("TRACE_LITELLM_MODEL") or os.environ.get("DEFAULT_LITELLM_MODEL")
        super().__init__(model or "gpt-4o", reset_freq, cache)


class AutoGenLLM(LLM):
    """trace-opt's AutoGenLLM without autogen: the first entry of an autogen-style ``config_list``.

    ``config_list`` None: the ``OAI_CONFIG_LIST`` variable (JSON text or a file name), else a list built
    from ``OPENAI_API_KEY``. Entries are ``{"model", "api_key", "base_url"}``; ``filter_dict`` keeps
    entries whose fields match (a value or a list of accepted values).
    """

    def __init__(self, config_list: list[dict[str, Any]] | None = None, filter_dict: dict[str, Any] | None = None,
                 reset_freq: int | float | None = None) -> None:
        entries = list(config_list) if config_list is not None else _config_list_from_env()
        for key, accepted in (filter_dict or {}).items():
            allowed = accepted if isinstance(accepted, list | tuple | set) else [accepted]
            entries = [e for e in entries if e.get(key) in allowed]
        if not entries:
            raise LMConfigError("AutoGenLLM found no model configuration: pass config_list=[{'model': ..., "
                                "'api_key': ..., 'base_url': ...}] or set OAI_CONFIG_LIST / OPENAI_API_KEY")
        first = entries[0]
        super().__init__(first["model"], reset_freq, base_url=first.get("base_url") or first.get("api_base"),
                         api_key=first.get("api_key"))


def auto_construct_oai_config_list_from_env() -> list[dict[str, Any]]:
    """trace-opt's helper: [{"model": "gpt-4o", "api_key": $OPENAI_API_KEY}] when that key is set."""
    key = os.environ.get("OPENAI_API_KEY")
    return [{"model": "gpt-4o", "api_key": key}] if key else []


def _config_list_from_env() -> list[dict[str, Any]]:
    raw = os.environ.get("OAI_CONFIG_LIST")
    if not raw:
        return auto_construct_oai_config_list_from_env()
    path = Path(raw)
    text = path.read_text() if not raw.lstrip().startswith("[") and path.is_file() else raw
    try:
        entries = json.loads(text)
    except ValueError as e:
        raise LMConfigError(f"OAI_CONFIG_LIST is not a JSON list of model configs ({e})") from None
    return [dict(e) for e in entries]


def to_request(config: dict[str, Any]) -> Request:
    """Translate ``create(**config)`` arguments; unknown keys are ignored like trace-opt's backends did."""
    if "messages" not in config:
        raise LMConfigError("LLM(...) needs messages=[{'role': 'user', 'content': ...}, ...]")
    kw: dict[str, Any] = {k: config[k] for k in _SETTINGS if config.get(k) is not None}
    stop = config.get("stop")
    if stop:
        kw["stop"] = (stop,) if isinstance(stop, str) else tuple(stop)
    fmt = config.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") in ("json_object", "json_schema"):
        kw["json_mode"] = True
    elif isinstance(fmt, type):  # a pydantic model, as in openai's .parse()
        kw["schema"] = fmt
    return Request(messages=tuple(config["messages"]), **kw)


def to_chat_completion(response: Response) -> ChatCompletion:
    choices = [
        OpenAIChoice.model_construct(
            index=i,
            finish_reason=c.finish_reason if c.finish_reason in _FINISH else "stop",
            logprobs=None,
            message=ChatCompletionMessage.model_construct(role="assistant", content=c.text),
        )
        for i, c in enumerate(response.choices)
    ]
    usage = CompletionUsage(
        prompt_tokens=response.usage.prompt_tokens,
        completion_tokens=response.usage.completion_tokens,
        total_tokens=response.usage.total_tokens,
    )
    return ChatCompletion.model_construct(
        # the call id, so a trace-opt caller can match this completion to the run store's llm_calls row
        id="opto-" + (response.call_id or str(abs(hash((response.model, response.text))) % 10**12)),
        object="chat.completion",
        created=int(time.time()),
        model=response.model,
        choices=choices,
        usage=usage,
    )
