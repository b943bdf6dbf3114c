"""The nodes of a trace graph: plain values, trainable parameters, messages (op outputs), exceptions.

A node is data, its parents and an op description (``"[op_name] what it does"``). Operator
overloads live in ``opto.trace.node_ops``; feedback propagation rules in ``opto.trace.propagators``.
Parents are held strongly, children weakly: a parameter used a million times does not keep a
million outputs alive.
"""

from __future__ import annotations

import copy
import re
import warnings
import weakref
from contextvars import ContextVar
from typing import Any, Generic, SupportsIndex, TypeVar

from opto.context import _SETTINGS
from opto.trace.call_info import LazyInfo
from opto.trace.fields import GRAPH_FIELDS, base_name, detached_info, init_fields, node_state, set_node_state
from opto.trace.graph import GRAPH, Graph, toposort  # noqa: F401 - GRAPH re-exported (trace-opt path)
from opto.trace.node_ops import NodeOperators

T = TypeVar("T")

IDENTITY_OPERATORS = ("identity", "clone")
FEEDBACK_ORACLE = "user"  # key of the feedback given by the user to the node ``backward`` starts from
_OP_RE = re.compile(r"^\[([^\[\]]+)\]")
# Nodes whose ``.data`` was read while a bundled function ran (to find undeclared inputs).
USED_NODES: ContextVar[list | None] = ContextVar("opto_used_nodes", default=None)


def get_op_name(description: str) -> str:
    """The operator name in square brackets at the start of a description."""
    if type(description) is not str:
        raise TypeError(f"description must be a str, got {type(description).__name__}: {description!r}")
    match = _OP_RE.match(description)
    if match is None:
        raise ValueError(f"description {description!r} must start with the operator name in brackets, e.g. '[add] ...'")
    return match.group(1)


def _normalize_description(description: str | None, default: str, kind: str) -> str:
    if not description:
        return default
    if _OP_RE.match(description):
        return description
    return f"[{kind}] {description.strip()}"


def node(data: Any, name: str | None = None, trainable: bool = False, description: str | None = None,
         constraint: str | None = None) -> Node:
    """Wrap ``data`` in a node; ``trainable=True`` makes a ParameterNode an optimizer may change."""
    if description is not None and type(description) is not str:
        raise TypeError(f"description must be a str or None, got {type(description).__name__}")
    if name is not None and type(name) is not str:
        raise TypeError(f"node(name=...) must be a str or None, got {type(name).__name__}: {name!r}")
    if type(trainable) is not bool:
        raise TypeError(f"node(trainable=...) must be a bool (True or False), got {type(trainable).__name__}: "
                        f"{trainable!r}")
    if trainable:
        if isinstance(data, Node):
            name = name or data.name.split(":")[0]
            data = data._data
        return ParameterNode(data, name=name, trainable=True, description=description, constraint=constraint)
    if isinstance(data, Node):
        if name is not None:
            warnings.warn(f"name {name!r} is ignored because data is already a Node", stacklevel=2)
        return data
    return Node(data, name=name, description=description, constraint=constraint)


