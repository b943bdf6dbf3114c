"""trace-opt's documented import paths all resolve (drop-in compatibility)."""

from __future__ import annotations

import importlib

import pytest

SURFACE = {
    "opto.trace": ["node", "bundle", "model", "Module", "ExecutionError", "stop_tracing", "GRAPH", "operators",
                   "apply_op", "NodeContainer", "propagators"],
    "opto.trace.nodes": ["Node", "ParameterNode", "MessageNode", "ExceptionNode", "node", "GRAPH", "get_op_name",
                         "IDENTITY_OPERATORS"],
    "opto.trace.bundle": ["bundle", "FunModule", "ExecutionError", "TraceMissingInputsError", "to_data"],
    "opto.trace.modules": ["Module", "model", "NodeContainer", "apply_op"],
    "opto.trace.containers": ["NodeContainer", "Seq", "Map", "ParameterContainer"],
    "opto.trace.operators": ["add", "subtract", "multiply", "divide", "getitem", "call", "node_getattr", "len_",
                             "format", "join", "clone", "cond", "in_", "to_list", "list_append", "set_add"],
    "opto.trace.propagators": ["GraphPropagator", "SumPropagator", "Propagator", "TraceGraph"],
    "opto.trace.propagators.graph_propagator": ["GraphPropagator", "TraceGraph"],
    "opto.trace.propagators.propagators": ["Propagator", "SumPropagator", "AbstractFeedback"],
    "opto.trace.broadcast": ["apply_op", "recursive_conversion"],
    "opto.trace.utils": ["contain", "sum_feedback", "for_all_methods", "parse_eqs_to_dict"],
    "opto.trace.errors": ["ExecutionError", "TraceMissingInputsError"],
    "opto.trace.iterators": ["iterate", "SeqIterable", "DictIterable"],
}


@pytest.mark.parametrize("module", sorted(SURFACE))
def test_names_importable(module):
    mod = importlib.import_module(module)
    missing = [name for name in SURFACE[module] if not hasattr(mod, name)]
    assert not missing, f"{module} lacks {missing}"


def test_graph_clear_restarts_names_and_trace_flag_reads_the_context():
    from opto import trace

    first = trace.node(1, name="x")
    assert first.name == "x:0" and trace.node(2, name="x").name == "x:1"
    trace.GRAPH.clear()
    assert trace.node(3, name="x").name == "x:0"
    assert first.name == "x:0"  # a live node keeps its name
    assert trace.GRAPH.TRACE is True
    with trace.stop_tracing():
        assert trace.GRAPH.TRACE is False
    assert trace.GRAPH.TRACE is True


def test_for_all_methods():
    from opto.trace.utils import for_all_methods

    calls = []

    def deco(f):
        def wrapped(*a, **k):
            calls.append(f.__name__)
            return f(*a, **k)
        return wrapped

    @for_all_methods(deco)
    class C:
        def a(self):
            return 1

    assert C().a() == 1 and calls == ["a"]
