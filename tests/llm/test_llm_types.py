from __future__ import annotations

import pytest
from pydantic import BaseModel

from opto.llm import Choice, LMCallError, LMFailure, Request, Response, Usage


class Answer(BaseModel):
    value: int


def test_request_of_builds_system_and_user():
    r = Request.of("hi", system="be brief", temperature=0.0)
    assert r.messages == ({"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"})
    assert r.temperature == 0.0 and r.n == 1


def test_request_copies_messages_so_caller_mutation_cannot_change_it():
    msgs = [{"role": "user", "content": "a"}]
    r = Request(messages=msgs)
    msgs[0]["content"] = "b"
    assert r.messages[0]["content"] == "a"


@pytest.mark.parametrize(
    "messages, fix",
    [("just a string", "Request.of"), ([], "non-empty"), ([{"content": "x"}], "role"), ([{"role": "user"}], "content")],
)
def test_bad_messages_name_the_fix(messages, fix):
    with pytest.raises(TypeError, match=fix):
        Request(messages=messages)


def test_bad_schema_and_n_are_rejected():
    with pytest.raises(TypeError, match="BaseModel"):
        Request.of("x", schema=dict)
    with pytest.raises(ValueError, match="at least 1"):
        Request.of("x", n=0)


def test_samples_get_distinct_index_and_seed():
    samples = Request.of("x", n=3, seed=10).samples()
    assert [s.sample_index for s in samples] == [0, 1, 2]
    assert [s.seed for s in samples] == [10, 11, 12]
    assert all(s.n == 1 for s in samples)
    assert [s.seed for s in Request.of("x", n=2).samples()] == [None, None]


def test_usage_adds_and_unknown_cost_propagates():
    assert Usage(1, 2, 0.5) + Usage(3, 4, 0.25) == Usage(4, 6, 0.75)
    assert (Usage(1, 2, 0.5) + Usage(1, 1, None)).cost_usd is None
    assert Usage(3, 4).total_tokens == 7


def test_response_properties_and_raise_for_failure():
    ok = Response(choices=(Choice("a", parsed=1, finish_reason="stop"), Choice("b")), model="m")
    assert (ok.text, ok.texts, ok.parsed, ok.finish_reason, ok.ok) == ("a", ["a", "b"], 1, "stop", True)
    assert ok.raise_for_failure() is ok
    bad = Response(choices=(Choice("", failure=LMFailure("timeout", "slow")),), model="m")
    assert not bad.ok and bad.failure.kind == "timeout"
    with pytest.raises(LMCallError, match="timeout") as info:
        bad.raise_for_failure()
    assert info.value.failure.kind == "timeout"
    assert "could not be used" in bad.failure.feedback()
