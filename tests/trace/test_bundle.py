"""@bundle: traced calls, trainable code, exceptions, methods, async."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import sys
from pathlib import Path

import pytest

from opto import trace
from opto.trace.bundle import FunModule
from opto.trace.nodes import ExceptionNode, MessageNode, ParameterNode, node

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
bf = importlib.import_module("bundled_funcs")


@pytest.fixture(autouse=True)
def _fresh_module():
    importlib.reload(bf)
    yield


def test_plain_bundle_records_inputs_and_description():
    out = bf.divide(node(6), 3)
    assert isinstance(out, MessageNode) and out.data == 2
    assert list(out.inputs) == ["a", "b"] and out.inputs["b"].data == 3
    assert out.description == "[divide] Divide a by b." and out.name == "divide:0"
    assert out.info["fun_name"] == "divide" and out.info["inputs"]["args"] == [6, 3]


def test_bundle_forms():
    @trace.bundle
    def f(x):
        return x + 1

    @trace.bundle("[adder] adds one")
    def g(x):
        return x + 1

    assert isinstance(f, FunModule) and f(1).data == 2
    assert g(node(1)).description == "[adder] adds one"


def test_defaults_varargs_kwargs():
    out = bf.varargs(1, node(2), scale=3, extra=4)
    assert out.data == 3 * (1 + 2 + 4)
    assert set(out.inputs) == {"args_0", "args_1", "scale", "extra"}
    out2 = bf.strategy(node(4))
    assert out2.data == 8 and set(out2.inputs) == {"x", "y", "__code"}


def test_bad_arguments_raise_python_type_error():
    with pytest.raises(TypeError):
        bf.divide(1)
    with pytest.raises(TypeError):
        bf.divide(1, 2, 3)


def test_trainable_code_is_parameter_and_rewrite_runs():
    param = bf.strategy.parameter
    assert isinstance(param, ParameterNode) and param.trainable
    assert param.data.startswith("def strategy(x, y=2):") and "@bundle" not in param.data
    assert "def strategy(x, y=2):" in param._constraint
    out = bf.strategy(node(3))
    assert out.data == 6 and out.description.startswith("[eval]") and out.inputs["__code"] is param
    param._set("def strategy(x, y=2):\n    return x + y + 100\n")
    assert bf.strategy(node(3)).data == 105


def test_trainable_code_recursion_and_closure_and_globals():
    assert bf.factorial(node(5)).data == 120
    bf.factorial.parameter._set("def factorial(n):\n    return 1 if n <= 1 else n * factorial(n - 1) + 0\n")
    assert bf.factorial(node(4)).data == 24
    shifted = bf.make_closure()
    assert shifted(1).data == 6
    shifted.parameter._set("def shifted(x):\n    return x + offset * 2\n")
    assert shifted(1).data == 11


def test_syntax_error_in_rewrite_is_exception_node():
    bf.strategy.parameter._set("def strategy(x, y=2):\n    return x +\n")
    with pytest.raises(trace.ExecutionError) as info:
        bf.strategy(node(1))
    e = info.value.exception_node
    assert isinstance(e, ExceptionNode) and e.data.startswith("(SyntaxError)")
    assert e.parents == [bf.strategy.parameter]
    assert "<---" in e.info["error_comment"]
    e.backward("fix the syntax")
    assert bf.strategy.parameter.feedback


def test_rewrite_without_def_is_exception_node():
    bf.strategy.parameter._set("x = 1")
    with pytest.raises(trace.ExecutionError, match="defines no function"):
        bf.strategy(node(1))


def test_runtime_error_is_exception_node_with_inputs_as_parents():
    a = node(1, trainable=True)
    with pytest.raises(trace.ExecutionError) as info:
        bf.divide(a, 0)
    e = info.value.exception_node
    assert e.data == "(ZeroDivisionError) division by zero"
    assert e.parents[0] is a and e.description.startswith("[exception]")
    assert "return a / b  <--- (ZeroDivisionError)" in e.info["error_comment"]
    assert "ZeroDivisionError" in str(info.value)
    e.backward("do not divide by zero")
    (graph,) = a.feedback.values()
    assert graph[0].user_feedback == "do not divide by zero"


def test_catch_execution_error_false_reraises():
    with pytest.raises(KeyError):
        bf.raw_error(node(1))


def test_external_dependencies_detected():
    with pytest.raises(trace.TraceMissingInputsError, match="allow_external_dependencies"):
        bf.reads_hidden(node(1))
    out = bf.reads_hidden_ok(node(1))
    assert out.data == 8 and out.info["external_dependencies"] == [bf.HIDDEN]


def test_methods_are_bound_per_instance():
    a, b = bf.Agent(), bf.Agent()
    assert a.act is a.act and a.act is not b.act
    assert a.act.parameter is not b.act.parameter
    out = a("hi")
    assert out.data == "YOU ARE HELPFUL. HI!"
    act_call = out.parents[1] if out.parents[0].name.startswith("Agent") else out.parents[0]
    assert "self" in out.inputs and "q" in out.inputs
    assert act_call is not None


def test_async_bundle():
    out = asyncio.run(bf.async_inc(node(1)))
    assert isinstance(out, MessageNode) and out.data == 2
    assert inspect.iscoroutinefunction(bf.async_inc._fun)


def test_traceable_code_exposes_hidden_parameters():
    w = node(3, trainable=True)
    out = bf.traced_inner(node(2), w)
    assert out.data == 7
    assert isinstance(out.info["output"], MessageNode)
    out.backward("too big")
    assert w.feedback


def test_trainable_needs_source():
    namespace: dict = {}
    exec("def f(x):\n    return x\n", namespace)  # noqa: S102 - simulates a REPL definition
    with pytest.raises(ValueError, match="source"):
        trace.bundle(trainable=True)(namespace["f"])
