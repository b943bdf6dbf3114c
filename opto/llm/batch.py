"""Bounded concurrency for batches of requests (e.g. N proposals at once).

The bound counts samples, not requests: a request with ``n=4`` is four model calls, so each sample
is its own task under the one limit, and at most ``concurrency`` calls are in flight at any time
(a sample's repair request follows its first call, never beside it).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from opto.llm.base import merge_samples
from opto.llm.protocol import LM, Request, Response


async def acomplete_many(lm: LM, requests: Iterable[Request], concurrency: int = 8) -> list[Response]:
    """Complete all requests with at most ``concurrency`` calls in flight; results keep the input order."""
    _check(concurrency)
    items = list(requests)
    gate = asyncio.Semaphore(concurrency)

    async def one(sample: Request) -> Response:
        async with gate:
            return await lm.acomplete(sample)

    samples = [r.samples() for r in items]
    flat = await asyncio.gather(*(one(s) for group in samples for s in group))
    return _regroup(samples, list(flat), parallel=True)


def complete_many(lm: LM, requests: Iterable[Request], concurrency: int = 8) -> list[Response]:
    """Synchronous twin of ``acomplete_many`` on a thread pool; safe to call inside a running loop.

    Each worker runs in a copy of the caller's context, so ``track_usage`` and ``opto.context`` apply.
    """
    _check(concurrency)
    items = list(requests)
    if not items:
        return []
    samples = [r.samples() for r in items]
    flat = [s for group in samples for s in group]
    ctx = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=min(concurrency, len(flat))) as pool:
        futures = [pool.submit(ctx.copy().run, lm.complete, s) for s in flat]
        return _regroup(samples, [f.result() for f in futures], parallel=True)


def _regroup(samples: list[list[Request]], flat: list[Response], parallel: bool) -> list[Response]:
    out, k = [], 0
    for group in samples:
        parts = flat[k : k + len(group)]
        k += len(group)
        out.append(parts[0] if len(parts) == 1 else merge_samples(parts, parallel=parallel))
    return out


def _check(concurrency: int) -> None:
    if not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a positive int, got {concurrency!r}")
