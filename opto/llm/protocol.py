"""The protocol every LM speaks and the values it exchanges: Request in, Response out, and an
``LMFailure`` inside the response when a call went wrong.

An optimizer (and its tests) needs nothing else: this module imports no backend, no openai and
not even pydantic (a schema is checked only when a Request carries one), so code written against
the protocol pays nothing for the backends (STYLE.md 5).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from opto.llm.errors import LMCallError

if TYPE_CHECKING:
    from pydantic import BaseModel

Message = Mapping[str, Any]
"""One chat message: ``{"role": "system" | "user" | "assistant" | ..., "content": str}``."""

FailureKind = Literal[
    "timeout", "connection", "rate_limited", "server_error", "malformed_reply", "bad_request", "schema"
]


@runtime_checkable
class LM(Protocol):
    """Anything that completes a Request. Optimizers depend on this and nothing more."""

    model: str

    def complete(self, request: Request) -> Response: ...

    async def acomplete(self, request: Request) -> Response: ...


@dataclasses.dataclass(frozen=True)
class LMFailure:
    """Why a model call produced no usable reply — returned, not raised, so a run survives it.

    An optimizer turns it into feedback with ``feedback()``; ``raw_text`` keeps what the model said.
    """

    kind: FailureKind
    message: str
    status: int | None = None
    raw_text: str = ""

    def feedback(self) -> str:
        return f"The model's reply could not be used ({self.kind}): {self.message}"


@dataclasses.dataclass(frozen=True)
class Request:
    """What to ask the model. ``n`` samples are drawn as separate calls with ``sample_index`` i.

    Separate calls (rather than the server's ``n``) make every sample its own cache entry and work on
    servers that ignore ``n`` (llama.cpp). When ``seed`` is set, sample i uses ``seed + i``.
    """

    messages: tuple[Message, ...]
    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    n: int = 1
    schema: type[BaseModel] | None = None
    json_mode: bool = False
    stop: tuple[str, ...] = ()
    sample_index: int = 0

    def __post_init__(self) -> None:
        msgs = self.messages
        if isinstance(msgs, (str, bytes)) or not isinstance(msgs, Sequence) or not msgs:
            raise TypeError(
                "Request(messages=...) needs a non-empty list of {'role': ..., 'content': ...} dicts; "
                "for a single prompt use Request.of('your prompt')"
            )
        clean = []
        for i, m in enumerate(msgs):
            if not isinstance(m, Mapping) or not isinstance(m.get("role"), str) or "content" not in m:
                raise TypeError(
                    f"Request message #{i} must be a dict with a string 'role' and a 'content'; got {m!r:.120}"
                )
            clean.append(dict(m))
        object.__setattr__(self, "messages", tuple(clean))
        object.__setattr__(self, "stop", tuple(self.stop or ()))
        if self.n < 1:
            raise ValueError(f"Request(n={self.n}) must be at least 1")
        if self.schema is not None and not _is_pydantic_model(self.schema):
            raise TypeError(f"Request(schema=...) must be a pydantic BaseModel subclass, got {self.schema!r}")

    @classmethod
    def of(cls, prompt: str, *, system: str | None = None, **settings: Any) -> Request:
        """A one-turn request: optional system message, then ``prompt`` as the user message."""
        msgs: list[Message] = [{"role": "system", "content": system}] if system else []
        msgs.append({"role": "user", "content": prompt})
        return cls(messages=tuple(msgs), **settings)

    def replace(self, **changes: Any) -> Request:
        return dataclasses.replace(self, **changes)

    def samples(self) -> list[Request]:
        """The single-sample requests this one stands for (itself when n == 1)."""
        if self.n == 1:
            return [self]
        return [
            dataclasses.replace(
                self,
                n=1,
                sample_index=self.sample_index + i,
                seed=None if self.seed is None else self.seed + i,
            )
            for i in range(self.n)
        ]


@dataclasses.dataclass(frozen=True)
class Usage:
    """Tokens a call consumed; ``cost_usd`` is None when no price is known for the model."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        cost = None if self.cost_usd is None or other.cost_usd is None else self.cost_usd + other.cost_usd
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            cost,
        )


@dataclasses.dataclass(frozen=True)
class Choice:
    """One sample of a response: text, the validated object (when a schema was given), or a failure.

    call_id: the id of the model call this text came from (the repair call when there was one), as
    in ``CallRecord.call_id`` and a run store's ``llm_calls`` table; "" when the LM keeps no records.
    """

    text: str
    parsed: Any = None
    finish_reason: str | None = None
    failure: LMFailure | None = None
    call_id: str = ""


@dataclasses.dataclass(frozen=True)
class Response:
    """The model's answer; the properties read the first sample, ``choices`` holds all ``n``."""

    choices: tuple[Choice, ...]
    model: str
    usage: Usage = Usage()
    latency_s: float = 0.0
    cached: bool = False

    @property
    def text(self) -> str:
        return self.choices[0].text

    @property
    def texts(self) -> list[str]:
        return [c.text for c in self.choices]

    @property
    def parsed(self) -> Any:
        return self.choices[0].parsed

    @property
    def finish_reason(self) -> str | None:
        return self.choices[0].finish_reason

    @property
    def failure(self) -> LMFailure | None:
        return self.choices[0].failure

    @property
    def call_id(self) -> str:
        """The first sample's call id: what a candidate built from ``text`` puts in ``llm_call_id``."""
        return self.choices[0].call_id

    @property
    def ok(self) -> bool:
        return all(c.failure is None for c in self.choices)

    def raise_for_failure(self) -> Response:
        """Return self, or raise LMCallError for the first failed sample."""
        for c in self.choices:
            if c.failure is not None:
                raise LMCallError(c.failure)
        return self


def _is_pydantic_model(schema: Any) -> bool:
    from pydantic import BaseModel  # only a Request with a schema needs pydantic

    return isinstance(schema, type) and issubclass(schema, BaseModel)
