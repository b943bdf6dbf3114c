"""What a new user trips over gets one clear error naming the fix, and nodes print readably."""

from __future__ import annotations

import pytest

from opto import trace
from opto.trace import bundle
from opto.trace.nodes import MessageNode, Node, ParameterNode


def test_trainable_lambda_is_rejected_before_anything_runs():
    side_effects: list[int] = []
    with pytest.raises(TypeError, match=r"cannot train a lambda.*def name\(args\)"):
        side_effects.append(1) or bundle(trainable=True)(lambda x: side_effects.append(2) or x)
    assert side_effects == [1]


@pytest.mark.parametrize("builtin", [len, max, str.upper])
def test_trainable_builtin_is_rejected_naming_def(builtin):
    with pytest.raises(TypeError, match=r"needs a Python function defined with def.*wrap it in a def"):
        bundle(trainable=True)(builtin)


def test_untrainable_lambda_and_builtin_still_bundle():
    assert bundle()(lambda x: x + 1)(1).data == 2
    assert bundle()(len)([1, 2]).data == 2


@pytest.mark.parametrize("make", [trace.node, Node, ParameterNode])
def test_name_must_be_a_string(make):
    with pytest.raises(TypeError, match=r"name.* must be a str or None, got int: 5"):
        make(1, name=5)


@pytest.mark.parametrize("make", [trace.node, Node])
def test_trainable_must_be_a_bool(make):
    with pytest.raises(TypeError, match=r"trainable.* must be a bool \(True or False\), got str: 'yes'"):
        make(1, trainable="yes")


def test_repr_is_short_and_names_the_node():
    prompt = trace.node("You are a helpful assistant who answers in full sentences.", trainable=True,
                        name="prompt")
    assert repr(prompt) == "<ParameterNode prompt:0 'You are a helpful assistant who answ...>"
    out = prompt + "\nQ: 2+2?"
    assert repr(out).startswith("<MessageNode concat:0 'You are") and len(repr(out)) < 80
    assert "\n" not in repr(out)
    assert repr(trace.node(3)) == "<Node int:0 3>"
    out.backward("shorter")
    printed = str(prompt.feedback)
    assert printed.startswith("{<MessageNode concat:0 ") and "object at 0x" not in printed
    assert isinstance(next(iter(prompt.feedback)), MessageNode)


def test_repr_survives_a_failing_repr():
    class Bad:
        def __repr__(self):
            raise RuntimeError("no")

    assert repr(trace.node(Bad(), name="bad")) == "<Node bad:0 <Bad: repr failed: RuntimeError>>"