def preview(value: Any, limit: int = 40) -> str:
    """``repr(value)`` on one line, cut to ``limit`` characters."""
    try:
        text = repr(value)
    except Exception as err:  # a user __repr__ that fails must not break printing a node
        text = f"<{type(value).__name__}: repr failed: {type(err).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class AbstractNode(Generic[T]):
    """Data plus its place in the graph (parents, weak children, level, name)."""

    # Slots keep nodes small and cheap to create; ``__dict__`` stays for user-added attributes.
    # The fields are set in one place: opto.trace.fields.init_fields.
    __slots__ = ("_parents", "_children", "_level", "_data", "_name", "trainable", "_feedback", "_description",
                 "_constraint", "_backwarded", "_info", "__weakref__", "__dict__")
    _parents: list[Node]
    _children: list[weakref.ref]
    _level: int
    _data: Any
    _name: str
    trainable: bool
    _feedback: dict[Any, list[Any]] | None
    _description: str
    _constraint: str | None
    _backwarded: bool
    # An info dict, or a compact stand-in (CallInfo, OperatorInfo) that becomes one when read.
    _info: dict[str, Any] | LazyInfo | None
    _default_description = "[Node] This is a node in a computational graph."
    _kind = "Node"

    def __init__(self, value: Any, *, name: str | None = None, trainable: bool = False) -> None:
        if isinstance(value, AbstractNode):
            value = value._data
        init_fields(self, value, name if name is not None else type(value).__name__, trainable,
                     self._default_description, None, None)

    @property
    def data(self) -> T:
        used = USED_NODES.get()
        if used is not None and _SETTINGS.get().tracing:
            used.append(self)
        return self._data

    @property
    def parents(self) -> list[Node]:
        return self._parents

    @property
    def children(self) -> list[Node]:
        """Children still alive (held weakly)."""
        live = [c for c in (r() for r in self._children) if c is not None]
        if len(live) < len(self._children):
            self._children = [weakref.ref(c) for c in live]
        return live

    @property
    def name(self) -> str:
        return self._name

    @property
    def py_name(self) -> str:
        return self._name.replace(":", "")

    @property
    def id(self) -> str:
        return self._name.split(":")[1]

    @property
    def level(self) -> int:
        return self._level

    @property
    def is_root(self) -> bool:
        return not self._parents

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def _add_child(self, child: Node) -> None:
        child._add_parent(self)

    def _add_parent(self, parent: AbstractNode) -> None:
        if parent is self:
            raise ValueError("a node cannot be its own parent")
        if not isinstance(parent, Node):
            raise TypeError(f"{parent!r} is a {type(parent).__name__}, not a Node")
        if any(p is parent for p in self._parents):
            return
        self._link((parent,))

    def _link(self, parents: Any) -> None:
        """Add parents (skipping repeats) and register this node as their weak child."""
        mine = self._parents
        level = self._level
        me = weakref.ref(self)
        seen: set[int] | None = {id(p) for p in mine} if len(mine) > 8 else None
        for parent in parents:
            if seen is None:
                duplicate = False
                for p in mine:
                    if p is parent:
                        duplicate = True
                        break
                if duplicate:
                    continue
                if len(mine) >= 8:
                    seen = {id(p) for p in mine}
            elif id(parent) in seen:
                continue
            if seen is not None:
                seen.add(id(parent))
            mine.append(parent)
            kids = parent._children
            kids.append(me)
            n = len(kids)
            if n >= 128 and n & (n - 1) == 0:  # at powers of two: drop dead refs if half are dead
                live = [r for r in kids if r() is not None]
                if len(live) <= n // 2:
                    parent._children = live
            if parent._level >= level:
                level = parent._level + 1
        self._level = level

    def __str__(self) -> str:
        return f"Node: ({self._name}, dtype={type(self._data)}, data={self._data})"

    def __repr__(self) -> str:
        """Short and readable, e.g. ``<ParameterNode prompt:0 'You are a helpful...'>``, so that
        printing ``node.feedback`` (keyed by nodes) shows which node each entry came from."""
        return f"<{type(self).__name__} {self._name} {preview(self._data)}>"

    def lt(self, other: AbstractNode) -> bool:
        return -self._level < -other._level

    def gt(self, other: AbstractNode) -> bool:
        return -self._level > -other._level

    # --- copying: detached, iterative, never recursing through ancestors ---
    def __deepcopy__(self, memo: dict) -> AbstractNode:
        """A detached copy: same kind, deep-copied data, no parents or children (trace-opt semantics)."""
        cls = self.__class__
        result = cls.__new__(cls)
        memo[id(self)] = result
        init_fields(result, None, base_name(self._name), False, "", None, detached_info(self))
        for key, value in node_state(self).items():
            if key not in GRAPH_FIELDS:
                setattr(result, key, copy.deepcopy(value, memo))
        if hasattr(self, "_inputs"):
            result._inputs = {}  # type: ignore[attr-defined]
        return result

    def __copy__(self) -> AbstractNode:
        """A shallow copy under a new name, sharing data and parents."""
        cls = self.__class__
        result = cls.__new__(cls)
        set_node_state(result, node_state(self))
        result._parents = list(self._parents)
        result._children = []
        result._name = GRAPH.register(result, base_name(self._name))
        return result

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple:
        """Pickle the ancestor graph as flat records, so depth never hits the recursion limit."""
        from opto.trace.serialize import locate, node_from_group

        return node_from_group, locate(self)


