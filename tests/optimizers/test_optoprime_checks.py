"""What OptoPrime does with replies: conversion, code checks, rejections fed back, TERMINATE, truncation."""

from __future__ import annotations

import json

import pytest

from opto import trace
from opto.llm import ScriptedLM
from opto.optimizers import OptoPrime
from opto.optimizers.checks import Rejected, check_code, convert
from opto.trace import bundle

from .conftest import FakeLM


@bundle()
def use(*values):
    """Combine the values."""
    return str(values)


def _step(opt: OptoPrime, *params) -> dict:
    opt.zero_feedback()
    opt.backward(use(*params), "improve")
    return opt.step()


def _reply(**suggestion) -> str:
    return json.dumps({"reasoning": "r", "suggestion": suggestion})


@pytest.mark.parametrize(("current", "given", "expected"), [
    (1.0, "2.5", 2.5), (1.0, 3, 3.0), (1, "4", 4), (1, 5.0, 5), (True, "false", False),
    ("s", 12, "12"), ([1], "[1, 2]", [1, 2]), ({"a": 1}, '{"b": 2}', {"b": 2}), ((1,), [1, 2], (1, 2)),
    ([1], "['x', 'y']", ["x", "y"]), (None, {"any": 1}, {"any": 1}),
])
def test_conversion_to_the_parameter_type(current, given, expected) -> None:
    out = convert(current, given)
    assert out == expected and type(out) is type(expected)


@pytest.mark.parametrize(("current", "given", "reason"), [
    (1, 3.7, "whole number"), (1.0, "abc", "cannot be converted to float"), (1.0, "nan", "finite"),
    ([1], "{'a': 1}", "is a dict"), (True, "maybe", "true or false"),
])
def test_conversion_failures_say_why(current, given, reason) -> None:
    with pytest.raises(Rejected, match=reason):
        convert(current, given)


OLD = "def f(a, b=2):\n    return a + b\n"


@pytest.mark.parametrize(("code", "reason"), [
    ("def g(a, b=2):\n    return a", "keep its name 'f'"),
    ("def f(a):\n    return a", "keep its signature"),
    ("def f(a, b=2):\n    return (a +", "does not parse"),
    ("x = 1", "define the function"),
    ("", "empty"),
    ("```python\ndef f(a, b=2):\n    return a", "never closed"),
    ("def f(a, b=2):\n    return a\n    nonlocal q", "does not"),
])
def test_code_checks(code, reason) -> None:
    with pytest.raises(Rejected, match=reason):
        check_code(OLD, code)


def test_code_passes_with_annotations_and_fences() -> None:
    assert check_code(OLD, "def f(a: int, b: int = 2) -> int:\n    return a * b") .startswith("def f")
    assert check_code(OLD, "```python\ndef f(a, b=2):\n    return a * b\n```") == "def f(a, b=2):\n    return a * b"
    with pytest.raises(Rejected, match="fenced"):
        check_code(OLD, "def f(a, b=2):\n    return a", fence_required=True)


def test_valid_values_applied_invalid_rejected_and_fed_back_with_reason() -> None:
    x = trace.node(1.0, trainable=True, name="x")
    n = trace.node(3, trainable=True, name="n")
    lm = ScriptedLM([_reply(x0="2.5", n0="lots"), _reply(n0="lots"), _reply(n0=7)])
    opt = OptoPrime([x, n], lm=lm)
    applied = _step(opt, x, n)
    assert applied == {x: 2.5} and x.data == 2.5 and n.data == 3
    entry = opt.log[-1]
    assert entry["applied"] == {"x0": 2.5}
    assert entry["rejected"] == [{"param": "n0", "value": "lots", "reason": entry["rejected"][0]["reason"]}]
    assert "cannot be converted to int" in entry["rejected"][0]["reason"]
    # next step: the prompt names the rejected proposal and why; repeating it is refused
    assert _step(opt, x, n) == {}
    prompt = opt.log[-1]["prompt"]
    assert "were rejected and NOT applied" in prompt
    assert "n0 = 'lots'" in prompt and "cannot be converted to int" in prompt
    assert "already rejected at step 1" in opt.log[-1]["rejected"][0]["reason"]
    assert _step(opt, x, n) == {n: 7} and n.data == 7


