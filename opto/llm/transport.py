"""What a backend's transport hands to ``BaseLM``: one ``RawReply`` per sample, or a typed failure.

A backend author needs this module and opto.llm.base; users of an LM never do. ``read_completion``
turns a chat-completion object or dict, as a server or llama.cpp returned it, into a RawReply,
checking every field it reads: a reply that does not hold what the OpenAI chat API promises is a
``MalformedReply`` (a ValueError), never a TypeError or OverflowError from deep inside.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from opto.llm.protocol import LMFailure


@dataclasses.dataclass(frozen=True)
class RawReply:
    """One sample as a transport returned it; this is what the response cache stores."""

    text: str
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str = ""


class TransportFailure(Exception):
    """A backend's ``_send`` raises this to report a typed failure to the orchestrator."""

    def __init__(self, failure: LMFailure) -> None:
        super().__init__(failure.message)
        self.failure = failure


class MalformedReply(ValueError):
    """The server answered, but not with a usable chat completion; the message says which field.

    text: the reply's text when it could be read (e.g. only the token counts were bad), else "".
    """

    def __init__(self, message: str, text: str = "") -> None:
        super().__init__(message)
        self.text = text


_MISSING = object()
MAX_TOKENS = 10**12  # more than any call can use; larger counts are garbage (and overflow SQLite)


def field(obj: Any, name: str) -> Any:
    """``obj.name`` or ``obj[name]`` (servers' objects and llama.cpp's dicts alike); _MISSING if absent."""
    if isinstance(obj, Mapping):
        return obj.get(name, _MISSING)
    extra = getattr(obj, "model_extra", None)  # pydantic keeps unknown fields apart
    value = getattr(obj, name, _MISSING)
    if value is _MISSING and isinstance(extra, Mapping):
        value = extra.get(name, _MISSING)
    return value


def token_count(usage: Any, name: str) -> int:
    """``usage.<name>`` as a token count: absent or null is 0; anything but a non-negative whole
    number up to MAX_TOKENS (a list, a dict, a bool, 1e400, -3, 2.5, 10**30) is a MalformedReply."""
    value = field(usage, name)
    if value is _MISSING or value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MalformedReply(f"usage.{name} is {_show(value)}, not a token count")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise MalformedReply(f"usage.{name} is {_show(value)}, not a whole number of tokens")
    if not 0 <= value <= MAX_TOKENS:
        raise MalformedReply(f"usage.{name} is {_show(value)}, outside 0..{MAX_TOKENS:.0e} tokens")
    return int(value)


def read_completion(completion: Any, default_model: str) -> RawReply:
    """The first choice of a chat completion as a RawReply; raises MalformedReply when the reply lacks
    what the chat API promises (choices, a text content, token counts, string fields)."""
    if isinstance(completion, (str, bytes)):
        raise MalformedReply(f"the server returned a non-JSON body: {_show(completion)}")
    choices = field(completion, "choices")
    if not isinstance(choices, (list, tuple)) or not choices:
        error = field(completion, "error") if completion is not None else _MISSING
        said = field(error, "message") if isinstance(error, Mapping) else error
        note = f" (it said: {_show(said)})" if said is not _MISSING and said is not None else ""
        raise MalformedReply(f"the server returned a completion with no choices{note}")
    first = choices[0]
    message = field(first, "message")
    text = field(message, "content") if message is not _MISSING and message is not None else _MISSING
    if not isinstance(text, str):
        refusal = field(message, "refusal") if message is not _MISSING and message is not None else None
        note = f" (refusal: {_show(refusal)})" if isinstance(refusal, str) and refusal else ""
        raise MalformedReply(f"the completion has no text content{note}")
    finish = field(first, "finish_reason")
    if finish is _MISSING:
        finish = None
    if finish is not None and not isinstance(finish, str):
        raise MalformedReply(f"finish_reason is {_show(finish)}, not a string")
    usage = field(completion, "usage")
    try:
        if usage is _MISSING or usage is None:
            prompt_tokens = completion_tokens = 0
        elif isinstance(usage, (str, bytes, int, float, list, tuple)):
            raise MalformedReply(f"usage is {_show(usage)}, not an object of token counts")
        else:
            prompt_tokens = token_count(usage, "prompt_tokens")
            completion_tokens = token_count(usage, "completion_tokens")
    except MalformedReply as e:  # the text is fine; keep it for the failure's raw_text
        raise MalformedReply(f"{e} (the reply's text is kept in the failure's raw_text)", text=text) from None
    model = field(completion, "model")
    return RawReply(
        text=text,
        finish_reason=finish,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        model=model if isinstance(model, str) and model else default_model,  # informational only
    )


def _show(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + " …"