class Node(NodeOperators, AbstractNode[T]):
    """A value in a traced program. Feedback from the output accumulates here during backward."""

    __slots__ = ()

    def __init__(self, value: Any, *, name: str | None = None, trainable: bool = False,
                 description: str | None = None, constraint: str | None = None,
                 info: dict[str, Any] | LazyInfo | None = None) -> None:
        if name is not None and type(name) is not str:
            raise TypeError(f"name must be a str or None, got {type(name).__name__}: {name!r}")
        if type(trainable) is not bool:
            raise TypeError(f"trainable must be a bool (True or False), got {type(trainable).__name__}: "
                            f"{trainable!r}")
        if isinstance(value, AbstractNode):
            value = value._data
        description = (self._default_description if description is None
                       else _normalize_description(description, self._default_description, self._kind))
        init_fields(self, value, name if name is not None else type(value).__name__, trainable, description,
                     constraint, info)

    @property
    def feedback(self) -> dict:
        """Feedback received, keyed by the child that sent it (``"user"`` for the user's own)."""
        if self._feedback is None:
            self._feedback = {}
        return self._feedback

    def zero_feedback(self) -> None:
        self._feedback = None

    def _add_feedback(self, child: Any, feedback: Any) -> None:
        fb = self._feedback
        if fb is None:
            fb = self._feedback = {}
        fb.setdefault(child, []).append(feedback)

    @property
    def description(self) -> str:
        return self._description

    @property
    def op_name(self) -> str:
        return get_op_name(self._description)

    @property
    def info(self) -> dict[str, Any] | None:
        """What the op that made this node recorded (function, inputs, output, source...), or None.

        Stored compactly until first read (see ``opto.trace.call_info``); reading makes it a dict.
        """
        info = self._info
        if info is None or type(info) is dict:
            return info
        materialized = self._info = info.materialize(self)  # type: ignore[union-attr]
        return materialized

    @property
    def type(self) -> type:
        return type(self._data)

    @property
    def parameter_dependencies(self) -> set[ParameterNode]:
        """Parameter nodes this node depends on (computed on demand by walking ancestors)."""
        return {n for n in toposort([self]) if isinstance(n, ParameterNode)}

    @property
    def expandable_dependencies(self) -> set[MessageNode]:
        """Ancestors whose bundled code was itself traced (``traceable_code=True``)."""
        return {n for n in toposort([self]) if isinstance(n, MessageNode) and n._traced_output() is not None}

    def _set(self, value: Any) -> None:
        """Replace the data in place (not traced); what optimizers call."""
        if isinstance(value, AbstractNode):
            value = value._data
        self._data = value

    def _itemize(self) -> tuple:
        return (-self._level, id(self), self)

    def backward(self, feedback: Any = "", propagator: Any = None, retain_graph: bool = False,
                 visualize: bool = False, simple_visualization: bool = True, reverse_plot: bool = False,
                 print_limit: int = 100, pause_gc: bool = True) -> Any:
        """Send ``feedback`` from this node to every ancestor in one reverse-topological pass.

        ``pause_gc``: hold off Python's cyclic garbage collector for the length of the pass (it
        would rescan the live graph over and over); re-enabled when the pass ends, even on error.
        Returns a graphviz.Digraph of the graph when ``visualize`` is true, else None.
        """
        from opto.trace.backward import run_backward

        return run_backward(self, feedback, propagator, retain_graph, visualize,
                            simple_visualization, reverse_plot, print_limit, pause_gc)

    def clone(self) -> Node:
        from opto.trace import operators as ops

        return ops.clone(self)

    def detach(self) -> Node:
        return copy.deepcopy(self)


class ParameterNode(Node[T]):
    """A value the optimizer may rewrite (a prompt, a number, a function's source)."""

    __slots__ = ()

    _default_description = "[ParameterNode] This is a ParameterNode in a computational graph."
    _kind = "ParameterNode"

    def __init__(self, value: Any, *, name: str | None = None, trainable: bool = True,
                 description: str | None = None, constraint: str | None = None,
                 info: dict[str, Any] | LazyInfo | None = None) -> None:
        super().__init__(value, name=name, trainable=trainable, description=description,
                         constraint=constraint, info=info)

    def __str__(self) -> str:
        return f"ParameterNode: ({self._name}, dtype={type(self._data)}, data={self._data})"


