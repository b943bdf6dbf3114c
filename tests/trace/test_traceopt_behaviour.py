"""trace-opt behaviours a user of it relies on (the scenarios are also in the reference comparison,
tests/trace/fixtures/reference_scenarios.py; these spell out what each one means)."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import pytest

from opto import trace
from opto.trace import bundle, node
from opto.trace.propagators import TraceGraph
from opto.trace.utils import sum_feedback

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import reference_scenarios as ref  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_global_parameters():
    for p in (ref.WEIGHT, ref.OFFSET):
        p.zero_feedback()
    yield


def test_parameter_used_inside_nested_traceable_bundles_gets_the_feedback():
    y = ref.shifted(node(2, name="x"))
    assert y.data == 11 and [p.name for p in y.parents] == ["x:0"]  # neither global is an input
    assert {id(p) for p in y.hidden_dependencies} == {id(ref.WEIGHT), id(ref.OFFSET)}
    y.backward("bigger")
    for p in (ref.WEIGHT, ref.OFFSET):  # WEIGHT is two traceable bundles deep
        (items,) = p.feedback.values()
        assert [g.user_feedback for g in items] == ["bigger"]
    total = sum_feedback([ref.WEIGHT, ref.OFFSET])
    assert isinstance(total, TraceGraph) and total.user_feedback == "bigger"
    assert type(total.visualize()).__name__ == "Digraph"
    inner = total.expand(y)
    assert sorted(n.name for _, n in inner.graph) == ["add:0", "offset:0", "scaled:0", "x:1"]


def test_sum_feedback_without_feedback_is_an_empty_tracegraph():
    total = sum_feedback([node(1, trainable=True), node(2, trainable=True)])
    assert isinstance(total, TraceGraph) and total.empty() and len(total) == 0
    assert sum_feedback([]).empty()


def test_method_from_getattr_gets_the_nodes_it_is_called_with():
    g = node(ref.Greeter())
    method = g.getattr("greet")
    who, punct = node("Ada"), node("!")
    out = method(who, punct=punct)
    assert out.data == "Node:Node"
    assert out.inputs["args_0"] is who and out.inputs["punct"] is punct
    assert method("Ada").data == "str:NoneType"  # plain values are passed as they are
    assert g.call("greet", 1).data == "Node:NoneType"  # Node.call wraps its arguments, as trace-opt


def test_builtin_methods_still_get_plain_values():
    lst = node([1, 2])
    lst.append(node(3))
    assert lst.data == [1, 2, 3] and all(type(v) is int for v in lst.data)
    assert node("a,b").call("split", ",").data == ["a", "b"]


def test_source_is_as_written_below_bundle_with_trace_opts_line_number():
    lines, start = inspect.getsourcelines(ref.decorated._fun)
    assert ref.decorated.info["source"] == (
        "@passthrough\ndef decorated(x):\n    # a comment the source keeps\n    return x + 1  # and a trailing one")
    text = Path(ref.__file__).read_text().splitlines()
    assert text[ref.decorated.info["line_number"] - 1] == "@passthrough"  # first line below @bundle(...)
    assert ref.decorated.info["line_number"] == start + 3  # @bundle( / description / ) / @passthrough


def test_inline_bundle_source_is_the_whole_definition():
    def deco(f):
        return f

    @deco
    def g(x):
        return x

    wrapped = bundle()(g)
    assert wrapped.info["source"].startswith("@deco\ndef g(x):")
    assert wrapped.info["line_number"] == inspect.getsourcelines(g)[1]


def test_model_methods_keep_trace_opts_reserved_attributes():
    a, b = ref.Pair(), ref.Pair()
    assert not [k for k in vars(a) if k.startswith("__TRACE_RESERVED_")]  # created on first access
    left = a.left
    key = "__TRACE_RESERVED_bundle_Pair.left"
    assert vars(a)[key] is left and a.left is left
    self_node = vars(a)["__TRACE_RESERVED_self_node"]
    assert isinstance(self_node, trace.Node) and self_node.data is a
    a.right("y")
    assert vars(a)["__TRACE_RESERVED_bundle_Pair.right"]._bound_self is self_node  # one self node per instance
    assert b.left is not left and vars(b)["__TRACE_RESERVED_self_node"] is not self_node
    assert b.left.parameter is not left.parameter  # each instance trains its own code
    assert sorted(a.named_parameters()) == ["left", "prompt"]  # reserved attributes are not parameters


def test_methods_sharing_an_op_name_stay_apart():
    class Two:
        @bundle("[same] first")
        def one(self, x):
            return x + 1

        @bundle("[same] second")
        def two(self, x):
            return x + 2

    t = Two()
    assert t.one(1).data == 2 and t.two(1).data == 3 and t.one(1).data == 2
