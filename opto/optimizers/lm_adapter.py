"""Accept trace-opt's model objects where an opto LM is expected.

opto LMs (and ``opto.utils.llm.LLM``) have ``complete(Request) -> Response`` and are used as they are.
A plain trace-opt ``AbstractModel`` (or any callable taking ``messages=``, returning an OpenAI-style
completion) is wrapped so optimizers speak only the LM protocol. Duck-typed: importing this module
must not load openai.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opto.llm import Request, Response


def as_lm(model: Any) -> Any:
    """An object with ``complete``/``acomplete``; raises TypeError naming what is accepted."""
    if callable(getattr(model, "complete", None)):
        return model
    if callable(model):
        return CallableLM(model)
    raise TypeError(
        f"lm= must be an opto LM (e.g. opto.llm.OpenAICompatible, ScriptedLM), trace-opt's "
        f"opto.utils.llm.LLM, or a callable taking messages=...; got {type(model).__name__}"
    )


class CallableLM:
    """An LM over ``fn(messages=[...], max_tokens=..., response_format=...)`` (trace-opt's model call)."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self.model = str(getattr(fn, "model_name", None) or type(fn).__name__)

    def complete(self, request: Request) -> Response:
        from opto.llm import Choice, Response, Usage

        kwargs: dict[str, Any] = {"messages": [dict(m) for m in request.messages]}
        if request.max_tokens is not None:
            kwargs["max_tokens"] = request.max_tokens
        if request.temperature is not None:
            kwargs["temperature"] = request.temperature
        if request.json_mode or request.schema is not None:
            kwargs["response_format"] = {"type": "json_object"}
        t0 = time.perf_counter()
        texts: list[str] = []
        usage = Usage()
        for _ in range(request.n):
            out = self._call(kwargs)
            texts.append(_content(out))
            u = getattr(out, "usage", None)
            if u is not None:
                usage = usage + Usage(int(getattr(u, "prompt_tokens", 0) or 0),
                                      int(getattr(u, "completion_tokens", 0) or 0))
        choices = tuple(Choice(text=t, finish_reason="stop") for t in texts)
        return Response(choices=choices, model=self.model, usage=usage, latency_s=time.perf_counter() - t0)

    def _call(self, kwargs: dict[str, Any]) -> Any:
        """One call; a model that refuses ``response_format`` is asked again without it (as trace-opt does)."""
        if "response_format" not in kwargs:
            return self.fn(**kwargs)
        try:
            return self.fn(**kwargs)
        except Exception:
            return self.fn(**{k: v for k, v in kwargs.items() if k != "response_format"})

    async def acomplete(self, request: Request) -> Response:
        import asyncio

        return await asyncio.to_thread(self.complete, request)


def _content(out: Any) -> str:
    if isinstance(out, str):
        return out
    try:
        content = out.choices[0].message.content
    except (AttributeError, IndexError, KeyError, TypeError):
        try:
            content = out["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise TypeError(
                f"the model returned {type(out).__name__}; expected an OpenAI-style completion "
                "(.choices[0].message.content) or a str"
            ) from None
    return content or ""
