"""Persist LM calls in a run store's ``llm_calls`` table as each one completes.

    with RunStore.open("runs/exp1.db") as store, track_usage() as run, record_calls(store, run):
        response = lm.complete(Request.of("Propose a better prompt"))
        store.add_candidate(Candidate({"prompt": response.text}, llm_call_id=response.call_id))

Every call the tracker records (by any LM inside ``track_usage``, or by one LM when given the LM or
its ``lm.usage``) is written the moment it completes, cache hits and failures included, under the
same id as ``Response.call_id`` / ``Choice.call_id``. Subscribe a store to one tracker only: a call
is recorded by its LM's tracker *and* by every open run, so two subscriptions write it twice.

What is stored: the request as sent (messages with the schema instruction and any repair turn,
settings, sample index, the schema's name), the raw reply text ("" after a transport failure),
usage (tokens, cost, and ``failure``: the failure kind or None), model, latency, the cached flag.
Requests carry no API keys, and the store redacts anything key-like on top.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Protocol

from opto.llm.protocol import Request
from opto.llm.usage import CallRecord, UsageTracker


class CallStore(Protocol):
    """What ``record_calls`` needs of a store: ``opto.store.RunStore`` has it. The LLM layer sits
    below the store, so it names the one method it calls instead of importing the class."""

    def record_llm_call(
        self,
        request: Any,
        reply: str,
        usage: Mapping[str, Any] | None = None,
        *,
        model: str | None = None,
        latency_s: float | None = None,
        cached: bool = False,
        call_id: str | None = None,
    ) -> str: ...


def request_payload(request: Request) -> dict[str, Any]:
    """The JSON form of a request for a run store: what was asked, not how to rebuild the schema."""
    payload = {
        "messages": [dict(m) for m in request.messages],
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "seed": request.seed,
        "stop": list(request.stop),
        "schema": request.schema.__name__ if request.schema is not None else None,
        "json_mode": request.json_mode,
        "sample_index": request.sample_index,
    }
    # Message content is usually text; anything else (images, tool payloads) is kept as its str.
    return json.loads(json.dumps(payload, ensure_ascii=False, default=str))


def call_usage(record: CallRecord) -> dict[str, Any]:
    return {
        "prompt_tokens": record.prompt_tokens,
        "completion_tokens": record.completion_tokens,
        "cost_usd": record.cost_usd,
        "failure": record.failure,
    }


class Recording:
    """A live subscription of a run store to a tracker; ``close()`` (or leaving ``with``) ends it."""

    def __init__(self, store: CallStore, tracker: UsageTracker) -> None:
        self.store = store
        self.tracker = tracker
        self._unsubscribe = tracker.subscribe(self._write)

    def _write(self, record: CallRecord) -> None:
        request = request_payload(record.request) if record.request is not None else {}
        self.store.record_llm_call(
            request,
            record.reply,
            call_usage(record),
            model=record.model,
            latency_s=record.latency_s,
            cached=record.cached,
            call_id=record.call_id or None,
        )

    def close(self) -> None:
        self._unsubscribe()

    def __call__(self) -> None:
        self.close()

    def __enter__(self) -> Recording:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def record_calls(store: CallStore, source: UsageTracker | Any) -> Recording:
    """Write every call ``source`` records into ``store`` as it completes, until ``close()``.

    source: a UsageTracker (a ``track_usage`` run, or ``lm.usage``) or an LM that has ``.usage``.
    A failure to write (e.g. the store was closed) is raised from the LM call that made the record,
    after every tracker has counted it: a run never goes on silently without its records.
    """
    tracker = source if isinstance(source, UsageTracker) else getattr(source, "usage", None)
    if not isinstance(tracker, UsageTracker):
        raise TypeError(
            f"record_calls(store, source) needs a UsageTracker (track_usage() run, lm.usage) or an LM "
            f"with .usage; got {type(source).__name__}"
        )
    return Recording(store, tracker)
