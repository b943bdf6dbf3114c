from __future__ import annotations

import asyncio

import pytest

from opto.llm import LM, LMError, LMFailure, Request, ScriptedLM, acomplete_many, complete_many


def test_queued_replies_in_order_and_requests_recorded():
    lm = ScriptedLM(["one", "two"])
    assert isinstance(lm, LM)
    assert lm.complete(Request.of("a")).text == "one"
    assert lm.complete(Request.of("b")).text == "two"
    assert [r.messages[-1]["content"] for r in lm.requests] == ["a", "b"]


def test_function_of_the_request():
    lm = ScriptedLM(lambda req: req.messages[-1]["content"].upper())
    assert lm.complete(Request.of("shout")).text == "SHOUT"


def test_running_out_names_the_fix():
    lm = ScriptedLM(["only"])
    lm.complete(Request.of("a"))
    with pytest.raises(LMError, match=r"no reply left for request #2 \(it was given 1\).*\.add"):
        lm.complete(Request.of("b"))
    lm.add("more")
    assert lm.complete(Request.of("c")).text == "more"


def test_failure_replies_simulate_transport_failures():
    lm = ScriptedLM([LMFailure("rate_limited", "slow down", status=429)])
    resp = lm.complete(Request.of("a"))
    assert not resp.ok and resp.failure.status == 429 and resp.text == ""


def test_n_samples_are_separate_requests():
    lm = ScriptedLM(lambda req: f"sample {req.sample_index} seed {req.seed}")
    resp = lm.complete(Request.of("a", n=3, seed=7))
    assert resp.texts == ["sample 0 seed 7", "sample 1 seed 8", "sample 2 seed 9"]
    assert len(lm.requests) == 3


def test_async_and_batches_keep_order():
    lm = ScriptedLM(lambda req: req.messages[-1]["content"])
    reqs = [Request.of(str(i)) for i in range(20)]
    assert [r.text for r in complete_many(lm, reqs, concurrency=4)] == [str(i) for i in range(20)]
    out = asyncio.run(acomplete_many(lm, reqs, concurrency=3))
    assert [r.text for r in out] == [str(i) for i in range(20)]
    assert asyncio.run(lm.acomplete(Request.of("x", n=2))).texts == ["x", "x"]
    with pytest.raises(ValueError, match="positive"):
        complete_many(lm, reqs, concurrency=0)


def test_complete_rejects_non_requests_with_the_fix():
    with pytest.raises(TypeError, match="Request.of"):
        ScriptedLM(["x"]).complete("hello")  # type: ignore[arg-type]
