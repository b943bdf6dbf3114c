"""A 200 reply whose fields are not what the chat API promises is a typed failure, never an exception.

Real HTTP: a local StubServer sends the exact body (``Fault.body``), the openai client parses it as
it would any server's, and opto reads it. Sync and async paths alike.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from opto.llm import OpenAICompatible, Request, track_usage
from opto.llm.testing import Fault, StubServer, completion_body
from opto.llm.transport import MalformedReply, read_completion


def body_with_usage(**usage_fields: object) -> str:
    body = completion_body("hello")
    body["usage"] = {**body["usage"], **usage_fields}
    return json.dumps(body)


# Raw JSON text, so that 1e400 reaches the client as written (json.dumps would write Infinity).
BAD_USAGE = {
    "list": '{"prompt_tokens": [1], "completion_tokens": 3}',
    "dict": '{"prompt_tokens": {"n": 1}, "completion_tokens": 3}',
    "huge": '{"prompt_tokens": 1e400, "completion_tokens": 3}',
    "negative": '{"prompt_tokens": 5, "completion_tokens": -3}',
    "bool": '{"prompt_tokens": true, "completion_tokens": 3}',
    "string": '{"prompt_tokens": "12", "completion_tokens": 3}',
    "fraction": '{"prompt_tokens": 2.5, "completion_tokens": 3}',
    "nan": '{"prompt_tokens": NaN, "completion_tokens": 3}',
    "too_many": '{"prompt_tokens": 123456789012345678901234567890, "completion_tokens": 3}',
    "usage_is_a_list": "[5, 3]",
    "usage_is_a_number": "8",
}


def raw_body(usage_json: str) -> str:
    body = json.dumps(completion_body("hello"))
    start = body.index('"usage": ') + len('"usage": ')
    return body[:start] + usage_json + "}"


def lm_for(server: StubServer, retries: int = 0) -> OpenAICompatible:
    return OpenAICompatible("m", base_url=server.base_url, max_retries=retries, cache=False)


@pytest.mark.parametrize("case", sorted(BAD_USAGE))
def test_bad_usage_is_a_malformed_reply_with_the_text_kept(case):
    with StubServer() as server:
        server.queue(Fault.body(raw_body(BAD_USAGE[case])))
        with track_usage(report=False) as run:
            response = lm_for(server).complete(Request.of("hi"))
    failure = response.failure
    assert failure is not None and failure.kind == "malformed_reply"
    assert failure.raw_text == "hello"
    assert "usage" in failure.message
    assert response.usage.total_tokens == 0  # nothing made up
    assert run.summary().failed_calls == 1


@pytest.mark.parametrize("case", ["list", "huge", "negative", "usage_is_a_list"])
def test_bad_usage_async_is_a_malformed_reply(case):
    async def go():
        with StubServer() as server:
            server.queue(Fault.body(raw_body(BAD_USAGE[case])))
            return await lm_for(server).acomplete(Request.of("hi"))

    response = asyncio.run(go())
    assert response.failure is not None and response.failure.kind == "malformed_reply"
    assert response.failure.raw_text == "hello"


@pytest.mark.parametrize(
    "body, says",
    [
        ({**completion_body("x"), "choices": {"0": {"message": {"content": "x"}}}}, "no choices"),
        ({**completion_body("x"), "choices": ["just text"]}, "no text content"),
        ({**completion_body("x"), "choices": [{"message": {"content": 5}, "finish_reason": "stop"}]}, "no text"),
        ({**completion_body("x"), "choices": [{"message": None}]}, "no text content"),
        ({**completion_body("x"), "choices": [{"message": {"content": "x"}, "finish_reason": 7}]}, "finish_reason"),
    ],
)
def test_other_bad_fields_are_malformed_replies_sync_and_async(body, says):
    with StubServer() as server:
        server.queue(Fault.body(json.dumps(body)), Fault.body(json.dumps(body)))
        lm = lm_for(server)
        sync = lm.complete(Request.of("hi"))
        async_ = asyncio.run(lm.acomplete(Request.of("hi")))
    for response in (sync, async_):
        assert response.failure is not None and response.failure.kind == "malformed_reply"
        assert says in response.failure.message


def test_a_bad_reply_is_retried_and_the_next_good_one_counts():
    with StubServer(reply="fine") as server:
        server.queue(Fault.body(raw_body(BAD_USAGE["huge"])))
        response = lm_for(server, retries=1).complete(Request.of("hi"))
    assert response.ok and response.text == "fine" and response.usage.prompt_tokens == 5


def test_whole_floats_and_missing_usage_are_accepted():
    with StubServer() as server:
        server.queue(Fault.body(body_with_usage(prompt_tokens=7.0, completion_tokens=None)))
        body = completion_body("no usage")
        del body["usage"]
        server.queue(Fault.body(json.dumps(body)))
        lm = lm_for(server)
        first = lm.complete(Request.of("a"))
        second = lm.complete(Request.of("b"))
    assert first.ok and (first.usage.prompt_tokens, first.usage.completion_tokens) == (7, 0)
    assert second.ok and second.text == "no usage" and second.usage.total_tokens == 0


def test_read_completion_checks_dicts_as_llama_cpp_returns_them():
    good = completion_body("hi", model="local", prompt_tokens=4, completion_tokens=2)
    raw = read_completion(good, "default")
    assert (raw.text, raw.finish_reason, raw.prompt_tokens, raw.completion_tokens, raw.model) == (
        "hi", "stop", 4, 2, "local",
    )
    assert read_completion({**good, "model": ["x"]}, "default").model == "default"  # informational only
    with pytest.raises(MalformedReply, match="usage.prompt_tokens") as info:
        read_completion({**good, "usage": {"prompt_tokens": float("inf")}}, "m")
    assert info.value.text == "hi"
    for broken in ("<html>", None, [], {"choices": []}, {"choices": None}):
        with pytest.raises(MalformedReply):
            read_completion(broken, "m")


HOSTILE_BODIES = [
    "null", "[]", '"text"', "1e400", "{}", '{"choices": 5}', '{"choices": "abc"}', '{"choices": [5]}',
    '{"choices": [null]}', '{"choices": [[]]}', '{"choices": [{}]}', '{"choices": [{"message": "str"}]}',
    '{"choices": [{"message": {"content": ["a"]}}]}',
    '{"choices": [{"message": {"content": "x"}}], "usage": {"prompt_tokens": {"$": [1]}}}',
    '{"choices": [{"message": {"content": "x"}}], "usage": {"prompt_tokens": -1e400}}',
]


def test_no_hostile_body_makes_a_call_raise():
    async def both(lm):
        return [await lm.acomplete(Request.of("hi")) for _ in HOSTILE_BODIES]

    with StubServer() as server:
        lm = lm_for(server)
        server.queue(*(Fault.body(b) for b in HOSTILE_BODIES))
        sync = [lm.complete(Request.of("hi")) for _ in HOSTILE_BODIES]
        server.queue(*(Fault.body(b) for b in HOSTILE_BODIES))
        async_ = asyncio.run(both(lm))
    for body, response in zip(HOSTILE_BODIES * 2, sync + async_):
        assert response.failure is not None and response.failure.kind == "malformed_reply", body


def test_an_error_object_in_a_200_is_quoted():
    with StubServer() as server:
        server.queue(Fault.body('{"error": {"message": "model is loading"}}'))
        response = lm_for(server).complete(Request.of("hi"))
    assert response.failure.kind == "malformed_reply" and "model is loading" in response.failure.message
