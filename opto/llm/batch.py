"""Bounded concurrency for batches of requests (e.g. N proposals at once)."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from opto.llm.base import LM
from opto.llm.types import Request, Response


async def acomplete_many(lm: LM, requests: Iterable[Request], concurrency: int = 8) -> list[Response]:
    """Complete all requests with at most ``concurrency`` in flight; results keep the input order."""
    _check(concurrency)
    gate = asyncio.Semaphore(concurrency)

    async def one(request: Request) -> Response:
        async with gate:
            return await lm.acomplete(request)

    return list(await asyncio.gather(*(one(r) for r in requests)))


def complete_many(lm: LM, requests: Iterable[Request], concurrency: int = 8) -> list[Response]:
    """Synchronous twin of ``acomplete_many`` on a thread pool; safe to call inside a running loop.

    Each worker runs in a copy of the caller's context, so ``track_usage`` and ``opto.context`` apply.
    """
    _check(concurrency)
    items = list(requests)
    if not items:
        return []
    ctx = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items))) as pool:
        futures = [pool.submit(ctx.copy().run, lm.complete, r) for r in items]
        return [f.result() for f in futures]


def _check(concurrency: int) -> None:
    if not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a positive int, got {concurrency!r}")
