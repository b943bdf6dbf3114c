"""The reply schema is built per step from the trainable variables: exact names, JSON types, order."""

from __future__ import annotations

import json

import pytest

from opto import trace
from opto.llm import ScriptedLM
from opto.llm.structured import response_format
from opto.optimizers import OPRO, OptoPrime
from opto.optimizers.prompt_format import resolve_format
from opto.optimizers.reply import OptimizerReply, for_variables, parse
from opto.trace import bundle


@bundle()
def use(*values):
    """Combine the values."""
    return str(values)


def _params():
    return (trace.node(1.5, trainable=True, name="x"), trace.node(3, trainable=True, name="n"),
            trace.node(True, trainable=True, name="flag"), trace.node("be brief", trainable=True, name="prompt"))


def _schema(opt, *params) -> dict:
    lm = opt.lm
    opt.zero_feedback()
    opt.backward(use(*params), "improve", score=0.1) if isinstance(opt, OPRO) else opt.backward(use(*params), "improve")
    opt.step()
    request = lm.requests[-1]
    assert issubclass(request.schema, OptimizerReply)
    return request.schema.model_json_schema()


@pytest.mark.parametrize("cls", [OptoPrime, OPRO])
def test_schema_names_exactly_the_variables_with_their_types(cls) -> None:
    params = _params()
    opt = cls(list(params), lm=ScriptedLM(['{"reasoning": "r", "suggestion": {}}']))
    schema = _schema(opt, *params)
    suggestion = schema["properties"]["suggestion"]
    names = [p.py_name for p in params]
    assert list(suggestion["properties"]) == names and suggestion["required"] == names
    assert [suggestion["properties"][n]["type"] for n in names] == ["number", "integer", "boolean", "string"]
    assert suggestion["additionalProperties"] is False and schema["additionalProperties"] is False
    assert "title" not in json.dumps(schema)  # nothing a small model could echo as a variable name
    assert "maxLength" not in schema["properties"]["reasoning"]  # API models: reasoning first, uncapped
    assert list(schema["properties"]) == ["reasoning", "suggestion"] == schema["required"]


def test_compact_reply_puts_the_suggestion_first_and_caps_reasoning() -> None:
    x = trace.node(-7.3, trainable=True, name="x")
    code = trace.node("def f(a):\n    return a\n", trainable=True, name="__code")
    lm = ScriptedLM(['{"suggestion": {"x0": 3.0}, "reasoning": "r"}'])
    opt = OptoPrime([x, code], lm=lm, compact_reply=True, max_reasoning_chars=120, max_tokens=10)
    schema = _schema(opt, x)  # only x received feedback: only x is in the prompt and the schema
    assert list(schema["properties"]) == ["suggestion", "reasoning"] == schema["required"]
    assert schema["properties"]["reasoning"] == {"type": "string", "maxLength": 120}
    assert list(schema["properties"]["suggestion"]["properties"]) == [x.py_name]
    assert lm.requests[-1].max_tokens > 10 + 120 // 3  # max_tokens raised to fit the required values
    assert x.data == 3.0
    # llama-cpp-python's dialect carries this schema verbatim
    assert response_format(lm.requests[-1], "json_object") == {"type": "json_object", "schema": schema}


def test_code_is_a_string_and_other_values_are_untyped() -> None:
    model = for_variables([("__code0", "def f(): pass", True), ("xs", [1, 2], False)], suggestion_first=True,
                          max_reasoning_chars=50)
    props = model.model_json_schema()["properties"]["suggestion"]["properties"]
    assert props == {"__code0": {"type": "string", "maxLength": 2 * 13 + 200}, "xs": {}}  # new text fits the budget
    wide = for_variables([("__code0", "def f(): pass", True)])
    assert wide.model_json_schema()["properties"]["suggestion"]["properties"] == {"__code0": {"type": "string"}}


def test_validation_stays_lenient_for_models_that_ignore_the_schema() -> None:
    model = for_variables([("x0", 1.0, False)], suggestion_first=True, max_reasoning_chars=10)
    reply = model.model_validate({"reasoning": "a" * 500, "suggestion": {"x0": "2", "other": 1}, "answer": 3})
    assert reply.suggestion == {"x0": "2", "other": 1}  # the checks convert "2" and reject "other" by name


def test_trace_opt_json_reply_is_still_read() -> None:
    x = trace.node(1.0, trainable=True, name="x")
    lm = ScriptedLM(['```json\n{"reasoning": "bigger", "answer": "", "suggestion": {"x0": "4"}}\n```'])
    opt = OptoPrime([x], lm=lm, structured=False)
    opt.zero_feedback()
    opt.backward(use(x), "improve")
    assert opt.step() == {x: 4.0}


def test_reply_cut_off_in_its_reasoning_keeps_the_suggestion() -> None:
    fmt = resolve_format(None, None)
    cut = parse('{"suggestion": {"x0": 3.5, "n0": 2}, "reasoning": "because the out', fmt, finish_reason="length")
    assert cut.error is None and cut.suggestion == {"x0": 3.5, "n0": 2}
    for text in ('{"suggestion": {"x0": 3.', '{"reasoning": "long", "suggestion": {"x0": 2}', '{"suggestion": {}, "r'):
        assert "truncated" in parse(text, fmt, finish_reason="length").error


def test_raw_newline_in_the_reasoning_does_not_lose_the_reply() -> None:
    fmt = resolve_format(None, None)  # llama.cpp's JSON grammar lets a string hold a raw newline
    reply = parse('{"suggestion": {"x0": 0.3}, "reasoning": "smaller}}\n\nYour response:\n{"}', fmt)
    assert reply.error is None and reply.suggestion == {"x0": 0.3}
    broken = parse('{"suggestion": {"x0": "1"}, "reasoning": "cut "here" "}', fmt)
    assert broken.suggestion == {"x0": "1"}  # the last-resort reader skips the reply's own keys


def test_opro_refuses_a_reply_that_only_repeats_the_current_values() -> None:
    x = trace.node(-7.3, trainable=True, name="x")
    lm = ScriptedLM(['{"suggestion": {"x0": -7.3}, "reasoning": "r"}'] * 3 + ['{"suggestion": {"x0": 2.0}, "reasoning": "r"}'])
    opt = OPRO([x], lm=lm)
    for _ in range(4):
        opt.zero_feedback()
        opt.backward(use(x), "too small", score=-106.1)
        opt.step()
    first, second, repeat, third = opt.log
    assert repeat["rejected"][0]["reason"].count("already rejected") == 1  # no chain of repeats
    assert first["applied"] == {} and "already tried at step 1 (score -106.1)" in first["rejected"][0]["reason"]
    assert "already tried" in lm.requests[1].messages[-1]["content"]  # fed back with the reason
    assert second["rejected"][0]["reason"].startswith("this value was already rejected at step 1: this is the current")
    assert third["applied"] == {"x0": 2.0} and x.data == 2.0
