"""8 concurrent requests to a local server that takes 200 ms per reply, vs one request.

Target: the batch takes <= 2x one request's wall time. Measured for both batch helpers:
``acomplete_many`` (asyncio, AsyncOpenAI) and ``complete_many`` (thread pool, sync client).
Each figure is the median of several rounds after a warm-up (the first async call sets the
client up, ~1 s, and is not a per-batch cost).

    .venv/bin/python bench/llm_concurrency.py [--n 8 --latency 0.2 --rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from opto.llm import OpenAICompatible, Request, acomplete_many, complete_many  # noqa: E402
from opto.llm.testing import StubServer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import add_arguments, emit  # noqa: E402

RESULTS = REPO / "bench" / "results" / "llm_concurrency.json"


def measure(n: int, latency: float, rounds: int) -> dict:
    with StubServer(reply="ok", latency_s=latency) as stub:
        lm = OpenAICompatible("stub", base_url=stub.base_url, api_key="sk-bench", cache=False)
        reqs = [Request.of(f"request {i}") for i in range(n)]

        def one() -> float:
            t0 = time.perf_counter()
            assert lm.complete(reqs[0]).ok
            return time.perf_counter() - t0

        def threads() -> float:
            t0 = time.perf_counter()
            assert all(r.ok for r in complete_many(lm, reqs, concurrency=n))
            return time.perf_counter() - t0

        async def async_rounds() -> list[float]:
            await lm.acomplete(reqs[0])  # warm-up
            out = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                assert all(r.ok for r in await acomplete_many(lm, reqs, concurrency=n))
                out.append(time.perf_counter() - t0)
            return out

        one()
        threads()
        single = statistics.median(one() for _ in range(rounds))
        batch_threads = statistics.median(threads() for _ in range(rounds))
        batch_async = statistics.median(asyncio.run(async_rounds()))
    return {
        "requests": n,
        "server_latency_s": latency,
        "one_request_s": round(single, 4),
        "batch_async_s": round(batch_async, 4),
        "batch_threads_s": round(batch_threads, 4),
        "ratio_async": round(batch_async / single, 3),
        "ratio_threads": round(batch_threads / single, 3),
        "target_ratio": 2.0,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--rounds", type=int, default=5)
    add_arguments(ap)
    args = ap.parse_args()
    result = {
        "benchmark": "llm_concurrency",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        **measure(args.n, args.latency, args.rounds),
    }
    result["pass"] = result["ratio_async"] <= 2.0 and result["ratio_threads"] <= 2.0
    return emit(RESULTS, result, update_tracked=args.update_tracked)


if __name__ == "__main__":
    sys.exit(main())
