"""The Optimizer contract: parameters, feedback, update/step, state_dict, LM resolution and aliases."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from opto import trace
from opto.llm import ScriptedLM
from opto.optimizers import Optimizer
from opto.optimizers.lm_adapter import CallableLM, as_lm


class Doubler(Optimizer):
    """Proposes twice each numeric parameter."""

    def propose(self, *args: Any, verbose: Any = False, **kwargs: Any) -> dict:
        return {p: p.data * 2 for p in self.parameters}


def test_parameters_list_generator_and_bad_input() -> None:
    x = trace.node(1.0, trainable=True)
    y = trace.node(2.0, trainable=True)
    params = Doubler([x, y, x]).parameters
    assert len(params) == 2 and params[0] is x and params[1] is y
    assert len(Doubler(p for p in [x, y]).parameters) == 2
    with pytest.raises(TypeError, match="trainable=True"):
        Doubler([trace.node(1.0)])
    with pytest.raises(TypeError, match="list of ParameterNodes"):
        Doubler(3)  # type: ignore[arg-type]


def test_step_applies_and_bypassing_does_not() -> None:
    x = trace.node(1.5, trainable=True)
    opt = Doubler([x])
    out = opt.step()
    assert out[x] == 3.0 and x.data == 3.0
    opt.step(bypassing=True)
    assert x.data == 3.0


def test_update_by_name_and_unknown_key() -> None:
    x = trace.node(1, trainable=True, name="x")
    opt = Doubler([x])
    opt.update({"x": 5})
    assert x.data == 5
    with pytest.raises(KeyError, match="parameters are"):
        opt.update({"nope": 1})
    with pytest.raises(KeyError):
        opt.update({trace.node(0, trainable=True): 1})


def test_backward_uses_propagator_and_zero_feedback() -> None:
    x = trace.node(2.0, trainable=True)
    opt = Doubler([x])
    y = x * 3 + 1
    opt.zero_feedback()
    opt.backward(y, "too big")
    graph = opt.trace_graph
    assert graph.user_feedback == "too big"
    assert any(n is x for _, n in graph.graph)
    opt.zero_feedback()
    assert not x.feedback
    with pytest.raises(TypeError, match="output Node"):
        opt.backward(3.0, "x")  # type: ignore[arg-type]


def test_state_dict_round_trip_is_json(tmp_path) -> None:
    x = trace.node(1.0, trainable=True)
    s = trace.node("hi", trainable=True)
    opt = Doubler([x, s])
    state = json.loads(json.dumps(opt.state_dict()))
    x._set(9.0)
    opt.load_state_dict(state)
    assert x.data == 1.0
    opt.save(tmp_path / "o.json")
    x._set(7.0)
    opt.load(tmp_path / "o.json")
    assert x.data == 1.0
    with pytest.raises(ValueError, match="same parameters"):
        Doubler([x]).load_state_dict(state)


def test_lm_and_llm_alias_and_lazy_resolution() -> None:
    lm = ScriptedLM(["a"])
    x = trace.node(1.0, trainable=True)
    assert Doubler([x], lm).lm is lm
    assert Doubler([x], llm=lm).lm is lm
    assert Doubler([x], llm=lm).llm is lm
    with pytest.raises(TypeError, match="once"):
        Doubler([x], lm=lm, llm=ScriptedLM())
    import opto

    opt = Doubler([x])  # nothing resolved yet
    assert opt._lm is None
    with opto.context(lm=lm):
        assert opt.lm is lm


def test_callable_model_wrapped() -> None:
    class Msg:
        content = "hello"

    class Ch:
        message = Msg()

    class Completion:
        choices = [Ch()]
        usage = None

    seen: dict = {}

    def model(**kw: Any) -> Completion:
        seen.update(kw)
        return Completion()

    from opto.llm import Request

    wrapped = as_lm(model)
    assert isinstance(wrapped, CallableLM)
    resp = wrapped.complete(Request.of("q", max_tokens=5, json_mode=True))
    assert resp.text == "hello" and seen["max_tokens"] == 5 and seen["response_format"]["type"] == "json_object"
    with pytest.raises(TypeError, match="opto LM"):
        as_lm(42)


def test_import_is_light() -> None:
    code = ("import sys; from opto.optimizers import OptoPrime, OptoPrimeMulti, OPRO, TextGrad; "
            "print('openai' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_arguments_warn() -> None:
    from opto.optimizers import OptoPrime

    x = trace.node(1.0, trainable=True)
    with pytest.warns(UserWarning, match="memory_sise"):
        OptoPrime([x], lm=ScriptedLM(), memory_sise=3)
