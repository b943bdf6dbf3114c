"""Node naming and iterative graph walks.

trace-opt keeps every node ever created in a global ``GRAPH``; a long optimization loop therefore
grows without bound. Here ``GRAPH`` only hands out names: a node dies as soon as the user drops
every reference to it, and live nodes are found on demand by scanning the interpreter's objects.
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from opto.context import _SETTINGS

if TYPE_CHECKING:
    from opto.trace.nodes import AbstractNode, Node


class Graph:
    """Names nodes ``base:index``; finds live nodes on demand. Holds no reference to any node.

    Naming is the hot path (every traced op), so it is a counter and nothing else; ``get``,
    ``nodes``, ``roots`` and ``len`` are debugging aids that scan the interpreter's live objects.
    """

    def __init__(self) -> None:
        self._counters: dict[str, itertools.count] = {}

    # --- tracing switch (kept for trace-opt code that reads or writes GRAPH.TRACE) ---
    @property
    def TRACE(self) -> bool:  # noqa: N802 - trace-opt's spelling
        """Whether operations are traced in the current thread / task (read-only use is fine)."""
        return _SETTINGS.get().tracing

    @TRACE.setter
    def TRACE(self, value: bool) -> None:  # noqa: N802
        """trace-opt's global switch, kept so its code runs; prefer ``with trace.stop_tracing():``.

        Unlike trace-opt's process-wide flag, this changes tracing only in the current thread or
        asyncio task (other threads keep tracing), and only until an enclosing ``with
        opto.context(...)`` / ``stop_tracing()`` block exits. Setting ``True`` again restores it.
        """
        if type(value) is not bool:
            raise TypeError(f"GRAPH.TRACE must be True or False, got {type(value).__name__}")
        warnings.warn("GRAPH.TRACE = ... affects only the current thread/task; use `with trace.stop_tracing():` "
                      "(or `with opto.context(tracing=False):`) to switch tracing off for a block",
                      DeprecationWarning, stacklevel=2)
        _SETTINGS.set(dataclasses.replace(_SETTINGS.get(), tracing=value))

    def register(self, node: AbstractNode, base: str) -> str:
        """A fresh name ``[scope/]base:index`` for ``node``."""
        scope = _SETTINGS.get().name_scope
        if scope:
            base = "/".join(scope) + "/" + base
        counter = self._counters.get(base)
        if counter is None:
            counter = self._counters.setdefault(base, itertools.count())
        return f"{base}:{next(counter)}"  # next() on a count is atomic: threads never share a name

    def clear(self) -> None:
        """Restart names at 0 (nodes still referenced elsewhere keep theirs and stay valid)."""
        self._counters = {}

    def nodes(self) -> list[Node]:
        """All live nodes (a scan of the interpreter's objects: for debugging, not hot paths)."""
        from opto.trace.nodes import Node

        return [o for o in gc.get_objects() if isinstance(o, Node)]

    def get(self, name: str) -> Node:
        """The live node called ``name`` (``base:index``)."""
        for n in self.nodes():
            if n._name == name:
                return n
        raise KeyError(f"no live node named {name!r}")

    @property
    def roots(self) -> list[Node]:
        return [n for n in self.nodes() if n.is_root]

    def __len__(self) -> int:
        return len(self.nodes())

    def __str__(self) -> str:
        return f"Graph({len(self)} live nodes)"


GRAPH = Graph()


def toposort(outputs: Iterable[Node]) -> list[Node]:
    """All ancestors of ``outputs`` (inclusive), parents before children. Iterative: no depth limit."""
    order: list[Node] = []
    visited: set[int] = set()
    for out in outputs:
        if id(out) in visited:
            continue
        visited.add(id(out))
        stack: list[Any] = [(out, iter(out._parents))]
        while stack:
            node, parents = stack[-1]
            for parent in parents:
                if id(parent) not in visited:
                    visited.add(id(parent))
                    stack.append((parent, iter(parent._parents)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order
