"""What OptoPrime shows the model: sections, every call, constraints, memory, shortening, token cap."""

from __future__ import annotations

import json
import time

from opto import trace
from opto.llm import ScriptedLM
from opto.optimizers import OptoPrime
from opto.trace import bundle

NO_CHANGE = '{"reasoning": "fine", "suggestion": {}}'


@bundle()
def scale(a, b):
    """Multiply a by b."""
    return a * b


def _step(opt: OptoPrime, output, feedback: str) -> dict:
    opt.zero_feedback()
    opt.backward(output, feedback)
    return opt.step()


def test_sections_in_order_and_every_call_of_a_reused_parameter() -> None:
    x = trace.node(-1.0, trainable=True, name="x", constraint="x must stay in [-10, 10]")
    outs = [scale(x, trace.node(float(i), name=f"c{i}")) for i in range(5)]
    total = outs[0]
    for o in outs[1:]:
        total = total + o
    lm = ScriptedLM([NO_CHANGE])
    opt = OptoPrime([x], lm=lm)
    _step(opt, total, "make it bigger")
    prompt = opt.log[-1]["prompt"]
    titles = ["#Instruction", "#Code", "#Documentation", "#Variables", "#Constraints", "#Inputs", "#Others",
              "#Outputs", "#Feedback"]
    positions = [prompt.index(t + "\n") for t in titles]
    assert positions == sorted(positions)
    code = prompt.split("#Code\n")[1].split("\n\n#Documentation")[0].splitlines()
    scale_calls = [line for line in code if "= scale(" in line]
    assert len(scale_calls) == 5  # every call, including the first K-1
    for i in range(5):
        assert f"scale(a=x0, b=c{i}0)" in prompt
    assert "(float) x0=-1.0" in prompt.split("#Variables\n")[1].split("#Constraints")[0]
    assert "(float) x0: x must stay in [-10, 10]" in prompt
    inputs = prompt.split("#Inputs\n")[1].split("#Others")[0]
    assert all(f"c{i}0=" in inputs for i in range(5)) and "scale" not in inputs
    outputs = prompt.split("#Outputs\n")[1].split("#Feedback")[0].strip().splitlines()
    assert outputs == [f"(float) {total.py_name}=-10.0"]
    assert "[scale] Multiply a by b." in prompt
    assert prompt.split("#Feedback\n")[1].startswith("make it bigger")


def test_memory_shows_past_rounds_up_to_memory_size() -> None:
    x = trace.node(1.0, trainable=True, name="x")
    lm = ScriptedLM(['{"suggestion": {"x0": 2.0}}', '{"suggestion": {"x0": 3.0}}', NO_CHANGE, NO_CHANGE])
    opt = OptoPrime([x], lm=lm, memory_size=2)
    for fb in ("round one", "round two", "round three", "round four"):
        _step(opt, scale(x, trace.node(2.0)), fb)
    assert "Earlier rounds" not in opt.log[0]["prompt"]
    second = opt.log[1]["prompt"]
    assert '"feedback": "round one"' in second and '"x0": 1.0' in second
    fourth = opt.log[3]["prompt"]
    assert '"feedback": "round one"' not in fourth  # only the last two rounds
    assert '"feedback": "round two"' in fourth and '"feedback": "round three"' in fourth
    assert x.data == 3.0


def test_long_values_are_shortened_with_a_marker_and_limit_is_configurable() -> None:
    x = trace.node("p", trainable=True, name="prompt")
    long_input = trace.node("y" * 5000, name="doc")
    out = x + long_input
    opt = OptoPrime([x], lm=ScriptedLM([NO_CHANGE]), value_limit=300)
    _step(opt, out, "shorter")
    prompt = opt.log[-1]["prompt"]
    assert "characters omitted]" in prompt
    assert "y" * 5000 not in prompt and "y" * 150 in prompt
    opt2 = OptoPrime([x], lm=ScriptedLM([NO_CHANGE]), value_limit=None)
    out = x + long_input
    _step(opt2, out, "shorter")
    assert "y" * 5000 in opt2.log[-1]["prompt"]


def test_trainable_values_are_never_shortened() -> None:
    x = trace.node("z" * 4000, trainable=True, name="prompt")
    opt = OptoPrime([x], lm=ScriptedLM([NO_CHANGE]), value_limit=100)
    _step(opt, x + "!", "fb")
    assert "z" * 4000 in opt.log[-1]["prompt"]


def test_token_cap_trims_others_first() -> None:
    x = trace.node(1.0, trainable=True, name="x")
    y = x
    for _ in range(60):
        y = scale(y, trace.node(1.0, name="one"))
    full = OptoPrime([x], lm=ScriptedLM([NO_CHANGE]))
    _step(full, y, "fb")
    size = full.log[-1]["prompt_tokens_estimate"]
    y = x
    for _ in range(60):
        y = scale(y, trace.node(1.0, name="one"))
    capped = OptoPrime([x], lm=ScriptedLM([NO_CHANGE]), max_prompt_tokens=size - 200)
    _step(capped, y, "fb")
    entry = capped.log[-1]
    assert entry["prompt_tokens_estimate"] <= size - 200
    assert entry["trimmed"].get("others", 0) > 0 and "inputs" not in entry["trimmed"]
    assert "more value(s) omitted to fit the prompt limit" in entry["prompt"]
    assert entry["prompt"].count("= scale(") == 60  # code is kept whole


