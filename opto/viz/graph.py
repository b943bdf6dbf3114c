"""Export a traced graph to a ``networkx.DiGraph`` of plain attributes.

The export holds strings and ints only (no references to the nodes), so it can be saved with
``networkx.write_graphml``, compared in tests, or drawn long after the trace was freed. All walks
use an explicit stack: agent traces get 100,000 nodes deep.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import networkx as nx

from opto.trace.graph import toposort
from opto.trace.nodes import IDENTITY_OPERATORS, ExceptionNode, MessageNode, ParameterNode, get_op_name
from opto.viz.text import Ellipsis_, preview

if TYPE_CHECKING:
    from opto.trace.nodes import Node

Kind = Literal["parameter", "input", "op", "output", "exception"]
KINDS: tuple[Kind, ...] = ("parameter", "input", "op", "output", "exception")

# Ops that only pass their input through; pictures can skip them (``simple_visualization``).
IDENTITY_OPS = frozenset(IDENTITY_OPERATORS)


def ancestors(*outputs: Node) -> list[Node]:
    """The outputs and everything they depend on, parents before children (topological order)."""
    return toposort(outputs)


def to_networkx(*outputs: Node, value_limit: int = 100, ellipsis: Ellipsis_ = "middle") -> nx.DiGraph:
    """All ancestors of ``outputs`` as a DiGraph keyed by node name, edges parent → child.

    Node attributes: ``kind`` (one of :data:`KINDS`), ``name``, ``py_name``, ``op`` (operator
    name, ``""`` for roots), ``value`` (a repr shortened to ``value_limit`` characters),
    ``value_type``, ``description``, ``level``, ``trainable``.
    """
    if not outputs:
        raise TypeError("to_networkx() needs at least one node")
    return _export(ancestors(*outputs), outputs, value_limit, ellipsis)


def subgraph_to_networkx(
    nodes: Iterable[Node | tuple[int, Node]],
    value_limit: int = 100,
    ellipsis: Ellipsis_ = "middle",
) -> nx.DiGraph:
    """Export exactly ``nodes`` (no ancestor walk), with the edges among them.

    Accepts ``(level, node)`` pairs too, the form the graph propagator's ``TraceGraph`` holds.
    Nodes without children inside the set count as outputs.
    """
    unique: dict[int, Node] = {}
    for item in nodes:
        node = item[1] if isinstance(item, tuple) else item
        unique.setdefault(id(node), node)
    ordered = sorted(unique.values(), key=lambda n: n.level)  # parents have lower levels
    return _export(ordered, (), value_limit, ellipsis)


def _export(
    order: Sequence[Node], outputs: Sequence[Node], value_limit: int, ellipsis: Ellipsis_
) -> nx.DiGraph:
    keys: dict[int, str] = {}
    taken: set[str] = set()
    for node in order:
        keys[id(node)] = _unique_key(str(node.name), taken)

    graph = nx.DiGraph()
    has_child: set[int] = set()
    edges: list[tuple[str, str]] = []
    for node in order:
        for parent in node.parents:
            if id(parent) in keys:
                edges.append((keys[id(parent)], keys[id(node)]))
                has_child.add(id(parent))

    given = {id(n) for n in outputs}
    for node in order:
        is_root = not node.parents
        is_message = isinstance(node, MessageNode)
        if isinstance(node, ExceptionNode):
            kind: Kind = "exception"
        elif isinstance(node, ParameterNode) and node.trainable:
            kind = "parameter"
        elif id(node) in given or (is_message and id(node) not in has_child):
            kind = "output"
        elif is_root:
            kind = "input"
        else:
            kind = "op"
        graph.add_node(
            keys[id(node)],
            kind=kind,
            name=str(node.name),
            py_name=str(getattr(node, "py_name", node.name)),
            op=_op_name(node.description) if is_message else "",
            value=preview(node.data, value_limit, ellipsis),
            value_type=type(node.data).__name__,
            description=str(node.description),
            level=int(node.level),
            trainable=bool(node.trainable),
        )
    graph.add_edges_from(edges)
    return graph


def _unique_key(name: str, taken: set[str]) -> str:
    """``name``, or ``name#2``, ``name#3``… when two distinct nodes share a name."""
    key, n = name, 1
    while key in taken:
        n += 1
        key = f"{name}#{n}"
    taken.add(key)
    return key


def _op_name(description: Any) -> str:
    try:
        return str(get_op_name(description))
    except (ValueError, TypeError, AssertionError):
        return ""
