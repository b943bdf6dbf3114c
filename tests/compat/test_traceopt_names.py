"""trace-opt 0.1.3.8's public names that programs import are importable from the same paths."""

from __future__ import annotations

import importlib

import pytest

NAMES = {
    "opto.trace": ["node", "bundle", "model", "stop_tracing", "GRAPH", "Node", "ExecutionError", "Module",
                   "NodeContainer", "apply_op", "propagators", "operators"],
    "opto.trace.utils": ["sum_feedback", "contain", "parse_eqs_to_dict", "for_all_methods", "render_opt_step",
                         "escape_json_nested_quotes", "remove_non_ascii"],
    "opto.optimizers": ["OptoPrime", "OptoPrimeMulti", "OPRO", "TextGrad"],
    "opto.optimizers.optimizer": ["Optimizer", "AbstractOptimizer"],
    "opto.optimizers.optoprime": ["OptoPrime", "node_to_function_feedback", "FunctionFeedback"],
    "opto.optimizers.optoprimemulti": ["OptoPrimeMulti"],
    "opto.optimizers.buffers": ["FIFOBuffer"],
    "opto.optimizers.utils": ["print_color"],
    "opto.utils.llm": ["AbstractModel", "LLM", "CustomLLM", "LiteLLM", "AutoGenLLM",
                       "auto_construct_oai_config_list_from_env"],
}


@pytest.mark.parametrize("module", sorted(NAMES))
def test_names_import(module: str) -> None:
    mod = importlib.import_module(module)
    assert [n for n in NAMES[module] if not hasattr(mod, n)] == []


def test_small_helpers_behave_as_in_trace_opt(capsys) -> None:
    from opto.optimizers.buffers import FIFOBuffer
    from opto.optimizers.utils import print_color

    buf = FIFOBuffer(2)
    for i in range(4):
        buf.add(i)
    assert list(buf) == [2, 3] and len(buf) == 2
    empty = FIFOBuffer(0)
    empty.add(1)
    assert len(empty) == 0
    print_color("hello", "green")
    assert capsys.readouterr().out == "\033[92mhello\033[0m\n"


def test_autogen_config_list(monkeypatch, tmp_path) -> None:
    from opto.utils.llm import AutoGenLLM

    llm = AutoGenLLM(config_list=[{"model": "a", "api_key": "k", "base_url": "http://127.0.0.1:9/v1"},
                                  {"model": "b", "api_key": "k"}], filter_dict={"model": ["b"]})
    assert llm.model_name == "b"
    path = tmp_path / "OAI_CONFIG_LIST"
    path.write_text('[{"model": "from-file", "api_key": "k", "base_url": "http://127.0.0.1:9/v1"}]')
    monkeypatch.setenv("OAI_CONFIG_LIST", str(path))
    assert AutoGenLLM().model_name == "from-file"
    monkeypatch.delenv("OAI_CONFIG_LIST")
    with pytest.raises(Exception, match="config_list"):
        AutoGenLLM()


def test_config_list_argument_picks_the_model(monkeypatch) -> None:
    from opto import trace
    from opto.llm.testing import StubServer
    from opto.optimizers import OptoPrime

    with StubServer(reply='{"reasoning": "r", "suggestion": {"float0": 2.0}}') as server:
        x = trace.node(1.0, trainable=True)
        config_list = [{"model": "from-config", "api_key": "sk-x", "base_url": server.base_url}]
        optimizer = OptoPrime([x], config_list=config_list)  # trace-opt's older notebooks
        optimizer.zero_feedback()
        optimizer.backward(x + 1, "bigger")
        optimizer.step()
        assert x.data == 2.0 and server.bodies[-1]["model"] == "from-config"


def test_a_model_without_response_format_is_asked_again_without_it() -> None:
    """trace-opt retries its call without response_format; models that reject it keep working."""
    from opto import trace
    from opto.optimizers import OptoPrime
    from opto.utils.llm import AbstractModel

    seen = []

    def create(messages, max_tokens=None):  # no response_format parameter: TypeError when it is passed
        seen.append(len(messages))
        return {"choices": [{"message": {"content": '{"reasoning": "r", "suggestion": {"float0": 4.0}}'}}]}

    x = trace.node(1.0, trainable=True)
    optimizer = OptoPrime([x], llm=AbstractModel(lambda: create))
    optimizer.zero_feedback()
    optimizer.backward(x + 1, "bigger")
    optimizer.step()
    assert x.data == 4.0 and seen == [2]


def test_optimizer_llm_is_callable_as_in_trace_opt() -> None:
    import opto
    from opto import trace
    from opto.llm import ScriptedLM
    from opto.optimizers import OptoPrime

    with opto.context(lm=ScriptedLM(["hello"])):
        optimizer = OptoPrime([trace.node(1.0, trainable=True)])  # no llm=: resolved, then wrapped
        reply = optimizer.llm(messages=[{"role": "user", "content": "hi"}], max_tokens=5)
    assert reply.choices[0].message.content == "hello" and optimizer.llm is optimizer.llm
