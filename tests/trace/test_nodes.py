"""Node basics: creation, names, parents/children, levels, weak registry."""

from __future__ import annotations

import gc
import weakref

import pytest

from opto import trace
from opto.trace.nodes import GRAPH, ExceptionNode, MessageNode, Node, ParameterNode, get_op_name, node


def test_node_creation_and_names():
    x = node(1)
    y = node("a", name="greeting")
    p = node(2.0, trainable=True, description="a weight", constraint="positive")
    assert type(x) is Node and x.data == 1 and x.name == "int:0" and x.py_name == "int0"
    assert y.name == "greeting:0" and node("b", name="greeting").name == "greeting:1"
    assert isinstance(p, ParameterNode) and p.trainable and p._constraint == "positive"
    assert p.description == "[ParameterNode] a weight"
    assert x.description.startswith("[Node]")
    assert node(x) is x  # wrapping a node returns it
    q = node(x, trainable=True)
    assert isinstance(q, ParameterNode) and q.data == 1 and q.name.startswith("int:")


def test_description_must_be_str():
    with pytest.raises(TypeError, match="description"):
        node(1, description=3)


def test_parents_children_level_inputs():
    x, y = node(1), node(2)
    z = x + y
    w = z * x
    assert isinstance(z, MessageNode) and z.data == 3 and w.data == 3
    assert z.parents == [x, y] and z.level == 1 and w.level == 2
    assert set(map(id, x.children)) == {id(z), id(w)}
    assert list(z.inputs) == ["x", "y"] and z._inputs["x"] is x
    assert get_op_name(z.description) == "add" and z.op_name == "add"
    assert x.is_root and not z.is_root and w.is_leaf


def test_same_node_twice_is_one_parent():
    x = node(3)
    y = x + x
    assert y.data == 6 and y.parents == [x]
    y.backward("fb")
    assert len(x.feedback) == 1


def test_children_are_weak_and_registry_does_not_keep_nodes_alive():
    p = node(1.0, trainable=True)
    out = p * 2
    ref = weakref.ref(out)
    assert out in p.children
    del out
    gc.collect()
    assert ref() is None and p.children == []
    assert len(GRAPH) >= 1 and GRAPH.get(p.name) is p


def test_graph_clear_restarts_names():
    node(1)
    GRAPH.clear()
    assert node(1).name == "int:0"


def test_get_op_name_errors():
    assert get_op_name("[add] adds") == "add"
    with pytest.raises(ValueError, match="brackets"):
        get_op_name("no op here")


def test_stop_tracing_builds_no_edges():
    x = node(1)
    with trace.stop_tracing():
        assert trace.GRAPH.TRACE is False
        y = x + 1
    assert trace.GRAPH.TRACE is True
    assert y.data == 2 and y.parents == []


def test_name_scope():
    with trace.name_scope("agent"):
        x = node(1, name="w")
    assert x.name == "agent/w:0"


def test_exception_node_text():
    x = node(1)
    e = ExceptionNode(ValueError("bad"), inputs=[x])
    assert e.data == "(ValueError) bad" and e.parents == [x]
    assert e.create_feedback() == "(ValueError) bad"


def test_set_and_detach():
    p = node([1, 2], trainable=True)
    p._set(node([3]))
    assert p.data == [3]
    y = p + [4]
    d = y.detach()
    assert d.data == [3, 4] and d.parents == [] and d is not y and d.name != y.name


def test_user_attributes_allowed():
    x = node(1)
    x.note = "kept"
    assert x.note == "kept"


def test_names_unique_across_threads():
    import threading

    names: list[str] = []

    def work():
        local = [node(i, name="t").name for i in range(2000)]
        names.extend(local)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(names) == len(set(names)) == 8000
