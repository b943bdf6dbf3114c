"""A scripted, deterministic LM for tests and docs (like DSPy's DummyLM).

Replies come from a queue or from a function of the request; every request that reaches the
transport (including schema instructions and repair turns) is recorded in ``requests``.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from opto.llm.base import BaseLM
from opto.llm.errors import LMError
from opto.llm.options import LMOptions
from opto.llm.protocol import LMFailure, Request
from opto.llm.transport import RawReply, TransportFailure

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from opto.llm.options import LMKeywords

Reply = str | LMFailure
ReplySource = Iterable[Reply] | Callable[[Request], Reply]


def count_tokens(text: str) -> int:
    """Whitespace tokens: deterministic and good enough for budget tests."""
    return len(text.split())


class ScriptedLM(BaseLM):
    """Replies in order from ``replies`` (an LMFailure simulates a transport failure), or ``replies(request)``.

    No disk cache unless one is given (``cache=`` or ``LMOptions(cache=...)``), so tests stay hermetic.
    """

    default_cache = False

    def __init__(
        self,
        replies: ReplySource = (),
        *,
        model: str = "scripted",
        options: LMOptions | None = None,
        **keywords: Unpack[LMKeywords],
    ) -> None:
        super().__init__(model, options, **keywords)
        self._fn = replies if callable(replies) else None
        self._queue: deque[Reply] = deque() if callable(replies) else deque(replies)
        self._given = len(self._queue)
        self._lock = threading.Lock()
        self.requests: list[Request] = []

    def add(self, *replies: Reply) -> None:
        """Queue more replies."""
        with self._lock:
            self._queue.extend(replies)
            self._given += len(replies)

    def _send(self, request: Request) -> RawReply:
        with self._lock:
            self.requests.append(request)
            if self._fn is not None:
                reply = self._fn(request)
            elif self._queue:
                reply = self._queue.popleft()
            else:
                raise LMError(
                    f"ScriptedLM has no reply left for request #{len(self.requests)} (it was given "
                    f"{self._given}); queue more with .add(...) or pass a function of the request"
                )
        if isinstance(reply, LMFailure):
            raise TransportFailure(reply)
        if not isinstance(reply, str):
            raise LMError(f"ScriptedLM replies must be str or LMFailure, got {type(reply).__name__}")
        prompt = sum(count_tokens(str(m.get("content", ""))) for m in request.messages)
        return RawReply(reply, "stop", prompt, count_tokens(reply), self.model)