class MessageNode(Node[T]):
    """The output of an operator; ``_inputs`` names the nodes it was computed from."""

    __slots__ = ("_inputs",)

    def __init__(self, value: Any, *, inputs: list[Node] | dict[str, Node], description: str,
                 constraint: str | None = None, name: str | None = None, info: dict[str, Any] | LazyInfo | None = None) -> None:
        super().__init__(value, name=name, description=description, constraint=constraint, info=info)
        if isinstance(inputs, list):
            inputs = {v.name: v for v in inputs}
        if not isinstance(inputs, dict):
            raise TypeError("inputs of a MessageNode must be a list or a dict of Nodes")
        if not _SETTINGS.get().tracing and inputs:
            inputs = {}
        self._inputs = inputs
        for key, value_node in inputs.items():
            if not isinstance(value_node, Node):
                raise TypeError(f"input {key!r} of a MessageNode is a {type(value_node).__name__}, not a Node")
        self._link(inputs.values())

    @classmethod
    def _fast(cls, data: Any, inputs: dict[str, Node], description: str, base: str,
              info: dict[str, Any] | LazyInfo | None) -> MessageNode:
        """Build an op output without re-validating what the bundle already checked (hot path)."""
        self = cls.__new__(cls)
        init_fields(self, data, base, False, description, None, info)
        self._inputs = inputs
        self._link(inputs.values())
        return self

    @property
    def inputs(self) -> dict[str, Node]:
        return dict(self._inputs)

    def __str__(self) -> str:
        return f"MessageNode: ({self._name}, dtype={type(self._data)}, data={self._data})"

    def _add_feedback(self, child: Any, feedback: Any) -> None:
        fb = self._feedback
        if fb is None:
            fb = self._feedback = {}
        if child in fb:
            raise ValueError("a MessageNode receives at most one feedback from each child")
        fb[child] = [feedback]

    def _traced_output(self) -> Node | None:
        info = self._info
        out = info.get("output") if type(info) is dict else getattr(info, "output", None)
        return out if isinstance(out, Node) else None

    @property
    def hidden_dependencies(self) -> set[ParameterNode]:
        """Parameters used inside traceable bundled code but not visible as this node's inputs.

        Nested traceable bundles count too: a parameter used three bundles deep is hidden here.
        """
        out = self._traced_output()
        if out is None:
            return set()
        visible = toposort(self._parents)
        visible_ids = {id(n) for n in visible}
        hidden: dict[int, ParameterNode] = {}
        pending = [out]
        expanded = {id(self)}
        while pending:
            for n in toposort([pending.pop()]):
                if id(n) in visible_ids:
                    continue
                if isinstance(n, ParameterNode):
                    hidden.setdefault(id(n), n)
                elif isinstance(n, MessageNode) and id(n) not in expanded:
                    inner = n._traced_output()
                    if inner is not None:
                        expanded.add(id(n))
                        pending.append(inner)
        return set(hidden.values())


class ExceptionNode(MessageNode[T]):
    """An exception raised by an operator; its parents are the inputs that led to it."""

    __slots__ = ("exception",)

    def __init__(self, value: BaseException, *, inputs: list[Node] | dict[str, Node],
                 description: str = "[ExceptionNode] This is node containing the error of execution.",
                 constraint: str | None = None, name: str | None = None, info: dict[str, Any] | LazyInfo | None = None) -> None:
        self.exception = value if isinstance(value, BaseException) else None
        data: Any = value
        if isinstance(value, BaseException):
            cls = type(value)
            qual = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
            data = f"({qual}) {value}"
        super().__init__(data, inputs=inputs, description=description, constraint=constraint,
                         name=name, info=info)

    def create_feedback(self, style: str = "simple") -> str:
        if style not in ("simple", "full"):
            raise ValueError("style must be 'simple' or 'full'")
        if style == "full" and isinstance(self._info, dict) and self._info.get("error_comment"):
            return self._info["error_comment"]
        return self._data


__all__ = ["AbstractNode", "Node", "ParameterNode", "MessageNode", "ExceptionNode", "node", "GRAPH",
           "Graph", "get_op_name", "IDENTITY_OPERATORS", "USED_NODES"]
