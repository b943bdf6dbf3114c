"""Per-call overhead of opto's LLM layer over the raw ``openai`` client, against a local stub server.

Both clients call the same in-process OpenAI-compatible stub (opto.llm.testing.StubServer) over
HTTP keep-alive; calls are interleaved (raw, opto, raw, opto, ...) so machine noise hits both alike.
The overhead is the difference of medians. Target: <= 1 ms per call.

    .venv/bin/python bench/llm_overhead.py [--calls 400]     # writes bench/results/local/llm_overhead.json
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import openai  # noqa: E402

from opto.llm import OpenAICompatible, Request, ResponseCache  # noqa: E402
from opto.llm.testing import StubServer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import add_arguments, emit  # noqa: E402

RESULTS = REPO / "bench" / "results" / "llm_overhead.json"
MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hi."}]


def timed(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def measure(calls: int) -> dict:
    with StubServer(reply='{"answer": "hi"}') as stub, tempfile.TemporaryDirectory() as tmp:
        raw = openai.OpenAI(base_url=stub.base_url, api_key="sk-bench", max_retries=0)
        plain = OpenAICompatible("stub", base_url=stub.base_url, api_key="sk-bench", cache=False)
        cached = OpenAICompatible(
            "stub", base_url=stub.base_url, api_key="sk-bench", cache=ResponseCache(Path(tmp) / "c.sqlite")
        )

        def raw_call(i: int) -> None:
            raw.chat.completions.create(model="stub", messages=MESSAGES + [{"role": "user", "content": str(i)}])

        def opto_call(lm: OpenAICompatible, i: int) -> None:
            lm.complete(Request(messages=MESSAGES + [{"role": "user", "content": str(i)}]))

        for i in range(20):  # warm up connections and code paths
            raw_call(i)
            opto_call(plain, i)
        t_raw, t_plain, t_miss, t_hit = [], [], [], []
        for i in range(calls):
            t_raw.append(timed(raw_call, i))
            t_plain.append(timed(opto_call, plain, i))
            t_miss.append(timed(opto_call, cached, i))  # new prompt: miss + write
        for i in range(calls):
            t_hit.append(timed(opto_call, cached, i))  # same prompts again: hits, no HTTP

    def ms(xs: list[float]) -> dict:
        return {"median_ms": round(statistics.median(xs) * 1e3, 4), "mean_ms": round(statistics.fmean(xs) * 1e3, 4)}

    raw_med = statistics.median(t_raw)
    return {
        "calls": calls,
        "raw_openai": ms(t_raw),
        "opto_no_cache": ms(t_plain),
        "opto_cache_miss": ms(t_miss),
        "opto_cache_hit": ms(t_hit),
        "overhead_no_cache_ms": round((statistics.median(t_plain) - raw_med) * 1e3, 4),
        "overhead_cache_miss_ms": round((statistics.median(t_miss) - raw_med) * 1e3, 4),
        "target_ms": 1.0,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=400)
    add_arguments(ap)
    args = ap.parse_args()
    result = {
        "benchmark": "llm_overhead",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "openai_version": openai.__version__,
        **measure(args.calls),
    }
    result["pass"] = result["overhead_cache_miss_ms"] <= 1.0 and result["overhead_no_cache_ms"] <= 1.0
    return emit(RESULTS, result, update_tracked=args.update_tracked)


if __name__ == "__main__":
    sys.exit(main())
