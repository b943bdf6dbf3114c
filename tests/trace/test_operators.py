"""Traced operators keep Python's semantics: a traced op equals the plain result (property tests)."""

from __future__ import annotations

import math
import operator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opto import trace
from opto.trace.nodes import MessageNode, node

ints = st.integers(min_value=-10**6, max_value=10**6)
floats = st.floats(allow_nan=False, allow_infinity=False, width=32)
numbers = st.one_of(ints, floats)

BINARY = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.mod,
          operator.pow, operator.lt, operator.le, operator.gt, operator.ge]
BITWISE = [operator.and_, operator.or_, operator.xor, operator.lshift, operator.rshift]


def _plain(op, a, b):
    try:
        return ("ok", op(a, b))
    except Exception as err:  # noqa: BLE001 - compare failure kinds
        return ("err", type(err))


def _traced(op, a, b):
    try:
        out = op(node(a), b)
    except trace.ExecutionError as err:
        return ("err", type(err.exception_node.exception))
    assert isinstance(out, MessageNode)
    return ("ok", out.data)


def _same(x, y):
    if x[0] == "ok" and isinstance(x[1], float) and isinstance(y[1], float):
        return math.isclose(x[1], y[1]) or (math.isnan(x[1]) and math.isnan(y[1]))
    return x == y


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(BINARY), numbers, numbers)
def test_binary_ops_match_python(op, a, b):
    if op is operator.pow and (abs(b) > 8 or isinstance(a, float) and abs(a) > 1e6):
        b = 2
    assert _same(_plain(op, a, b), _traced(op, a, b))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(BITWISE), ints, st.integers(min_value=0, max_value=40))
def test_bitwise_ops_match_python(op, a, b):
    assert _same(_plain(op, a, b), _traced(op, a, b))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(BINARY[:3] + BITWISE[:3]), ints, ints)
def test_reflected_ops_match_python(op, a, b):
    if op in (operator.lshift,):
        return
    plain = _plain(op, a, b)
    try:
        traced = ("ok", op(a, node(b)).data)
    except trace.ExecutionError as err:
        traced = ("err", type(err.exception_node.exception))
    assert _same(plain, traced)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20), st.text(max_size=20))
def test_string_ops_match_python(a, b):
    assert (node(a) + b).data == a + b
    assert (a + node(b)).data == a + b
    x = node(a)
    assert x.upper().data == a.upper() and x.lower().data == a.lower()
    assert x.title().data == a.title() and x.swapcase().data == a.swapcase()
    assert x.capitalize().data == a.capitalize()
    assert x.strip().data == a.strip()
    assert x.replace("a", b).data == a.replace("a", b)
    assert [p.data for p in x.split()] == a.split()
    assert len(x) == len(a) and x.len().data == len(a)
    assert [c.data for c in x] == list(a)


@settings(max_examples=200, deadline=None)
@given(st.lists(ints, max_size=10), st.lists(ints, max_size=10))
def test_list_ops_match_python(a, b):
    x = node(list(a))
    assert (x + b).data == a + b
    assert [v.data for v in x] == a
    if a:
        assert x[0].data == a[0] and x[-1].data == a[-1]
        assert (a[0] in x)
    assert x.count(0).data == a.count(0)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=5), ints, max_size=6))
def test_dict_ops_match_python(d):
    x = node(dict(d))
    assert x.keys().data == list(d.keys()) and x.values().data == list(d.values())
    assert [(k.data, v.data) for k, v in x.items()] == list(d.items())
    assert [k.data for k in x] == list(d)
    assert x.get("nope", 7).data == d.get("nope", 7)


@settings(max_examples=100, deadline=None)
@given(numbers)
def test_unary_ops_match_python(a):
    x = node(a)
    assert (-x).data == -a and (+x).data == +a and abs(x).data == abs(a)
    assert math.floor(x).data == math.floor(a) and math.ceil(x).data == math.ceil(a)
    assert math.trunc(x).data == math.trunc(a) and round(x).data == round(a)
    assert round(x, 2).data == round(a, 2)


def test_set_and_tuple_iteration():
    assert sorted(v.data for v in node({3, 1, 2})) == [1, 2, 3]
    assert [v.data for v in node((1, 2))] == [1, 2]


def test_eq_neq_bool_and_contains():
    x = node(5)
    assert x == 5 and x != 6 and bool(x) and not bool(node(0))
    assert x.eq(5).data is True and x.neq(5).data is False
    assert isinstance(x.eq(5), MessageNode)


def test_format_join_call_getattr():
    assert node("{} {x}").format(1, x=2).data == "1 2"
    assert node(",").join(["a", node("b")]).data == "a,b"
    assert node([3, 1]).call("index", 1).data == 1
    assert node(1.5).getattr("real").data == 1.5
    f = node(lambda v: v * 2)
    assert f(21).data == 42
    assert node(2).clone().data == 2


def test_iteration_over_non_iterable_raises_execution_error():
    with pytest.raises(trace.ExecutionError):
        iter(node(3))


def test_string_method_on_wrong_type():
    with pytest.raises(AttributeError, match="no attribute"):
        node(3).upper()
    with pytest.raises(AttributeError, match="use .data"):
        _ = node(3).nonexistent_method


def test_operator_exception_is_exception_node():
    with pytest.raises(trace.ExecutionError) as info:
        node(1) / 0
    e = info.value.exception_node
    assert e.data.startswith("(ZeroDivisionError)") and len(e.parents) == 2


def test_module_level_operators_exposed():
    ops = trace.operators
    assert ops.add(node(1), node(2)).data == 3
    assert ops.cond(node(True), node("a"), node("b")).data == "a"
    assert ops.list_append(node([1]), node(2)).data == [1, 2]
    assert ops.make_dict(a=node(1)).data == {"a": 1}


def test_call_llm_uses_context_lm_and_raises_on_failure():
    import opto
    from opto.llm import ScriptedLM

    lm = ScriptedLM(["hello back"])
    with opto.context(lm=lm):
        out = trace.operators.call_llm(node("be brief"), node("hi"))
    assert out.data == "hello back"
    assert lm.requests[0].messages[0]["content"] == "be brief"

    def failing(request):
        raise TimeoutError("model took too long")

    with opto.context(lm=ScriptedLM(failing)), pytest.raises(trace.ExecutionError):
        trace.operators.call_llm(node("sys"), node("hi"))
