"""networkx export: kinds, attributes, shortening, depth."""

from __future__ import annotations

import networkx as nx

from opto import trace, viz


def test_kinds_and_attributes(small_graph) -> None:
    g = small_graph
    graph = viz.to_networkx(g.shouted, g.error)
    kinds = {data["name"]: data["kind"] for _, data in graph.nodes(data=True)}
    assert kinds[g.prompt.name] == "parameter"
    assert kinds[g.count.name] == "input"
    assert kinds[g.combined.name] == "op"
    assert kinds[g.shouted.name] == "output"
    assert kinds[g.error.name] == "exception"
    assert set(kinds.values()) == set(viz.KINDS)

    combined = graph.nodes[g.combined.name]
    assert combined["op"] == "repeat"
    assert combined["value"] == repr("Say hi" * 3)
    assert combined["description"] == g.combined.description
    assert combined["level"] == g.combined.level == 1
    assert graph.nodes[g.prompt.name]["op"] == ""
    assert graph.nodes[g.prompt.name]["trainable"] is True

    # Edges run parent -> child and cover exactly the traced dependencies.
    assert graph.has_edge(g.prompt.name, g.combined.name)
    assert graph.has_edge(g.count.name, g.combined.name)
    assert graph.has_edge(g.combined.name, g.error.name)
    assert nx.is_directed_acyclic_graph(graph)
    for node in (g.shouted, g.error, g.combined):
        assert {p.name for p in node.parents} == set(graph.predecessors(node.name))


def test_export_holds_only_plain_values(small_graph, tmp_path) -> None:
    graph = viz.to_networkx(small_graph.shouted)
    nx.write_graphml(graph, tmp_path / "g.graphml")  # fails on any non-plain attribute
    assert small_graph.error.name not in graph  # not an ancestor of the given output


def test_leaf_message_nodes_count_as_outputs(small_graph) -> None:
    graph = viz.to_networkx(small_graph.shouted, small_graph.error)
    outputs = [k for k, d in graph.nodes(data=True) if d["kind"] == "output"]
    assert outputs == [small_graph.shouted.name]


def test_long_values_are_shortened() -> None:
    long = trace.node("a" * 500 + "TAIL", name="long")
    out = long + "!"
    graph = viz.to_networkx(out, value_limit=40)
    value = graph.nodes[long.name]["value"]
    assert len(value) <= 40 and "…" in value and value.endswith("TAIL'")
    end = viz.to_networkx(out, value_limit=40, ellipsis="end").nodes[long.name]["value"]
    assert end.startswith("'aaa") and end.endswith("…")


def test_subgraph_export_takes_level_pairs(small_graph) -> None:
    g = small_graph
    pairs = [(n.level, n) for n in (g.combined, g.prompt, g.count)]
    graph = viz.subgraph_to_networkx(pairs)
    assert set(graph) == {g.combined.name, g.prompt.name, g.count.name}
    assert graph.nodes[g.combined.name]["kind"] == "output"
    assert graph.number_of_edges() == 2


def test_deep_chain_exports_without_recursion() -> None:
    depth = 100_000
    x = trace.node(0, name="x")
    for _ in range(depth):
        x = x + 1
    graph = viz.to_networkx(x)
    assert graph.number_of_nodes() >= depth + 1
    assert graph.nodes[x.name]["kind"] == "output"
    assert graph.nodes[x.name]["level"] == depth