def test_xml_layout_and_prompt_symbols() -> None:
    x = trace.node(1.0, trainable=True, name="x")
    opt = OptoPrime([x], lm=ScriptedLM(["TERMINATE"], repair=False), prompt_format="xml")
    _step(opt, scale(x, trace.node(3.0)), "fb")
    prompt = opt.log[-1]["prompt"]
    assert '<variable name="x0" type="float">\n<value>\n1.0\n</value>\n</variable>' in prompt
    assert "# Variables" in prompt and "<reasoning>" in opt.log[-1]["system_prompt"]
    renamed = OptoPrime([x], lm=ScriptedLM([NO_CHANGE]), prompt_symbols={"variables": "#Params"})
    _step(renamed, scale(x, trace.node(3.0)), "fb")
    assert "#Params\n(float) x0=1.0" in renamed.log[-1]["prompt"]
    assert "#Params" in renamed.log[-1]["system_prompt"]


def test_mask_empties_sections() -> None:
    x = trace.node(1.0, trainable=True, name="x")
    opt = OptoPrime([x], lm=ScriptedLM([NO_CHANGE]))
    opt.zero_feedback()
    opt.backward(scale(x, trace.node(3.0)), "fb")
    system, user = opt.construct_prompt(opt.summarize(), mask=["#Others", "#Code"])
    assert "#Code\n\n\n#Documentation" in user and "scale(a=" not in user and "#Instruction" in system


def test_exception_node_shows_failing_code_and_message() -> None:
    @bundle(trainable=True)
    def divide(a):
        """Divide 10 by a."""
        return 10 / a

    lm = ScriptedLM([NO_CHANGE])
    opt = OptoPrime([divide.parameter], lm=lm)
    try:
        divide(trace.node(0))
        raise AssertionError("should raise")
    except trace.ExecutionError as e:
        opt.zero_feedback()
        opt.backward(e.exception_node, e.exception_node.create_feedback())
    opt.step()
    prompt = opt.log[-1]["prompt"]
    outputs = prompt.split("#Outputs\n")[1].split("#Feedback")[0]
    assert "ZeroDivisionError" in outputs and "division by zero" in outputs
    assert "return 10 / a" in prompt  # the failing code
    assert "(code) __code0:def divide(a):" in prompt
    assert "= eval(a=" in prompt.split("#Code\n")[1].split("#Documentation")[0]


def test_prompt_building_is_linear_and_fast_at_depth_2000() -> None:
    x = trace.node(1.0, trainable=True, name="x")
    y = x
    for _ in range(2000):
        y = y + x
    opt = OptoPrime([x], lm=ScriptedLM([NO_CHANGE]))
    opt.zero_feedback()
    opt.backward(y, "fb")
    t0 = time.perf_counter()
    opt.step()
    elapsed = time.perf_counter() - t0
    assert opt.log[-1]["prompt"].count("= add(") == 2000
    assert elapsed < 2.0, elapsed


def test_log_is_json_and_complete() -> None:
    x = trace.node(1.0, trainable=True, name="x")
    opt = OptoPrime([x], lm=ScriptedLM(['{"reasoning": "up", "suggestion": {"x0": 4, "nope": 1}}']))
    _step(opt, scale(x, trace.node(3.0)), "fb")
    entry = json.loads(json.dumps(opt.log))[-1]
    assert entry["applied"] == {"x0": 4.0} and entry["proposed"] == {"x0": 4.0}
    assert entry["reasoning"] == "up" and entry["reply"].startswith('{"reasoning"')
    assert entry["usage"]["prompt_tokens"] > 0 and entry["usage"]["completion_tokens"] > 0
    assert entry["rejected"][0]["param"] == "nope" and "not a variable" in entry["rejected"][0]["reason"]
    assert entry["user_prompt"] == entry["prompt"] and entry["response"] == entry["reply"]


def test_include_example_in_both_layouts() -> None:
    for fmt, marker in (("json", '"suggestion": {"a0": 14}'), ("xml", "<name>a0</name>")):
        x = trace.node(1.0, trainable=True, name="x")
        opt = OptoPrime([x], lm=ScriptedLM([NO_CHANGE]), include_example=True, prompt_format=fmt)
        _step(opt, scale(x, trace.node(2.0)), "fb")
        prompt = opt.log[-1]["prompt"]
        assert prompt.index("An example problem") < prompt.index("The problem:") and marker in prompt


def test_strict_extraction_raises() -> None:
    import pytest

    x = trace.node(1.0, trainable=True, name="x")
    opt = OptoPrime([x], lm=ScriptedLM(['{"suggestion": {"x0": "abc"}}']), ignore_extraction_error=False)
    opt.zero_feedback()
    opt.backward(scale(x, trace.node(2.0)), "fb")
    with pytest.raises(ValueError, match="cannot be converted"):
        opt.step()


def test_round_robin_chain_shows_every_call() -> None:
    """The shape where trace-opt 0.1.3.8 drops the first K-1 calls (see docs/benchmarks/optimizers.md)."""
    params = [trace.node(float(i), trainable=True, name=f"w{i}") for i in range(3)]
    y = trace.node(1.0, name="start")
    for i in range(12):
        y = scale(y, params[i % 3])
    opt = OptoPrime(params, lm=ScriptedLM([NO_CHANGE]))
    _step(opt, y, "fb")
    prompt = opt.log[-1]["prompt"]
    code = prompt.split("#Code\n")[1].split("\n\n#Documentation")[0].splitlines()
    assert len(code) == 12 and code[0] == "scale0 = scale(a=start0, b=w00)"
    inputs = prompt.split("#Inputs\n")[1].split("\n\n#Others")[0].splitlines()
    assert inputs == ["(float) start0=1.0"]  # no call output passed off as a fixed input
    variables = prompt.split("#Variables\n")[1].split("\n\n#Constraints")[0].splitlines()
    assert variables == ["(float) w00=0.0", "(float) w10=1.0", "(float) w20=2.0"]
