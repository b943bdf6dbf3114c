"""Node naming, a weak registry of live nodes, and iterative graph walks.

trace-opt keeps every node ever created in a global ``GRAPH``; a long optimization loop therefore
grows without bound. Here the registry holds weak references only: it can name nodes and find
the live ones, but a node dies as soon as the user drops every reference to it.
"""

from __future__ import annotations

import dataclasses
import itertools
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from opto.context import _SETTINGS

if TYPE_CHECKING:
    from opto.trace.nodes import Node


class Graph:
    """Names nodes ``base:index`` and finds live ones by name, holding weak references only."""

    def __init__(self) -> None:
        self._counters: dict[str, itertools.count] = {}
        self._refs: dict[str, weakref.ref] = {}
        self._prune_at = 4096

    # --- tracing switch (kept for trace-opt code that reads or writes GRAPH.TRACE) ---
    @property
    def TRACE(self) -> bool:  # noqa: N802 - trace-opt's spelling
        return _SETTINGS.get().tracing

    @TRACE.setter
    def TRACE(self, value: bool) -> None:  # noqa: N802
        _SETTINGS.set(dataclasses.replace(_SETTINGS.get(), tracing=bool(value)))

    def register(self, node: Node, base: str) -> str:
        """Give ``node`` a fresh name ``[scope/]base:index`` and remember it weakly."""
        scope = _SETTINGS.get().name_scope
        if scope:
            base = "/".join(scope) + "/" + base
        counter = self._counters.get(base)
        if counter is None:
            counter = self._counters.setdefault(base, itertools.count())
        name = f"{base}:{next(counter)}"  # next() on a count is atomic: threads never share a name
        refs = self._refs
        refs[name] = weakref.ref(node)
        if len(refs) > self._prune_at:
            self._prune()
        return name

    def _prune(self) -> None:
        self._refs = {k: r for k, r in self._refs.items() if r() is not None}
        self._prune_at = max(4096, 2 * len(self._refs))

    def clear(self) -> None:
        """Forget all names; nodes still referenced elsewhere stay valid, new names restart at 0."""
        self._counters = {}
        self._refs = {}
        self._prune_at = 4096

    def get(self, name: str) -> Node:
        """The live node called ``name`` (``base:index``)."""
        ref = self._refs.get(name)
        node = ref() if ref is not None else None
        if node is None:
            raise KeyError(f"no live node named {name!r}")
        return node

    def nodes(self) -> list[Node]:
        """All live registered nodes."""
        self._prune()
        return [n for n in (r() for r in self._refs.values()) if n is not None]

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


def ancestors(node: Node) -> list[Node]:
    """Every node ``node`` depends on, excluding itself, parents before children."""
    order = toposort([node])
    order.pop()
    return order
