from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, field_validator

from opto.llm import LMFailure, Request, ScriptedLM, extract_json, parse_reply
from opto.llm.structured import prepare, repair_request, response_format


class Suggestion(BaseModel):
    reasoning: str
    value: int = Field(ge=0)


@pytest.mark.parametrize(
    "text, expected",
    [
        ('{"a": 1}', {"a": 1}),
        ('  {"a": 1}\n', {"a": 1}),
        ('```json\n{"a": 1}\n```', {"a": 1}),
        ('Sure! Here it is:\n```\n{"a": [1, 2]}\n```\nHope it helps.', {"a": [1, 2]}),
        ('The answer is {"a": {"b": "}"}} as requested.', {"a": {"b": "}"}}),
        ('noise [1, 2] then {"a": 1}', {"a": 1}),  # objects win over arrays in prose
        ('"{\\"a\\": 1}"', {"a": 1}),  # double-encoded
        ("[1, 2, 3]", [1, 2, 3]),
        ('{"broken": 1 then {"a": 2}', {"a": 2}),
        ('{"x": 1} and later {"y": 2}', {"x": 1}),  # the first object wins
        ('{"bad1 {"bad2 {"a": {"x": 1}, "b": {"y": 2}} end', {"a": {"x": 1}, "b": {"y": 2}}),  # outermost
        ('see [1] and [2]', [1]),  # no object: the first other value
    ],
)
def test_extract_json_tolerates_wrapping(text, expected):
    assert extract_json(text) == expected


@pytest.mark.parametrize("text", ["", "no json here", "{not: json}", "[[[[", "```json\n{oops\n```"])
def test_extract_json_raises_value_error_only(text):
    with pytest.raises(ValueError):
        extract_json(text)


def test_parse_reply_validates_and_reports_fields():
    assert parse_reply('{"reasoning": "r", "value": 3}', Suggestion) == Suggestion(reasoning="r", value=3)
    bad = parse_reply('{"reasoning": "r", "value": -1}', Suggestion)
    assert isinstance(bad, LMFailure) and bad.kind == "schema"
    assert "value" in bad.message and "errors.pydantic.dev" not in bad.message
    assert bad.raw_text == '{"reasoning": "r", "value": -1}'
    assert "not JSON" in parse_reply("hello", Suggestion).message


def test_parse_reply_unwraps_single_key_wrapper():
    assert parse_reply('{"Suggestion": {"reasoning": "r", "value": 1}}', Suggestion).value == 1


def test_parse_reply_survives_a_raising_user_validator():
    class Picky(BaseModel):
        x: int

        @field_validator("x")
        @classmethod
        def boom(cls, v: int) -> int:
            raise RuntimeError("validator bug")

    assert isinstance(parse_reply('{"x": 1}', Picky), LMFailure)


def test_prepare_adds_schema_to_system_message():
    r = prepare(Request.of("q", system="sys", schema=Suggestion))
    assert r.messages[0]["content"].startswith("sys\n\n") and '"value"' in r.messages[0]["content"]
    r2 = prepare(Request.of("q", schema=Suggestion))
    assert r2.messages[0]["role"] == "system" and len(r2.messages) == 2
    plain = Request.of("q")
    assert prepare(plain) is plain


def test_response_format_dialects():
    r = Request.of("q", schema=Suggestion)
    assert response_format(r, "json_schema")["json_schema"]["schema"]["title"] == "Suggestion"
    assert response_format(r, "json_object") == {"type": "json_object", "schema": Suggestion.model_json_schema()}
    assert response_format(r, "prompt") is None
    assert response_format(Request.of("q", json_mode=True), "json_schema") == {"type": "json_object"}
    assert response_format(Request.of("q"), "json_schema") is None


def test_repair_request_quotes_error_and_reply():
    r = repair_request(Request.of("q"), "bad reply", "value: must be >= 0")
    assert r.messages[-2] == {"role": "assistant", "content": "bad reply"}
    assert "value: must be >= 0" in r.messages[-1]["content"]


