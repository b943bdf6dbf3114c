"""The real embedded model: ``llama_cpp.server`` via ``opto serve-llm`` and in-process ``LocalLM``.

Checks structure, not content (SmolLM2-135M writes well-formed nonsense). Skipped only when
llama_cpp is not importable; CI installs the [local] extra, so these run there.
"""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from opto.llm import LocalLM, OpenAICompatible, Request, ResponseCache, acomplete_many
from opto.utils.llm import LLM

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None,
        reason="llama_cpp is not importable: install the [local] extra (scripts/setup.sh --local) to run these",
    ),
]


class Proposal(BaseModel):
    """Only constraints llama.cpp's JSON grammar enforces, so a valid reply is the model's job."""

    name: str = Field(max_length=40)
    kind: Literal["greedy", "random", "exact"]
    keep: bool


PROMPT = "Propose a heuristic for bin packing: give it a short name, a kind, and whether to keep it."


def server_lm(server, **kw) -> OpenAICompatible:
    return OpenAICompatible("smollm2", base_url=server.base_url, timeout=60, cache=False, **kw)


def test_server_structured_reply_validates(llama_server):
    lm = server_lm(llama_server)
    resp = lm.complete(Request.of(PROMPT, schema=Proposal, max_tokens=128, temperature=0.0, seed=1))
    assert resp.ok, resp.failure
    assert isinstance(resp.parsed, Proposal)
    assert resp.usage.prompt_tokens > 0 and resp.usage.completion_tokens > 0 and resp.latency_s > 0
    # llama-cpp-python rejects OpenAI's json_schema form; auto mode moved to its own form
    assert lm._dialect() == "json_object"


def test_server_plain_text_and_seeded_samples(llama_server):
    lm = server_lm(llama_server)
    resp = lm.complete(Request.of("Say hello.", max_tokens=16, temperature=0.8, seed=3, n=2))
    assert len(resp.choices) == 2 and all(c.text for c in resp.choices)
    assert resp.finish_reason in ("stop", "length")


def test_server_async_batch(llama_server):
    lm = server_lm(llama_server)
    reqs = [Request.of(f"Count to {i}.", max_tokens=8, temperature=0.0) for i in range(3)]
    out = asyncio.run(acomplete_many(lm, reqs, concurrency=3))
    assert all(r.ok and r.text for r in out)


def test_trace_opt_llm_against_the_server(llama_server):
    llm = LLM(model="smollm2", base_url=llama_server.base_url, cache=False)
    resp = llm(messages=[{"role": "user", "content": "Reply with a JSON object."}],
               response_format={"type": "json_object"}, max_tokens=32)
    assert isinstance(resp.choices[0].message.content, str)


def test_local_lm_structured_reply_validates(local_lm):
    resp = local_lm.complete(Request.of(PROMPT, schema=Proposal, max_tokens=128, temperature=0.0, seed=1))
    assert resp.ok, resp.failure
    assert isinstance(resp.parsed, Proposal) and resp.usage.cost_usd == 0.0
    assert resp.model == "SmolLM2-135M-Instruct"


def test_local_lm_rerun_replays_from_cache(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    lm = LocalLM(n_ctx=1024, cache=cache)
    req = Request.of("Name a color.", max_tokens=8, temperature=0.9, seed=11)
    first = lm.complete(req)
    again = LocalLM(n_ctx=1024, cache=cache).complete(req)
    assert again.cached and again.text == first.text and not first.cached