def test_code_parameter_rewritten_and_runs() -> None:
    @bundle(trainable=True)
    def double(a):
        """Return twice a."""
        return a * 2

    bad = _reply(__code0="def triple(a):\n    return a * 3")
    good = _reply(__code0="def double(a):\n    return a * 3")
    opt = OptoPrime([double.parameter], lm=ScriptedLM([bad, good]))
    for _ in range(2):
        opt.zero_feedback()
        opt.backward(double(trace.node(2)), "should be 6")
        opt.step()
    assert "keep its name 'double'" in opt.log[0]["rejected"][0]["reason"]
    assert "keep its name 'double'" in opt.log[1]["prompt"]
    assert double(trace.node(2)).data == 6


@pytest.mark.parametrize("reply", ["TERMINATE", '{"reasoning": "all good", "suggestion": {}}',
                                   '{"reasoning": "done", "answer": "", "suggestion": {}} TERMINATE'])
def test_terminate_or_empty_suggestion_changes_nothing(reply) -> None:
    x = trace.node(1.0, trainable=True, name="x")
    opt = OptoPrime([x], lm=ScriptedLM([reply], repair=False))
    assert _step(opt, x) == {}
    assert x.data == 1.0 and opt.log[-1]["terminate"] is True and opt.log[-1]["rejected"] == []


def test_truncated_reply_rejected_and_reported() -> None:
    x = trace.node(1.0, trainable=True, name="x")
    lm = FakeLM([('{"reasoning": "long...", "suggestion": {"x0": 2', "length"), (_reply(x0=5.0), "stop")])
    opt = OptoPrime([x], lm=lm)
    assert _step(opt, x) == {} and x.data == 1.0
    assert "truncated" in opt.log[-1]["rejected"][0]["reason"]
    assert _step(opt, x) == {x: 5.0}
    assert "the whole reply: the reply was cut off" in opt.log[-1]["prompt"]


def test_think_leakage() -> None:
    x = trace.node(1.0, trainable=True, name="x")
    s = trace.node("hello", trainable=True, name="s")
    lm = ScriptedLM(["<think>I should pick 2 but", f"<think>ok</think>{_reply(x0=2.0)}",
                     _reply(s0="<think>hmm</think> hi")], repair=False)
    opt = OptoPrime([x, s], lm=lm)
    assert _step(opt, x, s) == {}
    assert "<think>" in opt.log[-1]["rejected"][0]["reason"]
    assert _step(opt, x, s) == {x: 2.0}
    assert _step(opt, x, s) == {}
    assert "reasoning tags" in opt.log[-1]["rejected"][0]["reason"] and s.data == "hello"


def test_xml_reply_and_fence_required_for_code() -> None:
    @bundle(trainable=True)
    def inc(a):
        return a + 1

    x = trace.node(1.0, trainable=True, name="x")
    unfenced = ("<reasoning>r</reasoning>\n<variable>\n<name>__code0</name>\n<value>\ndef inc(a):\n    return a + 2\n"
                "</value>\n</variable>\n<variable><name>x0</name><value>4.5</value></variable>")
    fenced = "<variable><name>__code0</name><value>\n```python\ndef inc(a):\n    return a + 2\n```\n</value></variable>"
    opt = OptoPrime([inc.parameter, x], lm=ScriptedLM([unfenced, fenced]), prompt_format="xml")
    for _ in range(2):
        opt.zero_feedback()
        opt.backward(inc(x), "bigger")
        opt.step()
    first = opt.log[0]
    assert first["applied"] == {"x0": 4.5} and "fenced" in first["rejected"][0]["reason"]
    assert opt.log[1]["applied"] == {"__code0": "def inc(a):\n    return a + 2"}
    assert inc(trace.node(1)).data == 3


