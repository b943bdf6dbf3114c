"""The one orchestrator every backend shares (the protocol itself is in opto.llm.protocol).

A backend only implements ``_send(request) -> RawReply`` (one sample, raising TransportFailure for a
typed failure) and optionally ``_asend``. ``BaseLM`` adds, identically for all of them: the schema
prompt, the response cache, budget checks, usage records, tolerant parsing and one repair turn,
as its ``LMOptions`` say.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from opto.llm import structured
from opto.llm.cache import CacheSpec, ResponseCache, cache_key, open_cache
from opto.llm.options import LMOptions, merge_options
from opto.llm.protocol import Choice, LMFailure, Request, Response, Usage
from opto.llm.transport import RawReply, TransportFailure
from opto.llm.usage import CallRecord, UsageTracker, active_runs, price_for

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from opto.llm.options import LMKeywords

log = logging.getLogger("opto.llm")


@dataclasses.dataclass(frozen=True)
class _Exchange:
    raw: RawReply | None
    failure: LMFailure | None
    cached: bool
    latency_s: float
    usage: Usage
    call_id: str


class BaseLM(ABC):
    """Shared behaviour of the built-in backends; subclass it to add a transport.

    options: an LMOptions (cache, usage, budget, price, repair; documented there); its fields are
    also accepted as keyword shortcuts, which win over ``options``. ``self.options`` keeps what was
    given; ``self.cache``, ``self.usage``, ``self.price``, ``self.repair`` are what is in force.
    """

    model: str
    default_cache: ClassVar[CacheSpec] = True
    """What ``LMOptions(cache=None)`` means for this backend."""

    def __init__(self, model: str, options: LMOptions | None = None, **keywords: Unpack[LMKeywords]) -> None:
        opts = merge_options(options, dict(keywords), type(self).__name__)
        self.model = model
        self.options = opts
        self.cache: ResponseCache | None = open_cache(self.default_cache if opts.cache is None else opts.cache)
        self.usage = opts.usage if opts.usage is not None else UsageTracker(budget=opts.budget, name=model)
        if opts.usage is not None and opts.budget is not None:
            self.usage.budget = opts.budget
        self.price = opts.price if opts.price is not None else price_for(model)
        self.repair = opts.repair

    # -- transport (backends) -------------------------------------------------------------------
    @abstractmethod
    def _send(self, request: Request) -> RawReply:
        """One sample (request.n == 1). Raise TransportFailure for failures a run should survive."""

    async def _asend(self, request: Request) -> RawReply:
        return await asyncio.to_thread(self._send, request)

    def _cache_identity(self, request: Request) -> Mapping[str, Any]:
        """What besides the model name and the request shapes this backend's reply (server URL,
        server-side options): it joins the cache key. Never include an API key."""
        return {}

    # -- public API -----------------------------------------------------------------------------
    def complete(self, request: Request) -> Response:
        """Answer ``request``; transport and schema failures come back in ``Response.failure``."""
        parts = [self._complete_one(r) for r in _check(request).samples()]
        return parts[0] if len(parts) == 1 else merge_samples(parts, parallel=False)

    async def acomplete(self, request: Request) -> Response:
        samples = _check(request).samples()
        parts = await asyncio.gather(*(self._acomplete_one(r) for r in samples))
        return parts[0] if len(parts) == 1 else merge_samples(list(parts), parallel=True)

    def __call__(self, request: Request) -> Response:
        return self.complete(request)

    # -- orchestration --------------------------------------------------------------------------
    def _complete_one(self, request: Request) -> Response:
        prepared = structured.prepare(request)
        first = self._exchange(prepared)
        choice = self._interpret(prepared, first)
        repair = self._repair_turn(request, prepared, first, choice)
        if repair is None:
            return self._response([first], choice)
        second = self._exchange(repair)
        return self._response([first, second], self._interpret(prepared, second, after_repair=True))

    async def _acomplete_one(self, request: Request) -> Response:
        prepared = structured.prepare(request)
        first = await self._aexchange(prepared)
        choice = self._interpret(prepared, first)
        repair = self._repair_turn(request, prepared, first, choice)
        if repair is None:
            return self._response([first], choice)
        second = await self._aexchange(repair)
        return self._response([first, second], self._interpret(prepared, second, after_repair=True))

    def _repair_turn(self, request: Request, prepared: Request, first: _Exchange, choice: Choice) -> Request | None:
        """The one repair request to send after a reply that failed its schema, or None."""
        failure = choice.failure
        if not self.repair or request.schema is None or first.raw is None or failure is None:
            return None
        if failure.kind != "schema":
            return None
        return structured.repair_request(prepared, first.raw.text, failure.message)

    def _interpret(self, request: Request, ex: _Exchange, after_repair: bool = False) -> Choice:
        if ex.raw is None:
            return Choice(text="", failure=ex.failure, call_id=ex.call_id)
        text, finish, call_id = ex.raw.text, ex.raw.finish_reason, ex.call_id
        if request.schema is None:
            return Choice(text, finish_reason=finish, call_id=call_id)
        parsed = structured.parse_reply(text, request.schema)
        if isinstance(parsed, LMFailure):
            if after_repair:
                parsed = dataclasses.replace(parsed, message=f"{parsed.message} (after one repair request)")
            return Choice(text, finish_reason=finish, failure=parsed, call_id=call_id)
        return Choice(text, parsed=parsed, finish_reason=finish, call_id=call_id)

    def _response(self, exchanges: list[_Exchange], choice: Choice) -> Response:
        usage = exchanges[0].usage
        for ex in exchanges[1:]:
            usage = usage + ex.usage
        model = next((ex.raw.model for ex in reversed(exchanges) if ex.raw and ex.raw.model), self.model)
        return Response(
            choices=(choice,),
            model=model,
            usage=usage,
            latency_s=sum(ex.latency_s for ex in exchanges),
            cached=all(ex.cached for ex in exchanges),
        )

    # -- one transport exchange: cache, budget, send, record ------------------------------------
    def _exchange(self, request: Request) -> _Exchange:
        t0 = time.perf_counter()
        key, hit = self._lookup(request, t0)
        if hit is not None:
            return hit
        trackers = self._reserve()
        try:
            raw, failure = self._send(request), None
        except TransportFailure as e:
            raw, failure = None, e.failure
        except BaseException:
            _release(trackers)
            raise
        return self._settle(key, trackers, request, raw, failure, t0)

    async def _aexchange(self, request: Request) -> _Exchange:
        t0 = time.perf_counter()
        key, hit = self._lookup(request, t0)
        if hit is not None:
            return hit
        trackers = self._reserve()
        try:
            raw, failure = await self._asend(request), None
        except TransportFailure as e:
            raw, failure = None, e.failure
        except BaseException:
            _release(trackers)
            raise
        return self._settle(key, trackers, request, raw, failure, t0)

    def _trackers(self) -> tuple[UsageTracker, ...]:
        runs = active_runs()
        return runs if self.usage in runs else (self.usage, *runs)

    def _lookup(self, request: Request, t0: float) -> tuple[str | None, _Exchange | None]:
        if self.cache is None:
            return None, None
        key = cache_key(self.model, request, self._cache_identity(request))
        raw = self.cache.get(key)
        if raw is None:
            return key, None
        latency = time.perf_counter() - t0
        usage = self._usage(raw)
        call_id = self._record(self._trackers(), request, raw, None, latency, usage, cached=True, reserved=())
        return key, _Exchange(raw, None, True, latency, usage, call_id)

    def _reserve(self) -> tuple[UsageTracker, ...]:
        trackers = self._trackers()
        done: list[UsageTracker] = []
        try:
            for t in trackers:
                t.reserve(price_known=self.price is not None)
                done.append(t)
        except BaseException:
            _release(done)
            raise
        return trackers

    def _settle(
        self,
        key: str | None,
        trackers: tuple[UsageTracker, ...],
        request: Request,
        raw: RawReply | None,
        failure: LMFailure | None,
        t0: float,
    ) -> _Exchange:
        latency = time.perf_counter() - t0
        usage = self._usage(raw) if raw is not None else Usage(0, 0, 0.0 if self.price else None)
        if raw is not None and key is not None and self.cache is not None:
            self.cache.put(key, raw)
        call_id = self._record(trackers, request, raw, failure, latency, usage, cached=False, reserved=trackers)
        return _Exchange(raw, failure, False, latency, usage, call_id)

    def _usage(self, raw: RawReply) -> Usage:
        cost = self.price.cost(raw.prompt_tokens, raw.completion_tokens) if self.price else None
        return Usage(raw.prompt_tokens, raw.completion_tokens, cost)

    def _record(
        self,
        trackers: tuple[UsageTracker, ...],
        request: Request,
        raw: RawReply | None,
        failure: LMFailure | None,
        latency: float,
        usage: Usage,
        cached: bool,
        reserved: tuple[UsageTracker, ...],
    ) -> str:
        """Record the exchange in every tracker (and so with their subscribers); returns its call id."""
        rec = CallRecord(
            model=(raw.model if raw is not None and raw.model else self.model),
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_usd=usage.cost_usd,
            latency_s=latency,
            cached=cached,
            failure=failure.kind if failure is not None else None,
            call_id=uuid.uuid4().hex[:16],
            request=request,
            reply=raw.text if raw is not None else "",
        )
        listener_error: Exception | None = None
        for t in trackers:  # every tracker counts the call even when a subscriber of one fails
            try:
                t.record(rec, reserved=t in reserved)
            except Exception as e:
                listener_error = listener_error or e
        self._log(rec, failure, latency)
        if listener_error is not None:
            raise listener_error
        return rec.call_id

    def _log(self, rec: CallRecord, failure: LMFailure | None, latency: float) -> None:
        if failure is not None:
            log.warning("LM call to %s failed (%s): %s", self.model, failure.kind, failure.message)
        elif log.isEnabledFor(logging.DEBUG):
            log.debug(
                "LM call model=%s cached=%s tokens=%d+%d latency=%.3fs",
                rec.model, rec.cached, rec.prompt_tokens, rec.completion_tokens, latency,
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r})"


def _check(request: Request) -> Request:
    if not isinstance(request, Request):
        raise TypeError(
            f"LM.complete() takes an opto.llm.Request, got {type(request).__name__}; "
            "build one with Request.of('prompt') or Request(messages=[...])"
        )
    return request


def _release(trackers: tuple[UsageTracker, ...] | list[UsageTracker]) -> None:
    for t in trackers:
        t.release()


def merge_samples(parts: Sequence[Response], parallel: bool) -> Response:
    """One Response from the responses to a request's samples, in order (see ``Request.samples``).

    parallel: the samples ran at the same time, so the latency is the longest, not the sum.
    """
    usage = parts[0].usage
    for p in parts[1:]:
        usage = usage + p.usage
    return Response(
        choices=tuple(c for p in parts for c in p.choices),
        model=parts[0].model,
        usage=usage,
        latency_s=(max if parallel else sum)(p.latency_s for p in parts),
        cached=all(p.cached for p in parts),
    )
