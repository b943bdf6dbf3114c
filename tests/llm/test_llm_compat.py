"""trace-opt's ``opto.utils.llm`` surface, as trace-opt's optimizers use it."""

from __future__ import annotations

import pickle

import pytest
from openai.types.chat import ChatCompletion

import opto
from opto.llm import LM, LMCallError, LMFailure, OpenAICompatible, Request, ScriptedLM
from opto.utils.llm import LLM, AbstractModel

MESSAGES = [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}]


def test_call_returns_an_openai_chat_completion():
    inner = ScriptedLM(['{"suggestion": {}}'])
    llm = LLM(lm=inner)
    resp = llm(messages=MESSAGES, response_format={"type": "json_object"}, max_tokens=100)
    assert isinstance(resp, ChatCompletion)
    assert resp.choices[0].message.content == '{"suggestion": {}}'
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens
    sent = inner.requests[0]
    assert sent.json_mode and sent.max_tokens == 100 and list(sent.messages) == MESSAGES


def test_create_with_n_and_temperature_like_optoprime_multi():
    inner = ScriptedLM(lambda req: f"r{req.sample_index}")
    resp = LLM(lm=inner).create(messages=MESSAGES, n=3, temperature=0.7, stop="END")
    assert [c.message.content for c in resp.choices] == ["r0", "r1", "r2"]
    assert inner.requests[0].temperature == 0.7 and inner.requests[0].stop == ("END",)


def test_failures_raise_like_trace_opt_backends():
    llm = LLM(lm=ScriptedLM([LMFailure("server_error", "boom", status=500)]))
    with pytest.raises(LMCallError, match="server_error"):
        llm(messages=MESSAGES)


def test_llm_is_an_opto_lm_and_resolves_like_opto():
    inner = ScriptedLM(["x"])
    with opto.context(lm=inner):
        llm = LLM()
    assert llm.lm is inner and llm.model_name == "scripted"
    assert isinstance(llm, LM) and llm.complete(Request.of("q")).text == "x"


def test_llm_model_is_the_model_name_like_every_lm():
    """The LM protocol says ``model: str``; trace-opt's call form still works beside it."""
    llm = LLM(lm=ScriptedLM(["a", "b", "c"]), reset_freq=0)  # reset_freq=0: rebuilt before every call
    assert isinstance(llm, LM) and isinstance(llm.model, str) and llm.model == llm.model_name == "scripted"
    assert llm(messages=MESSAGES).choices[0].message.content == "a"
    assert llm.create(messages=MESSAGES).id.startswith("opto-")
    assert llm.complete(Request.of("q")).text == "c" and llm.model == "scripted"
    with pytest.raises(TypeError, match="keyword arguments"):
        llm(MESSAGES)
    plain = AbstractModel(lambda: _double)  # AbstractModel keeps trace-opt's callable ``model``
    assert plain.model is _double and plain(x=2) == 4


def test_model_argument_builds_an_openai_compatible(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    llm = LLM(model="gpt-4o-mini", cache=False)
    assert isinstance(llm.lm, OpenAICompatible) and llm.lm.cache is None and llm.model_name == "gpt-4o-mini"


def test_trace_env_vars_are_honoured(monkeypatch):
    monkeypatch.setenv("TRACE_CUSTOMLLM_MODEL", "served")
    monkeypatch.setenv("TRACE_CUSTOMLLM_URL", "http://127.0.0.1:4000/v1")
    assert LLM().lm.model == "served"


def test_abstract_model_refreshes_and_pickles():
    built = []

    def factory():
        built.append(1)
        return lambda **kw: kw["x"] * 2

    model = AbstractModel(factory, reset_freq=0)
    assert model(x=2) == 4 and len(built) == 2  # reset_freq=0: rebuilt before the call
    clone = pickle.loads(pickle.dumps(AbstractModel(_double_factory)))
    assert clone(x=3) == 6


def _double_factory():
    return _double


def _double(**kw):
    return kw["x"] * 2


def test_messages_are_required():
    with pytest.raises(ValueError, match="messages"):
        LLM(lm=ScriptedLM(["x"])).create(max_tokens=3)
