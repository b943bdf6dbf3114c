"""A compact, JSON-ready description of a traced graph, for logs and run stores.

The trainer writes one per training step so a report can draw the step's trace long after the
nodes were freed. Only plain strings, bools and ints go in (no references to nodes), values are
shortened, and a huge graph is cut to the nodes nearest the output (with every trainable parameter
kept) and flagged ``truncated``. The picture itself is drawn above the trainer, in opto.viz/report.
"""

from __future__ import annotations

import reprlib
from collections import deque
from collections.abc import Iterable
from typing import Any

from opto.trace.graph import toposort
from opto.trace.nodes import ExceptionNode, MessageNode, Node, ParameterNode, get_op_name

MAX_NODES = 200  # a step's graph beyond this is cut (nearest the output first); graphviz lays out 200 in seconds
VALUE_LIMIT = 160  # characters of each node's value preview...
TEXT_LIMIT = 800  # ... and of a multi-line string's (code, a prompt): a picture shows its first lines


def graph_summary(outputs: Node | Iterable[Node], max_nodes: int = MAX_NODES,
                  value_limit: int = VALUE_LIMIT) -> dict[str, Any]:
    """``{"nodes": [...], "edges": [[parent, child], ...], "total_nodes": n, "truncated": bool}``.

    Each node is ``{"name", "kind", "value", "trainable", "op", "description"}``; ``value`` is cut to
    ``value_limit`` characters (a multi-line string such as code to at least 800); ``kind`` is one
    of "parameter", "input", "op", "output", "exception" (the kinds opto.viz draws); ``op`` is the
    operator's name ("" for roots). Names are unique within one summary; nodes are listed parents
    before children and edges only join listed nodes.
    """
    outs = [outputs] if isinstance(outputs, Node) else list(outputs)
    if max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1, got {max_nodes}")
    order = toposort(outs)
    total = len(order)
    kept = _nearest(outs, order, max_nodes) if len(order) > max_nodes else None
    if kept is not None:
        order = [n for n in order if id(n) in kept]
    names: dict[int, str] = {}
    taken: set[str] = set()
    for node in order:
        names[id(node)] = _unique(str(node.name), taken)
    has_child: set[int] = set()
    edges: list[list[str]] = []
    for node in order:
        for parent in node._parents:
            if id(parent) in names:
                edges.append([names[id(parent)], names[id(node)]])
                has_child.add(id(parent))
    given = {id(n) for n in outs}
    nodes = [{
        "name": names[id(n)],
        "kind": _kind(n, id(n) in given, id(n) in has_child),
        "value": preview(n._data, _limit(n._data, value_limit)),
        "trainable": bool(getattr(n, "trainable", False)),
        "op": _op(n),
        "description": _short(str(getattr(n, "_description", "") or ""), value_limit),
    } for n in order]
    return {"nodes": nodes, "edges": edges, "total_nodes": total, "truncated": kept is not None}


def preview(value: Any, limit: int = VALUE_LIMIT) -> str:
    """A string as itself, anything else as its repr, cut to ``limit`` characters; never raises."""
    if isinstance(value, str):
        return _short(value, limit)
    r = reprlib.Repr()
    r.maxstring = r.maxother = r.maxlong = max(limit, 8)
    try:
        text = r.repr(value)
    except Exception as err:  # noqa: BLE001 - a user object whose repr raises still gets a label
        text = f"<{type(value).__name__}: repr failed ({type(err).__name__})>"
    return _short(text, limit)


def _limit(value: Any, value_limit: int) -> int:
    multiline = isinstance(value, str) and "\n" in value.strip("\n")
    return max(value_limit, TEXT_LIMIT) if multiline and value_limit > 0 else value_limit


def _short(text: str, limit: int) -> str:
    if limit <= 0 or len(text) <= limit:
        return text
    keep = limit - 1
    head = (keep + 1) // 2
    tail = keep - head
    return text[:head] + "…" + (text[-tail:] if tail else "")


def _nearest(outs: list[Node], order: list[Node], max_nodes: int) -> set[int]:
    """Ids of the trainable parameters, then the nodes nearest the outputs (breadth first), to ``max_nodes``."""
    kept: set[int] = set()
    for n in order:
        if len(kept) >= max_nodes // 2:
            break
        if isinstance(n, ParameterNode) and n.trainable:
            kept.add(id(n))
    queue: deque[Node] = deque(outs)
    seen = {id(n) for n in outs}
    while queue and len(kept) < max_nodes:
        node = queue.popleft()
        kept.add(id(node))
        for parent in node._parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                queue.append(parent)
    return kept


def _kind(node: Node, given: bool, has_child: bool) -> str:
    if isinstance(node, ExceptionNode):
        return "exception"
    if isinstance(node, ParameterNode) and node.trainable:
        return "parameter"
    if given or (isinstance(node, MessageNode) and not has_child):
        return "output"
    return "input" if not node._parents else "op"


def _op(node: Node) -> str:
    if not isinstance(node, MessageNode):
        return ""
    try:
        return str(get_op_name(node.description))
    except (ValueError, TypeError, AssertionError):
        return ""


def _unique(name: str, taken: set[str]) -> str:
    key, n = name, 1
    while key in taken:
        n += 1
        key = f"{name}#{n}"
    taken.add(key)
    return key
