"""The embedded offline model (SmolLM2-135M-Instruct, Q4_1 GGUF): time to first token and tokens/s,
in-process (llama_cpp.Llama) and via ``opto serve-llm`` (llama_cpp.server), on this machine.

TTFT comes from streaming; decode rate = (completion tokens - 1) / (time after the first token).
``end_to_end`` is opto's own non-streaming call (LocalLM / OpenAICompatible) for the same prompt.
Needs the [local] extra. Reports the load average, since other work on the machine skews figures.

    .venv/bin/python bench/llm_offline.py [--rounds 5 --max-tokens 64]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import openai  # noqa: E402

from opto.llm import LocalLM, LocalServer, OpenAICompatible, Request  # noqa: E402
from opto.llm.local import find_embedded_model  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import add_arguments, emit  # noqa: E402

RESULTS = REPO / "bench" / "results" / "llm_offline.json"


def messages(i: int) -> list[dict]:
    """A different first token each round, so llama.cpp cannot reuse the previous prompt's KV cache
    and TTFT includes prompt processing, as it would for a new optimizer prompt."""
    return [
        {"role": "system", "content": f"Session {i}. You are a helpful assistant that improves Python heuristics."},
        {"role": "user", "content": "Suggest three ways to improve a first-fit bin packing heuristic, briefly."},
    ]


def stream_stats(chunks, t0: float) -> tuple[float, int, float]:
    """(ttft_s, tokens, total_s) from a stream of text pieces (one piece ~ one token)."""
    ttft, tokens = None, 0
    for piece in chunks:
        if piece:
            tokens += 1
            if ttft is None:
                ttft = time.perf_counter() - t0
    return (ttft or 0.0), tokens, time.perf_counter() - t0


def summarize(runs: list[tuple[float, int, float]]) -> dict:
    ttft = statistics.median(r[0] for r in runs)
    rates = [(n - 1) / (total - first) for first, n, total in runs if n > 1 and total > first]
    return {
        "ttft_ms": round(ttft * 1e3, 1),
        "decode_tokens_per_s": round(statistics.median(rates), 1) if rates else None,
        "completion_tokens": statistics.median(r[1] for r in runs),
    }


def end_to_end(lm, rounds: int, max_tokens: int) -> dict:
    lat, toks = [], []
    for i in range(rounds):
        r = lm.complete(Request(messages=messages(1000 + i), max_tokens=max_tokens, temperature=0.0))
        assert r.ok, r.failure
        lat.append(r.latency_s)
        toks.append(r.usage.completion_tokens)
    return {
        "latency_ms": round(statistics.median(lat) * 1e3, 1),
        "tokens_per_s": round(statistics.median(t / s for t, s in zip(toks, lat)), 1),
    }


def in_process(rounds: int, max_tokens: int) -> dict:
    t0 = time.perf_counter()
    lm = LocalLM(n_ctx=2048, cache=False)
    llama = lm._load()
    load_s = time.perf_counter() - t0
    runs = []
    for i in range(rounds):
        t0 = time.perf_counter()
        stream = llama.create_chat_completion(messages=messages(i), max_tokens=max_tokens, temperature=0.0, stream=True)
        runs.append(stream_stats((c["choices"][0]["delta"].get("content") for c in stream), t0))
    return {"load_s": round(load_s, 3), **summarize(runs), "end_to_end": end_to_end(lm, rounds, max_tokens)}


def via_server(rounds: int, max_tokens: int) -> dict:
    t0 = time.perf_counter()
    with LocalServer(n_ctx=2048) as server:
        startup_s = time.perf_counter() - t0
        client = openai.OpenAI(base_url=server.base_url, api_key="sk-no-key-required")
        runs = []
        for i in range(rounds):
            t0 = time.perf_counter()
            stream = client.chat.completions.create(
                model="smollm2", messages=messages(i), max_tokens=max_tokens, temperature=0.0, stream=True
            )
            runs.append(stream_stats((c.choices[0].delta.content if c.choices else None for c in stream), t0))
        lm = OpenAICompatible("smollm2", base_url=server.base_url, cache=False)
        e2e = end_to_end(lm, rounds, max_tokens)
    return {"startup_s": round(startup_s, 2), **summarize(runs), "end_to_end": e2e}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--max-tokens", type=int, default=64)
    add_arguments(ap)
    args = ap.parse_args()
    result = {
        "benchmark": "llm_offline",
        "model": find_embedded_model().name,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_avg_1m_before": round(os.getloadavg()[0], 2),
        },
        "max_tokens": args.max_tokens,
        "rounds": args.rounds,
        "in_process": in_process(args.rounds, args.max_tokens),
        "server": via_server(args.rounds, args.max_tokens),
    }
    result["machine"]["load_avg_1m_after"] = round(os.getloadavg()[0], 2)
    return emit(RESULTS, result, update_tracked=args.update_tracked)


if __name__ == "__main__":
    sys.exit(main())
