"""trace-opt programs against a real OpenAI-style endpoint (``opto serve-llm``: the embedded SmolLM2).

The model is chosen the way trace-opt users choose it, by environment variables only
(TRACE_CUSTOMLLM_URL/_API_KEY without a model name, or OpenAI's OPENAI_BASE_URL + OPENAI_API_KEY),
and the programs are the documented ones (tests/compat/programs). A 135M model's replies are mostly
unusable: what is asserted is that every step ends as an applied value or a rejection with a reason,
never an exception, and that the call really went to the server.
"""

from __future__ import annotations

import importlib.util

import pytest

from opto import trace
from opto.optimizers import OptoPrime
from opto.utils.llm import LLM, CustomLLM

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server():
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama_cpp is not importable: install the [local] extra (scripts/setup.sh --local)")
    from opto.llm.server import LocalServer

    with LocalServer(n_ctx=4096) as s:
        yield s


def _one_step(llm) -> dict:
    x = trace.node(-1.0, trainable=True)
    optimizer = OptoPrime([x], llm=llm, memory_size=2, max_tokens=200)
    optimizer.zero_feedback()
    optimizer.backward(x * 2 + 1, "The output should be 11.")
    optimizer.step()
    entry = optimizer.log[-1]
    assert entry["usage"]["prompt_tokens"] > 100 and entry.get("model_error") is None
    assert entry["applied"] or entry["terminate"] or all(r["reason"] for r in entry["rejected"])
    assert isinstance(x.data, float)
    return entry


def test_trace_opt_variables_reach_the_server(server, monkeypatch) -> None:
    monkeypatch.setenv("TRACE_DEFAULT_LLM_BACKEND", "CustomLLM")
    monkeypatch.setenv("TRACE_CUSTOMLLM_URL", server.base_url)
    monkeypatch.setenv("TRACE_CUSTOMLLM_API_KEY", "sk-local")  # no TRACE_CUSTOMLLM_MODEL: trace-opt's gpt-4o
    entry = _one_step(LLM())
    assert entry["model"] == "gpt-4o"
    _one_step(CustomLLM())
    reply = CustomLLM()(messages=[{"role": "user", "content": "Say hello."}], max_tokens=8)
    assert reply.choices[0].message.content.strip() and reply.usage.completion_tokens > 0


def test_openai_variables_alone(server, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local")
    _one_step(LLM())