def test_repair_turn_fixes_a_bad_reply():
    lm = ScriptedLM(["I think value is five", '{"reasoning": "fixed", "value": 5}'])
    resp = lm.complete(Request.of("q", schema=Suggestion))
    assert resp.ok and resp.parsed == Suggestion(reasoning="fixed", value=5)
    assert len(lm.requests) == 2 and "could not be used" in lm.requests[1].messages[-1]["content"]
    assert resp.usage.completion_tokens == 5 + 4  # both turns are counted


def test_still_bad_after_repair_is_a_typed_failure_not_an_exception():
    lm = ScriptedLM(["nope", '{"value": "x"}'])
    resp = lm.complete(Request.of("q", schema=Suggestion))
    assert not resp.ok and resp.parsed is None
    assert resp.failure.kind == "schema" and "after one repair" in resp.failure.message
    assert resp.text == '{"value": "x"}'


def test_repair_can_be_disabled():
    lm = ScriptedLM(["nope"], repair=False)
    assert lm.complete(Request.of("q", schema=Suggestion)).failure.kind == "schema"
    assert len(lm.requests) == 1


def test_transport_failure_is_not_repaired():
    lm = ScriptedLM([LMFailure("timeout", "slow")])
    resp = lm.complete(Request.of("q", schema=Suggestion))
    assert resp.failure.kind == "timeout" and len(lm.requests) == 1


class Answer(BaseModel):
    answer: int


def test_object_after_many_citations_is_found():
    """70 ``[i]`` citations used to exhaust a 64-position scan: "(root): Input should be a valid dictionary"."""
    text = "As shown in " + ", ".join(f"[{i}]" for i in range(70)) + ', the result is {"answer": 3}.'
    assert parse_reply(text, Answer) == Answer(answer=3)


@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_citation_heavy_prose_at_any_size(where):
    prose = " ".join(f"Claim {i} [{i}] (see {{ref}} and [{i}, {i + 1}])." for i in range(20_000))  # ~0.8 MB
    obj = '{"answer": 7}'
    text = {"start": obj + " " + prose, "middle": prose + " " + obj + " " + prose, "end": prose + " " + obj}[where]
    assert parse_reply(text, Answer) == Answer(answer=7)


def test_object_at_the_end_is_found_after_more_failed_starts_than_the_scan_budget():
    """The left-to-right scan gives up long before the end; the scan from the right finds it."""
    text = ('{"cite ' + "x" * 10) * 50_000 + ' so {"answer": 7}'
    assert parse_reply(text, Answer) == Answer(answer=7)


def test_only_arrays_is_a_clear_failure_not_a_dictionary_error():
    failure = parse_reply("Sources: [1] [2] [3]. No answer.", Answer)
    assert isinstance(failure, LMFailure) and failure.kind == "schema"
    assert "no JSON object" in failure.message and "valid dictionary" not in failure.message


def test_root_model_schemas_still_take_arrays():
    from pydantic import RootModel

    Scores = RootModel[list[int]]
    assert parse_reply("The scores are [3, 4, 5] as requested", Scores).root == [3, 4, 5]


@pytest.mark.parametrize(
    "text",
    [
        '{"a": ' * 20_000 + "[1," * 200_000,  # each start reads to the end: quadratic without a bound
        '{"a' * 300_000,  # 300k failing starts: json's error messages cost O(position) each
        "[" * 100_000 + "]" * 100_000,
        ('{"x": "' + "a" * 1000) * 1000,
    ],
)
def test_hostile_replies_stay_linear(text):
    """Generous bound (minutes before the scan was bounded by bytes; ~0.2 s now)."""
    import time

    t0 = time.perf_counter()
    assert isinstance(parse_reply(text, Answer), LMFailure)
    assert time.perf_counter() - t0 < 10
