"""graph_summary: the JSON description of a trace that the trainer stores for each step."""

from __future__ import annotations

import json

import pytest

from opto import trace
from opto.trace.summary import graph_summary


def test_nodes_kinds_and_edges_of_a_small_trace():
    k = trace.node(2.0, trainable=True, name="k")
    x = trace.node(3.0, name="x")
    y = k * x + 1
    g = graph_summary(y)
    by_name = {n["name"]: n for n in g["nodes"]}
    assert g["truncated"] is False and g["total_nodes"] == len(g["nodes"]) == 5
    assert by_name[k.name]["kind"] == "parameter" and by_name[k.name]["trainable"] is True
    assert by_name[x.name]["kind"] == "input" and by_name[x.name]["value"] == "3.0"
    assert by_name[y.name]["kind"] == "output" and by_name[y.name]["op"] == "add"
    mul = next(n for n in g["nodes"] if n["op"] == "multiply")
    assert mul["kind"] == "op" and mul["value"] == "6.0"
    assert [k.name, mul["name"]] in g["edges"] and [mul["name"], y.name] in g["edges"]
    names = [n["name"] for n in g["nodes"]]
    assert all(names.index(a) < names.index(b) for a, b in g["edges"])  # parents first
    assert json.loads(json.dumps(g)) == g


def test_a_huge_graph_is_cut_near_the_output_and_keeps_the_parameter():
    k = trace.node(0, trainable=True, name="k")
    y = k
    for _ in range(600):
        y = y + 1
    g = graph_summary(y, max_nodes=50)
    assert g["truncated"] is True and g["total_nodes"] > 600 and len(g["nodes"]) == 50
    names = {n["name"] for n in g["nodes"]}
    assert k.name in names and y.name in names
    assert all(a in names and b in names for a, b in g["edges"])


def test_values_are_shortened_and_bad_reprs_do_not_raise():
    class Bad:
        def __repr__(self):
            raise RuntimeError("no")

    long = trace.node("x" * 10_000, name="long")
    bad = trace.node(Bad(), name="bad")
    g = graph_summary([long, bad], value_limit=40)
    values = {n["name"]: n["value"] for n in g["nodes"]}
    assert len(values[long.name]) == 40 and "…" in values[long.name]
    assert "Bad" in values[bad.name]  # a repr that raises still gives a label
    with pytest.raises(ValueError, match="max_nodes"):
        graph_summary(long, max_nodes=0)


def test_code_keeps_its_first_lines():
    code = "def f(x):\n" + "".join(f"    x = x + {i}\n" for i in range(100))
    g = graph_summary(trace.node(code, trainable=True, name="__code"))
    value = g["nodes"][0]["value"]
    assert value.startswith("def f(x):\n    x = x + 0\n") and value.count("\n") > 12 and len(value) == 800