def test_trace_opt_broken_json_fallback_and_unparseable_reply() -> None:
    x = trace.node("a", trainable=True, name="x")
    lm = ScriptedLM(['{"reasoning": "r" "suggestion": {"x0": "new text",\n}', "I think it is fine as is."],
                    repair=False)
    opt = OptoPrime([x], lm=lm)
    assert _step(opt, x) == {x: "new text"}
    assert _step(opt, x) == {}
    assert "no suggestion could be read" in opt.log[-1]["rejected"][0]["reason"]


def test_model_failure_does_not_stop_the_run() -> None:
    from opto.llm import LMFailure

    x = trace.node(1.0, trainable=True, name="x")
    opt = OptoPrime([x], lm=ScriptedLM([LMFailure("timeout", "took too long"), _reply(x0=2.0)]))
    assert _step(opt, x) == {}
    assert "timeout" in opt.log[-1]["model_error"]
    assert _step(opt, x) == {x: 2.0}
    assert "NOT applied" not in opt.log[-1]["prompt"]  # transport trouble is not the model's mistake


def test_state_dict_keeps_memory_and_rejections() -> None:
    x = trace.node(1.0, trainable=True, name="x")
    opt = OptoPrime([x], lm=ScriptedLM([_reply(x0="bad")]), memory_size=3)
    _step(opt, x)
    state = json.loads(json.dumps(opt.state_dict()))
    other = OptoPrime([x], lm=ScriptedLM([_reply(x0="bad")]), memory_size=3)
    other.load_state_dict(state)
    assert other.steps == 1 and len(other.memory) == 1 and len(other.rejections) == 1
    _step(other, x)
    assert "already rejected at step 1" in other.log[-1]["rejected"][0]["reason"]


def test_no_feedback_warns_and_calls_no_model() -> None:
    x = trace.node(1.0, trainable=True, name="x")
    lm = ScriptedLM([])
    opt = OptoPrime([x], lm=lm)
    with pytest.warns(UserWarning, match="backward"):
        assert opt.step() == {}
    assert lm.requests == []


def test_structured_reply_through_the_schema_with_one_repair() -> None:
    from opto.optimizers.reply import OptimizerReply

    x = trace.node(1.0, trainable=True, name="x")
    lm = ScriptedLM(["I would go with 2", _reply(x0=2.0)])  # not JSON -> the LLM layer asks for a repair
    opt = OptoPrime([x], lm=lm)
    assert _step(opt, x) == {x: 2.0}
    assert issubclass(lm.requests[0].schema, OptimizerReply) and len(lm.requests) == 2
    assert "JSON schema" in lm.requests[0].messages[0]["content"]


def test_xml_layout_sends_no_schema_and_structured_false_sends_json_mode() -> None:
    x = trace.node(1.0, trainable=True, name="x")
    lm = ScriptedLM(["<variable><name>x0</name><value>3</value></variable>", _reply(x0=4.0)])
    xml = OptoPrime([x], lm=lm, prompt_format="xml")
    assert _step(xml, x) == {x: 3.0}
    plain = OptoPrime([x], lm=lm, structured=False)
    assert _step(plain, x) == {x: 4.0}
    assert lm.requests[0].schema is None and not lm.requests[0].json_mode
    assert lm.requests[1].schema is None and lm.requests[1].json_mode


def test_reply_without_a_suggestion_is_rejected_not_taken_as_no_change() -> None:
    x = trace.node(1.0, trainable=True, name="x")
    lm = ScriptedLM(['{"reasoning": "the output is large"}', '{"description": "a schema echoed back"}'])
    opt = OptoPrime([x], lm=lm)  # the LLM layer's repair turn gets the second reply, which fails too
    assert _step(opt, x) == {}
    entry = opt.log[-1]
    assert entry["terminate"] is False and 'whose "suggestion" maps' in entry["rejected"][0]["reason"]
    assert len(lm.requests) == 2
