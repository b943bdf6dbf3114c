"""OPRO (history of values and scores, no graph) and TextGrad (per-node textual gradients)."""

from __future__ import annotations

import json

import pytest

from opto import trace
from opto.llm import Request, ScriptedLM
from opto.optimizers import OPRO, TextGrad
from opto.trace import bundle


def _reply(**suggestion) -> str:
    return json.dumps({"reasoning": "r", "suggestion": suggestion})


def test_opro_history_sorted_by_score_and_no_graph_needed() -> None:
    x = trace.node(1.0, trainable=True, name="x", constraint="x > 0")
    lm = ScriptedLM([_reply(x0=2.0), _reply(x0=0.5), _reply(x0="big")])
    opt = OPRO([x], lm=lm)
    opt.backward(None, "too small", score=0.1)  # no output node needed
    assert opt.step() == {x: 2.0}
    opt.observe("better", score=0.9)
    opt.step()
    opt.observe(0.3)  # a bare number is the score
    assert opt.step() == {}
    prompt = opt.log[-1]["prompt"]
    tried = prompt.split("Values tried so far, worst first:\n")[1]
    order = [json.loads(line)["score"] for line in tried.splitlines() if line.startswith("{")]
    assert order == [0.1, 0.3, 0.9]
    assert "x0: x > 0" in prompt and "(float) x0=0.5" in prompt
    assert "#Code" not in prompt
    assert "cannot be converted to float" in opt.log[-1]["rejected"][0]["reason"]
    state = json.loads(json.dumps(opt.state_dict()))
    assert len(state["history"]) == 3


def test_opro_without_feedback_warns() -> None:
    x = trace.node(1.0, trainable=True)
    opt = OPRO([x], lm=ScriptedLM([]))
    with pytest.warns(UserWarning, match="observe"):
        assert opt.step() == {}


@bundle()
def render(template, name):
    """Fill the template with the name."""
    return template.replace("{name}", name)


@bundle()
def shout(text):
    """Upper-case the text."""
    return text.upper()


def test_textgrad_gradients_flow_back_and_aggregate_at_the_parameter() -> None:
    tmpl = trace.node("hi {name}", trainable=True, name="tmpl")
    seen: list[str] = []

    def model(request: Request) -> str:
        user = str(request.messages[-1]["content"])
        seen.append(user)
        if user.startswith("Call:"):
            call = user.split("\n")[1]
            if "shout(" in call:  # gradient for shout's input
                target = call.split("text=")[1].rstrip(")")
                return json.dumps({target: "the greeting should be polite"})
            return json.dumps({"tmpl0": f"from {call.split(' =')[0]}: say hello"})
        return _reply(tmpl0="Hello {name}")

    out1 = shout(render(tmpl, trace.node("ana")))
    out2 = render(tmpl, trace.node("bo"))
    total = out1 + out2
    opt = TextGrad([tmpl], lm=ScriptedLM(model))
    opt.zero_feedback()
    opt.backward(total, "too rude")
    assert opt.step() == {tmpl: "Hello {name}"}
    entry = opt.log[-1]
    assert entry["gradient_calls"] == 4  # add, shout, render x2
    grads = entry["gradients"]["tmpl0"]
    assert len(grads) == 2 and all("say hello" in g for g in grads)  # one per use, both kept
    update = entry["prompt"]
    assert "Feedback on tmpl0:" in update and update.count("say hello") == 2
    shout_prompt = next(s for s in seen if "= shout(" in s.split("\n")[1])
    assert "too rude" in shout_prompt  # the output's feedback reaches the first call back


def test_textgrad_call_cap_passes_feedback_through() -> None:
    x = trace.node("a", trainable=True, name="x")
    y = x
    for _ in range(5):
        y = shout(y)
    lm = ScriptedLM(lambda r: json.dumps({"shout0": "g"}) if "Call:" in str(r.messages[-1]["content"])
                    else _reply(x0="b"))
    opt = TextGrad([x], lm=lm, max_gradient_calls=2)
    opt.zero_feedback()
    opt.backward(y, "fb")
    opt.step()
    assert opt.log[-1]["gradient_calls"] == 2 and len(lm.requests) == 3


def test_graph_optimizers_need_the_graph_propagator() -> None:
    from opto.trace.propagators import SumPropagator

    x = trace.node("a", trainable=True)
    opt = TextGrad([x], lm=ScriptedLM([]), propagator=SumPropagator())
    opt.zero_feedback()
    opt.backward(shout(x), "fb")
    with pytest.raises(TypeError, match="GraphPropagator"):
        opt.step()
