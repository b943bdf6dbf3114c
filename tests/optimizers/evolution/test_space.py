"""The search space: kinds inferred from values, overrides, validation, names for ParameterNodes."""

from __future__ import annotations

import pytest

from opto.optimizers.evolution.space import SearchSpace, SpaceError, infer_spec, named_parameters, space_for
from opto.trace import bundle, node

CODE = "def priority(item, bins, *, k=2):\n    return -bins\n"


@bundle(trainable=True)
def double(x):
    return x * 2


def test_kinds_are_inferred_from_values():
    space = SearchSpace.from_values({"x": 1.5, "n": 3, "f": CODE, "p": "be brief", "b": True})
    kinds = {s.name: s.kind for s in space}
    assert kinds == {"x": "number", "n": "integer", "f": "code", "p": "text", "b": "categorical"}
    assert space["f"].function_name == "priority"
    assert space["f"].signature == "(item, bins, *, k=...)"
    assert space["x"].low == -1.5 and space["x"].high == 4.5  # value +- 2*max(|v|, 1)
    assert space["b"].choices == (False, True)


def test_overrides_and_their_errors():
    space = SearchSpace.from_values({"x": 0.5, "m": "a"}, {"x": {"low": 0, "high": 1, "log": False},
                                                            "m": {"choices": ["a", "b"]}})
    assert (space["x"].low, space["x"].high) == (0.0, 1.0)
    assert space["m"].kind == "categorical"
    with pytest.raises(SpaceError, match="unknown space key"):
        infer_spec("x", 1.0, {"lo": 0})
    with pytest.raises(SpaceError, match="outside"):
        infer_spec("x", 5.0, {"low": 0, "high": 1})
    with pytest.raises(SpaceError, match="not among choices"):
        infer_spec("m", "z", {"choices": ["a", "b"]})
    with pytest.raises(SpaceError, match="log=True needs low > 0"):
        infer_spec("x", 1.0, {"low": 0, "high": 2, "log": True})
    with pytest.raises(SpaceError, match="unknown parameter"):
        SearchSpace.from_values({"x": 1.0}, {"y": {"low": 0}})
    with pytest.raises(SpaceError, match="searches code, text, numbers"):
        infer_spec("d", {"a": 1})


def test_problems_names_each_bad_value():
    space = SearchSpace.from_values({"x": 0.5, "n": 2}, {"x": {"low": 0, "high": 1}})
    assert space.problems({"x": 0.2, "n": 3}) == []
    problems = space.problems({"x": 3.0, "n": 2.5, "z": 1})
    assert "x: 3.0 is outside [0.0, 1.0]" in problems
    assert "n: expected an integer, got 2.5" in problems
    assert "unknown parameter 'z'" in problems


def test_to_dict_keeps_zero_bounds():
    space = SearchSpace.from_values({"x": 0.5}, {"x": {"low": 0, "high": 1}})
    assert space.to_dict() == [{"name": "x", "kind": "number", "low": 0.0, "high": 1.0}]


def test_named_parameters_from_nodes_bundles_and_mappings():
    w = node(1.0, trainable=True, name="w")
    names = named_parameters([double, w])
    assert list(names) == ["double", "w"]
    assert names["double"] is double.parameter
    space = space_for(names)
    assert space["double"].kind == "code" and space["double"].function_name == "double"
    assert list(named_parameters({"weight": w})) == ["weight"]
    a, b = node(1.0, trainable=True, name="v"), node(2.0, trainable=True, name="v")
    assert sorted(named_parameters([a, b])) == sorted([a.py_name, b.py_name])  # clashing names: py_name
    with pytest.raises(SpaceError, match="ParameterNodes"):
        named_parameters([3])


def test_info_search_refines_a_node():
    from opto.trace.nodes import ParameterNode

    p = ParameterNode(0.5, name="rate", info={"search": {"low": 0.01, "high": 1.0, "log": True}})
    spec = space_for({"rate": p})["rate"]
    assert (spec.low, spec.high, spec.log) == (0.01, 1.0, True)
