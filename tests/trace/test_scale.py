"""Deep graphs and long loops: no recursion limit, no leak (behaviour, not timings)."""

from __future__ import annotations

import copy
import gc
import pickle
import tracemalloc

from opto import trace
from opto.trace.nodes import GRAPH, MessageNode, node

DEPTH = 100_000


def test_depth_100k_backward_deepcopy_pickle():
    p = node(0, trainable=True)
    x = p
    for _ in range(DEPTH):
        x = x + 1
    assert x.level == DEPTH
    x.backward("deep")
    (fb,) = p.feedback.values()
    assert fb[0].user_feedback == "deep" and len(fb[0].graph) == 2 * DEPTH + 1
    c = copy.deepcopy(x)
    assert c.data == DEPTH and c.parents == []
    restored = pickle.loads(pickle.dumps(x))
    assert isinstance(restored, MessageNode) and restored.data == DEPTH and restored.level == DEPTH
    root = restored
    while root.parents:
        root = root.parents[0]
    assert root.data == 0 and root.trainable


def test_pickle_roundtrip_keeps_structure():
    a = node(2, trainable=True, name="a")
    b = node("s", name="b")
    y = (a * 3).eq(6)
    z = trace.operators.make_list(y, b)
    r = pickle.loads(pickle.dumps(z))
    assert r.data == [True, "s"]
    assert [p.data for p in r.parents] == [True, "s"]
    assert list(r.inputs) == list(z.inputs)
    assert r.info["fun_name"] == "make_list"


def test_build_and_drop_loop_memory_is_flat():
    param = node(1.0, trainable=True)

    def step():
        out = (param * 2 + 1) * 3
        out.backward("fb")
        param.zero_feedback()

    for _ in range(500):
        step()
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(10_000):
        step()
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    # a leak would keep ~6 nodes per iteration (>15 MB over 10,000 iterations)
    assert grown < 300_000, f"memory grew by {grown} bytes over 10,000 iterations"
    assert len(param.children) == 0
    assert len(GRAPH) < 100


def test_wide_fan_in_and_shared_operand():
    @trace.bundle()
    def total(*args):
        return sum(args)

    inputs = [node(i, trainable=True) for i in range(5000)]
    out = total(*inputs)
    out.backward("sum")
    assert all(len(p.feedback) == 1 for p in inputs)
    y = node(1, trainable=True)
    s = node(0)
    for _ in range(5000):
        s = s + y
    s.backward("shared")
    assert len(y.feedback) == 5000


def test_pickling_many_nodes_of_one_graph_keeps_sharing():
    a = node(1, trainable=True)
    xs = [a]
    for _ in range(2000):
        xs.append(xs[-1] + 1)
    for ordering in (xs, xs[::-1]):
        data = pickle.dumps(ordering)
        assert len(data) < 2_000_000  # each node written once, not once per descendant
        ys = pickle.loads(data)
        if ordering is not xs:
            ys = ys[::-1]
        assert all(ys[i + 1].parents[0] is ys[i] for i in range(2000))
        assert ys[-1].data == 2001 and ys[0].trainable
    la, lb = pickle.loads(pickle.dumps([xs[0], xs[1]]))
    assert lb.parents[0] is la


def test_pickle_reflects_current_values():
    p = node(1, trainable=True)
    y = p + 1
    first = pickle.loads(pickle.dumps(y))
    p._set(5)
    second = pickle.loads(pickle.dumps(y))
    assert first.parents[0].data == 1 and second.parents[0].data == 5
