"""backward(): GraphPropagator and SumPropagator semantics, retain_graph, registry rules."""

from __future__ import annotations

import pytest

from opto import trace
from opto.trace.nodes import ParameterNode, node
from opto.trace.propagators import GraphPropagator, SumPropagator, TraceGraph
from opto.trace.utils import contain, sum_feedback


def test_graph_feedback_contains_path_and_user_feedback():
    p = node(2, trainable=True, name="p")
    x = node(3, name="x")
    y = p * x
    z = y + 1
    z.backward("z should be 10")
    (fb,) = p.feedback.values()
    g = fb[0]
    assert isinstance(g, TraceGraph) and g.user_feedback == "z should be 10"
    names = [n.name for _, n in g.graph]
    assert set(names) == {"p:0", "x:0", "multiply:0", "int:0", "add:0"}
    levels = [lvl for lvl, _ in g.graph]
    assert levels == sorted(levels)
    assert y._feedback is None  # message nodes are zeroed after propagating


def test_sum_feedback_merges_parameters():
    a, b = node(1, trainable=True), node(2, trainable=True)
    out = (a + b) * a
    out.backward("f")
    total = sum_feedback([a, b])
    assert isinstance(total, TraceGraph) and total.user_feedback == "f"
    assert contain([n for _, n in total.graph], a) and contain([n for _, n in total.graph], b)


def test_retain_graph():
    p = node(1, trainable=True)
    y = p + 1
    y.backward("once")
    with pytest.raises(AttributeError, match="backwarded"):
        y.backward("twice")
    q = node(1, trainable=True)
    z = q + 1
    z.backward("a", retain_graph=True)
    q.zero_feedback()
    z.backward("a", retain_graph=True)
    assert len(q.feedback) == 1


def test_sum_propagator():
    p = node(1.0, trainable=True)
    y = p * 3 + p
    y.backward(2.0, propagator=SumPropagator())
    assert sum(v[0] for v in p.feedback.values()) == 4.0


def test_register_rule_by_op_name():
    prop = GraphPropagator()
    seen = []

    def rule(child):
        seen.append(child.op_name)
        return {parent: TraceGraph(graph=[(parent.level, parent)], user_feedback="custom") for parent in child.parents}

    prop.register("multiply", rule)
    p = node(2, trainable=True)
    y = p * 2
    y.backward("orig", propagator=prop)
    assert seen == ["multiply"]
    assert list(p.feedback.values())[0][0].user_feedback == "custom"


def test_backward_on_root_keeps_feedback():
    p = node(1, trainable=True)
    assert p.backward("root") is None
    assert list(p.feedback.values())[0][0].user_feedback == "root"


def test_visualize_returns_digraph():
    import graphviz

    p = node(1, trainable=True)
    y = (p + 1) * 2
    g = y.backward("v", visualize=True)
    assert isinstance(g, graphviz.Digraph) and "multiply" in g.source and "->" in g.source


def test_conflicting_user_feedback_is_an_error():
    a = TraceGraph(graph=[(0, node(1))], user_feedback="x")
    b = TraceGraph(graph=[(0, node(2))], user_feedback="y")
    with pytest.raises(ValueError, match="different user feedback"):
        a + b


def test_tracegraph_sum_and_empty():
    a = TraceGraph(graph=[(0, node(1))], user_feedback="x")
    assert sum([a]) is a
    assert TraceGraph(graph=[], user_feedback=None).empty()
    assert len(a + TraceGraph(graph=[], user_feedback=None)) == 1


def test_parameter_dependencies():
    p, q = node(1, trainable=True), node(2, trainable=True)
    out = (p + 1) * q
    deps = out.parameter_dependencies
    # Node.__eq__ compares data, so compare identities: exactly p and q, nothing else.
    assert sorted(id(n) for n in deps) == sorted([id(p), id(q)])
    assert all(isinstance(n, ParameterNode) for n in deps)


def test_exception_backward_reaches_parameters():
    p = node(0, trainable=True)
    with pytest.raises(trace.ExecutionError) as info:
        1 / p
    info.value.exception_node.backward("p must not be 0")
    assert p.feedback
