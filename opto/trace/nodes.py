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
from typing import Any, Generic, TypeVar

from opto.context import _SETTINGS
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


_SLOTS: dict[type, tuple[str, ...]] = {}  # per-class cache of slot names (derived data, not state)


def _slot_names(cls: type) -> tuple[str, ...]:
    names = _SLOTS.get(cls)
    if names is None:
        names = tuple(slot for klass in cls.__mro__ for slot in klass.__dict__.get("__slots__", ())
                      if slot not in ("__dict__", "__weakref__"))
        _SLOTS[cls] = names
    return names


def node_state(n: Any) -> dict[str, Any]:
    """Every attribute of a node (slots and any extra ``__dict__`` entries)."""
    state: dict[str, Any] = {}
    missing = object()
    for slot in _slot_names(type(n)):
        value = getattr(n, slot, missing)
        if value is not missing:
            state[slot] = value
    extra = getattr(n, "__dict__", None)
    if extra:
        state.update(extra)
    return state


def set_node_state(n: Any, state: dict[str, Any]) -> None:
    for key, value in state.items():
        setattr(n, key, value)


class AbstractNode(Generic[T]):
    """Data plus its place in the graph (parents, weak children, level, name)."""

    # Slots keep nodes small and cheap to create; ``__dict__`` stays for user-added attributes.
    __slots__ = ("_parents", "_children", "_level", "_data", "_name", "__weakref__", "__dict__")

    def __init__(self, value: Any, *, name: str | None = None, trainable: bool = False) -> None:
        self._parents: list[Node] = []
        self._children: list[weakref.ref] = []
        self._level = 0
        if isinstance(value, AbstractNode):
            value = value._data
        self._data = value
        self._name = GRAPH.register(self, name if name is not None else type(value).__name__)

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

    def _add_parent(self, parent: Node) -> None:
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
        for key, value in node_state(self).items():
            if key in ("_parents", "_children"):
                value = []
            elif key == "_inputs":
                value = {}
            elif key == "_feedback":
                value = None
            elif key == "_info" and value is not None:
                if hasattr(value, "materialize"):
                    value = value.materialize(self)
                if isinstance(value, dict):  # drop references into the graph; keep names, docs, source
                    value = {k: v for k, v in value.items() if k not in ("inputs", "output", "exception", "fun", "external_dependencies")}
            elif key == "_name":
                continue
            else:
                value = copy.deepcopy(value, memo)
            setattr(result, key, value)
        result._level = 0
        result._name = GRAPH.register(result, self._name.split(":")[0].split("/")[-1])
        return result

    def __copy__(self) -> AbstractNode:
        """A shallow copy under a new name, sharing data and parents."""
        cls = self.__class__
        result = cls.__new__(cls)
        set_node_state(result, node_state(self))
        result._parents = list(self._parents)
        result._children = []
        result._name = GRAPH.register(result, self._name.split(":")[0].split("/")[-1])
        return result

    def __reduce_ex__(self, protocol: int) -> tuple:
        """Pickle the ancestor graph as flat records, so depth never hits the recursion limit."""
        from opto.trace.serialize import locate, node_from_group

        return node_from_group, locate(self)


class Node(NodeOperators, AbstractNode[T]):
    """A value in a traced program. Feedback from the output accumulates here during backward."""

    __slots__ = ("trainable", "_feedback", "_description", "_constraint", "_backwarded", "_info")
    _default_description = "[Node] This is a node in a computational graph."
    _kind = "Node"

    def __init__(self, value: Any, *, name: str | None = None, trainable: bool = False,
                 description: str | None = None, constraint: str | None = None,
                 info: dict | None = None) -> None:
        super().__init__(value, name=name)
        self.trainable = trainable
        self._feedback: dict | None = None
        self._description = (self._default_description if description is None
                             else _normalize_description(description, self._default_description, self._kind))
        self._constraint = constraint
        self._backwarded = False
        self._info = info

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
    def info(self) -> dict | None:
        info = self._info
        if info is not None and type(info) is not dict and hasattr(info, "materialize"):
            info = self._info = info.materialize(self)
        return info

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
                 print_limit: int = 100) -> Any:
        """Send ``feedback`` from this node to every ancestor in one reverse-topological pass.

        Returns a graphviz.Digraph of the graph when ``visualize`` is true, else None.
        """
        from opto.trace.backward import run_backward

        return run_backward(self, feedback, propagator, retain_graph, visualize,
                            simple_visualization, reverse_plot, print_limit)

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
                 info: dict | None = None) -> None:
        super().__init__(value, name=name, trainable=trainable, description=description,
                         constraint=constraint, info=info)

    def __str__(self) -> str:
        return f"ParameterNode: ({self._name}, dtype={type(self._data)}, data={self._data})"


class MessageNode(Node[T]):
    """The output of an operator; ``_inputs`` names the nodes it was computed from."""

    __slots__ = ("_inputs",)

    def __init__(self, value: Any, *, inputs: list[Node] | dict[str, Node], description: str,
                 constraint: str | None = None, name: str | None = None, info: dict | None = None) -> None:
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
    def _fast(cls, data: Any, inputs: dict[str, Node], description: str, base: str, info: dict | None) -> MessageNode:
        """Build an op output without re-validating what the bundle already checked (hot path)."""
        self = cls.__new__(cls)
        self._data = data
        self._parents = []
        self._children = []
        self._level = 0
        self._name = GRAPH.register(self, base)
        self.trainable = False
        self._feedback = None
        self._description = description
        self._constraint = None
        self._backwarded = False
        self._info = info
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
        """Parameters used inside traceable bundled code but not visible as this node's inputs."""
        out = self._traced_output()
        if out is None:
            return set()
        visible = {n for n in toposort(self._parents) if isinstance(n, ParameterNode)}
        return {n for n in toposort([out]) if isinstance(n, ParameterNode) and n not in visible}


class ExceptionNode(MessageNode[T]):
    """An exception raised by an operator; its parents are the inputs that led to it."""

    __slots__ = ("exception",)

    def __init__(self, value: BaseException, *, inputs: list[Node] | dict[str, Node],
                 description: str = "[ExceptionNode] This is node containing the error of execution.",
                 constraint: str | None = None, name: str | None = None, info: dict | None = None) -> None:
        self.exception = value if isinstance(value, BaseException) else None
        if isinstance(value, BaseException):
            cls = type(value)
            qual = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
            value = f"({qual}) {value}"
        super().__init__(value, inputs=inputs, description=description, constraint=constraint,
                         name=name, info=info)

    def create_feedback(self, style: str = "simple") -> str:
        if style not in ("simple", "full"):
            raise ValueError("style must be 'simple' or 'full'")
        if style == "full" and isinstance(self._info, dict) and self._info.get("error_comment"):
            return self._info["error_comment"]
        return self._data


__all__ = ["AbstractNode", "Node", "ParameterNode", "MessageNode", "ExceptionNode", "node", "GRAPH",
           "Graph", "get_op_name", "IDENTITY_OPERATORS", "USED_NODES"]
