"""LM calls persisted in a real RunStore's llm_calls table as they complete (opto.llm.recording)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from opto.llm import (
    Budget,
    LMFailure,
    OpenAICompatible,
    Request,
    ResponseCache,
    ScriptedLM,
    record_calls,
    track_usage,
)
from opto.llm.testing import StubServer
from opto.runtime import Candidate
from opto.store import RunStore

SECRET = "sk-test-SECRET-recording-8c1f0e"


class Out(BaseModel):
    x: int


@pytest.fixture
def store(tmp_path):
    with RunStore.open(tmp_path / "run.db") as s:
        yield s


def test_every_call_of_a_run_is_stored_with_the_id_the_response_carries(store):
    lm = ScriptedLM(["not json", '{"x": 1}', '{"x": 2}'])  # sample 0 needs one repair
    with track_usage(report=False) as run, record_calls(store, run):
        resp = lm.complete(Request.of("q", schema=Out, n=2, seed=7))
    assert [c.parsed for c in resp.choices] == [Out(x=1), Out(x=2)]
    rows = store.llm_calls()
    assert len(rows) == 3 == len(run.records)  # first try, its repair, the second sample
    first, repair, second = rows
    assert [r.reply for r in rows] == ["not json", '{"x": 1}', '{"x": 2}']
    assert resp.call_id == resp.choices[0].call_id == repair.id  # the text came from the repair call
    assert resp.choices[1].call_id == second.id and len({r.id for r in rows}) == 3
    assert repair.request["messages"][-1]["role"] == "user" and "could not be used" in repair.request["messages"][-1]["content"]
    assert first.request["schema"] == "Out" and [first.request["seed"], second.request["seed"]] == [7, 8]
    assert first.request["messages"][0]["role"] == "system"  # the schema instruction as it was sent
    assert first.model == "scripted" and not first.cached and first.latency_s is not None
    assert first.prompt_tokens == run.records[0].prompt_tokens and first.usage["failure"] is None
    assert first.request_digest != repair.request_digest

    store.add_candidate(Candidate({"x": resp.parsed.x}, llm_call_id=resp.call_id))
    (cand,) = store.candidates()
    assert cand.llm_call_id in {r.id for r in store.llm_calls()}


def test_cache_hits_and_failures_are_recorded_too(store, tmp_path):
    lm = ScriptedLM(["a", LMFailure("timeout", "slow")], cache=ResponseCache(tmp_path / "c.sqlite"))
    with record_calls(store, lm):  # an LM: its own tracker
        lm.complete(Request.of("q"))
        hit = lm.complete(Request.of("q"))
        failed = lm.complete(Request.of("other"))
    rows = store.llm_calls()
    assert [(r.reply, r.cached, r.usage["failure"]) for r in rows] == [("a", False, None), ("a", True, None), ("", False, "timeout")]
    assert hit.cached and hit.call_id == rows[1].id and failed.call_id == rows[2].id
    lm.add("b")
    lm.complete(Request.of("after"))  # the with block ended the recording
    assert len(store.llm_calls()) == 3


def test_records_in_memory_do_not_keep_prompts(store):
    lm = ScriptedLM(["a"])
    seen = []
    unsubscribe = lm.usage.subscribe(seen.append)
    lm.complete(Request.of("a long prompt"))
    unsubscribe()
    assert seen[0].request is not None and seen[0].reply == "a"
    assert lm.usage.records[0].request is None and lm.usage.records[0].reply == ""
    assert lm.usage.records[0].call_id == seen[0].call_id


def test_a_call_over_http_is_stored_without_the_api_key(store, tmp_path):
    with StubServer(reply="hello") as server:
        lm = OpenAICompatible("stub-model", base_url=server.base_url, api_key=SECRET, cache=False)
        recording = record_calls(store, lm.usage)
        resp = lm.complete(Request.of("hi", temperature=0.0))
        recording.close()
    (row,) = store.llm_calls()
    assert (row.id, row.reply, row.model, row.prompt_tokens, row.completion_tokens) == (resp.call_id, "hello", "stub-model", 5, 3)
    assert row.request["messages"] == [{"role": "user", "content": "hi"}] and row.request["temperature"] == 0.0
    store.close()
    for f in tmp_path.glob("run.db*"):
        assert SECRET.encode() not in f.read_bytes()


class FullDisk:
    def record_llm_call(self, *args, **kwargs):
        raise OSError("disk full")


def test_a_store_that_cannot_write_stops_the_call_but_not_the_accounting():
    lm = ScriptedLM(["a", "b", "c"])
    with track_usage(budget=Budget(max_calls=2), report=False) as run:
        recording = record_calls(FullDisk(), lm)  # the LM's tracker is the first to record a call
        with pytest.raises(OSError, match="disk full"):
            lm.complete(Request.of("q1"))
        recording.close()
        assert run.summary().calls == 1 and lm.usage.summary().calls == 1  # the run counted it too
        assert lm.complete(Request.of("q2")).text == "b"  # and its reservation was given back


def test_record_calls_names_what_it_needs(store):
    with pytest.raises(TypeError, match="UsageTracker"):
        record_calls(store, object())
