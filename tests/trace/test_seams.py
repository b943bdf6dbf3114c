"""The seams other packages stand on: one field list, no hidden global effects, a light import."""

from __future__ import annotations

import copy
import gc
import json
import pickle
import subprocess
import sys
import threading

import pytest

from opto import trace
from opto.trace import call_info
from opto.trace.fields import GRAPH_FIELDS, _slot_names, node_state
from opto.trace.nodes import AbstractNode, MessageNode, Node


def _fields(n: AbstractNode) -> set[str]:
    return set(node_state(n))


def test_every_way_of_making_a_node_sets_the_same_fields():
    p = trace.node("p", trainable=True, constraint="short", description="a prompt")
    out = p + "!"
    made = {"constructed": p, "fast": out}
    made["deepcopy"] = copy.deepcopy(out)
    made["unpickled"] = pickle.loads(pickle.dumps(out))
    expected = {s for s in _slot_names(MessageNode)}
    for how, n in made.items():
        wanted = expected if isinstance(n, MessageNode) else expected - {"_inputs"}
        assert _fields(n) == wanted, how
    copied = made["deepcopy"]
    assert copied.parents == [] and copied._inputs == {} and copied.data == "p!"
    assert copied._description == out._description and copied.name.startswith("concat:")
    back = made["unpickled"]
    assert [x.data for x in back.parents] == ["p", "!"] and back.parents[0]._constraint == "short"
    assert GRAPH_FIELDS <= set(_slot_names(MessageNode))


def test_shared_empty_constants_are_read_only():
    with pytest.raises(TypeError):
        call_info.NO_KWARGS["x"] = 1  # type: ignore[index]
    assert isinstance(call_info.NO_EXTERNAL, tuple) and call_info.NO_EXTERNAL == ()


def test_call_failure_is_named_for_the_call():
    assert hasattr(call_info, "CallFailure") and not hasattr(call_info, "Failure")


def test_stop_tracing_nests_and_restores():
    with trace.stop_tracing():
        with trace.stop_tracing():
            assert not trace.GRAPH.TRACE
        assert not trace.GRAPH.TRACE
        y = trace.node(1) + 1
    assert trace.GRAPH.TRACE and y.parents == []


def test_setting_graph_trace_still_works_but_warns_and_stays_in_this_thread():
    seen: list[bool] = []
    with pytest.warns(DeprecationWarning, match="stop_tracing"):
        trace.GRAPH.TRACE = False
    try:
        assert (trace.node(1) + 1).parents == []
        worker = threading.Thread(target=lambda: seen.append(trace.GRAPH.TRACE))
        worker.start()
        worker.join()
        assert seen == [True]  # another thread keeps tracing (trace-opt's flag was process-wide)
    finally:
        with pytest.warns(DeprecationWarning):
            trace.GRAPH.TRACE = True
    assert len((trace.node(1) + 1).parents) == 2
    with pytest.raises(TypeError, match="True or False"):
        trace.GRAPH.TRACE = "no"  # type: ignore[assignment]


def test_backward_pauses_gc_only_while_it_runs_and_only_when_asked():
    states: list[bool] = []

    class Spy(trace.propagators.GraphPropagator):
        def _propagate(self, child):
            states.append(gc.isenabled())
            return super()._propagate(child)

    p = trace.node(1, trainable=True)
    (p + 1).backward("a", propagator=Spy())
    assert states == [False] and gc.isenabled()
    states.clear()
    (p + 2).backward("b", propagator=Spy(), pause_gc=False)
    assert states == [True] and gc.isenabled()

    class Boom(trace.propagators.GraphPropagator):
        def _propagate(self, child):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        (p + 3).backward("c", propagator=Boom())
    assert gc.isenabled()  # restored in finally


_IMPORT_CHECK = """
import json, sys
import opto.trace
from opto import trace
def loaded():
    return sorted(m for m in sys.modules if m.startswith("opto."))
seen = {"import": loaded()}
y = trace.node(1, trainable=True) + 1
y.backward("f", retain_graph=True)
seen["backward"] = loaded()
if sys.argv[1] == "tracegraph":
    list(y.parents[0].feedback.values())[0][0].visualize()
else:
    y.backward("f", visualize=True)
seen["visualize"] = loaded()
print(json.dumps(seen))
"""
_LOWER_LAYERS = ("opto.viz", "opto.report", "opto.cli", "opto.optimizers", "opto.trainer")
_NOT_AT_IMPORT = ("opto.llm", "opto.runtime", "opto.store", "opto.evaluate", "opto.records") + _LOWER_LAYERS


@pytest.mark.parametrize("visualize", ["tracegraph", "backward"])
def test_import_trace_loads_no_viz_llm_runtime_or_store_module(visualize):
    out = subprocess.run([sys.executable, "-c", _IMPORT_CHECK, visualize], capture_output=True, text=True,
                         check=True, timeout=120)
    seen = json.loads(out.stdout)
    assert [m for m in seen["import"] if m.startswith(_NOT_AT_IMPORT)] == []
    assert [m for m in seen["import"] if not m.startswith(("opto.trace", "opto.context"))] == []
    assert [m for m in seen["backward"] if not m.startswith(("opto.trace", "opto.context"))] == []
    # The allowed exception: trace-opt's visualize calls import the viz package, lazily.
    late = sorted(set(seen["visualize"]) - set(seen["backward"]))
    assert "opto.viz" in late and all(m.startswith("opto.viz") for m in late), late


def test_the_only_imports_of_lower_layers_are_the_two_visualize_calls():
    import ast
    from pathlib import Path

    root = Path(trace.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        for n in ast.walk(ast.parse(path.read_text())):
            names = [n.module or ""] if isinstance(n, ast.ImportFrom) else \
                [a.name for a in n.names] if isinstance(n, ast.Import) else []
            found += [(path.relative_to(root).as_posix(), m) for m in names if m.startswith(_LOWER_LAYERS)]
    assert sorted(found) == [("backward.py", "opto.viz"), ("propagators/graph_propagator.py", "opto.viz")]


def test_node_is_a_node_subclass_of_abstract_node():
    assert issubclass(Node, AbstractNode) and Node.__slots__ == ()
