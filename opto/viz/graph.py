"""Export a traced graph to a ``networkx.DiGraph`` of plain attributes.

The export holds strings and ints only (no references to the nodes), so it can be saved with
``networkx.write_graphml``, compared in tests, or drawn long after the trace was freed. All walks
use an explicit stack: agent traces get 100,000 nodes deep.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import networkx as nx

from opto.trace.graph import toposort
from opto.trace.nodes import IDENTITY_OPERATORS, ExceptionNode, MessageNode, ParameterNode, get_op_name
from opto.viz.text import Ellipsis_, preview, text_lines

if TYPE_CHECKING:
    from opto.trace.nodes import Node

Kind = Literal["parameter", "input", "op", "output", "exception"]
KINDS: tuple[Kind, ...] = ("parameter", "input", "op", "output", "exception")

# Ops that only pass their input through; pictures can skip them (``simple_visualization``).
IDENTITY_OPS = frozenset(IDENTITY_OPERATORS)

# A trainable bundle's call is the op ``eval`` of its ``__code`` parameter (as in trace-opt); the
# function's name is read from that code so that pictures can say which function ran.
CODE_INPUT = "__code"
_DEF_RE = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+([A-Za-z_]\w*)", re.MULTILINE)
MAX_LINES = 12  # multi-line values (code, prompts) show at most this many lines...
LINE_LIMIT = 72  # ... of at most this many characters each


def ancestors(*outputs: Node) -> list[Node]:
    """The outputs and everything they depend on, parents before children (topological order)."""
    return toposort(outputs)


def to_networkx(*outputs: Node, value_limit: int = 100, ellipsis: Ellipsis_ = "middle") -> nx.DiGraph:
    """All ancestors of ``outputs`` as a DiGraph keyed by node name, edges parent → child.

    Node attributes: ``kind`` (one of :data:`KINDS`), ``name``, ``py_name``, ``op`` (operator
    name, ``""`` for roots), ``function`` (the function a bundled call ran, also for trainable
    bundles whose op is ``eval``; for a ``__code`` parameter, the function it holds; else ``""``),
    ``value`` (a repr shortened to ``value_limit`` characters), ``lines`` (a multi-line string
    value as its first lines, newline-joined, each capped; else ``""``), ``value_type``,
    ``description``, ``level``, ``trainable``.
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
        op = _op_name(node.description) if is_message else ""
        graph.add_node(
            keys[id(node)],
            kind=kind,
            name=str(node.name),
            py_name=str(getattr(node, "py_name", node.name)),
            op=op,
            function=_function_name(node, op),
            value=preview(node.data, value_limit, ellipsis),
            lines=_lines(node.data, value_limit),
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


def _function_name(node: Node, op: str) -> str:
    if isinstance(node, ExceptionNode):
        return ""
    if isinstance(node, MessageNode):
        code = node.inputs.get(CODE_INPUT) if op == "eval" else None
        return (_defined_name(code.data) if code is not None else "") or op
    if str(node.name).startswith(CODE_INPUT):
        return _defined_name(node.data)
    return ""


def _defined_name(code: Any) -> str:
    match = _DEF_RE.search(code) if isinstance(code, str) else None
    return match.group(1) if match else ""


def _lines(value: Any, value_limit: int) -> str:
    if not isinstance(value, str) or "\n" not in value.strip("\n"):
        return ""
    limit = LINE_LIMIT if value_limit <= 0 else max(20, min(value_limit, LINE_LIMIT))
    return "\n".join(text_lines(value, MAX_LINES, limit))


def _op_name(description: Any) -> str:
    try:
        return str(get_op_name(description))
    except (ValueError, TypeError, AssertionError):
        return ""
