"""Fuzz the reply parser: whatever a model (or a broken server) sends, no unhandled exception."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from opto.llm import LMFailure, extract_json, parse_reply


class Reply(BaseModel):
    reasoning: str
    answer: int = Field(ge=0, le=100)
    tags: list[str] = []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
near_valid = st.fixed_dictionaries(
    {"reasoning": st.text(max_size=30), "answer": st.integers(-50, 150)},
    optional={"tags": st.lists(st.text(max_size=5), max_size=3), "extra": json_values},
)
wrappers = st.sampled_from(["{}", "```json\n{}\n```", "Here you go: {} thanks", "```\n{}", "{}```", '"{}"', "{}}}"])


citation = st.one_of(
    st.integers(0, 999).map(lambda i: f"[{i}]"),
    st.lists(st.integers(0, 99), min_size=1, max_size=3).map(lambda xs: json.dumps(xs)),
    st.sampled_from(["{ref}", "{", "}", "[", "]", "{}", "[]", '{"', '"}', "[see above]", "{x: 1}", "`{}`"]),
)
words = st.text(alphabet="abc xyz.,;:'\"()\n", max_size=12)


@st.composite
def bracket_prose(draw) -> str:
    """Prose full of citations and stray brackets, sometimes with the reply object somewhere in it."""
    parts = draw(st.lists(st.one_of(words, citation), max_size=120))
    if draw(st.booleans()):
        obj = json.dumps({"reasoning": draw(st.text(max_size=20)), "answer": draw(st.integers(0, 100))})
        parts.insert(draw(st.integers(0, len(parts))), obj)
    return " ".join(parts)


@st.composite
def replies(draw) -> str:
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return draw(st.text(max_size=200))
    if kind == 5:
        return draw(bracket_prose())
    if kind == 1:
        return draw(st.text(alphabet='{}[]":,\\ `\nabc0123-.etrufaln', max_size=200))
    body = json.dumps(draw(near_valid if kind in (2, 3) else json_values))
    if kind == 3:  # cut it anywhere: truncated replies
        body = body[: draw(st.integers(0, len(body)))]
    return draw(wrappers).replace("{}", body, 1)


@settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(replies())
def test_parse_reply_never_raises(text: str):
    result = parse_reply(text, Reply)
    assert isinstance(result, (Reply, LMFailure))
    if isinstance(result, LMFailure):
        assert result.kind == "schema" and result.message


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(replies())
def test_extract_json_raises_only_value_error(text: str):
    try:
        extract_json(text)
    except ValueError:
        pass


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(near_valid)
def test_valid_objects_round_trip_in_any_wrapper(obj):
    obj = {"reasoning": obj["reasoning"], "answer": abs(obj["answer"]) % 101}
    for wrapper in ["{}", "```json\n{}\n```", "Answer: {} (done)"]:
        parsed = parse_reply(wrapper.replace("{}", json.dumps(obj), 1), Reply)
        assert isinstance(parsed, Reply) and parsed.answer == obj["answer"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(words, citation), max_size=150), st.integers(0, 100), st.data())
def test_the_object_is_found_in_any_bracket_heavy_prose(parts, answer, data):
    obj = json.dumps({"reasoning": "r", "answer": answer})
    parts.insert(data.draw(st.integers(0, len(parts))), obj)
    text = " ".join(parts)
    parsed = parse_reply(text, Reply)
    if isinstance(parsed, LMFailure):  # only when the prose itself holds an earlier object (e.g. "{}")
        first = extract_json(text)
        assert isinstance(first, dict) and first != json.loads(obj) and "{" in text[: text.index(obj)]
    else:
        assert parsed.answer == answer


def test_deeply_nested_input_is_a_failure_not_a_crash():
    assert isinstance(parse_reply("[" * 100_000 + "]" * 100_000, Reply), LMFailure)
    assert isinstance(parse_reply("{" * 50_000, Reply), LMFailure)
