"""GraphPropagator: every parameter receives the user's feedback plus the subgraph it flows through.

trace-opt merges explicit node lists at every step (quadratic in time and memory). Here a
TraceGraph is a lazy union: a few nodes of its own plus references to the TraceGraphs it was built
from, so building one is O(1) per edge and the node list is materialized once, when read.
"""

from __future__ import annotations

from typing import Any

from opto.trace.nodes import MessageNode, Node, ParameterNode
from opto.trace.propagators.propagators import AbstractFeedback, Propagator


class TraceGraph(AbstractFeedback):
    """The subgraph feedback flowed through (``graph``: (level, node) pairs, roots first) + user feedback."""

    __slots__ = ("_own", "_parts", "user_feedback", "_empty", "_cache")
    _own: tuple[Node, ...]
    _parts: tuple[TraceGraph, ...]
    user_feedback: Any
    _empty: bool
    _cache: list[tuple[int, Node]] | None

    def __init__(self, graph: list[tuple[int, Node]] | None = None, user_feedback: Any = None,
                 _parts: tuple[TraceGraph, ...] = ()) -> None:
        self._own: tuple[Node, ...] = tuple(n for _, n in graph) if graph else ()
        self._parts = tuple(p for p in _parts if not p._empty)
        self.user_feedback = user_feedback
        self._empty = not self._own and not self._parts
        self._cache: list[tuple[int, Node]] | None = None

    @property
    def graph(self) -> list[tuple[int, Node]]:
        """(level, node) pairs sorted by level (stable by first appearance); computed once."""
        if self._cache is None:
            seen_graphs: set[int] = set()
            seen_nodes: set[int] = set()
            nodes: list[Node] = []
            stack: list[TraceGraph] = [self]
            while stack:
                g = stack.pop()
                if id(g) in seen_graphs:
                    continue
                seen_graphs.add(id(g))
                if g._cache is not None:
                    own: Any = (n for _, n in g._cache)
                else:
                    own = g._own
                    stack.extend(reversed(g._parts))
                for n in own:
                    if id(n) not in seen_nodes:
                        seen_nodes.add(id(n))
                        nodes.append(n)
            nodes.sort(key=lambda n: n._level)
            self._cache = [(n._level, n) for n in nodes]
        return self._cache

    @graph.setter
    def graph(self, value: list[tuple[int, Node]]) -> None:
        self._own = tuple(n for _, n in value)
        self._parts = ()
        self._empty = not self._own
        self._cache = None

    def empty(self) -> bool:
        return self._empty and self.user_feedback is None

    def __add__(self, other: Any) -> TraceGraph:
        if isinstance(other, int) and other == 0:
            return self
        if not isinstance(other, TraceGraph):
            return NotImplemented
        if self.empty():
            return other
        if other.empty():
            return self
        a, b = self.user_feedback, other.user_feedback
        if a is None or b is None:
            feedback = a if b is None else b
        elif a is b or a == b:
            feedback = a
        else:
            raise ValueError(f"cannot merge feedback graphs with different user feedback: {a!r} vs {b!r}")
        return TraceGraph(user_feedback=feedback, _parts=(self, other))

    def __len__(self) -> int:
        return len(self.graph)

    def __iter__(self) -> Any:
        return iter(self.graph)

    def __repr__(self) -> str:
        return f"TraceGraph({len(self)} nodes, user_feedback={self.user_feedback!r})"

    def _itemize(self, node: Node) -> tuple[int, Node]:
        return (node._level, node)

    @classmethod
    def expand(cls, node: MessageNode) -> TraceGraph:
        """The subgraph inside a bundled call whose code was itself traced."""
        output = node._traced_output() if isinstance(node, MessageNode) else None
        if output is None:
            return TraceGraph(graph=[], user_feedback=None)
        roots = list(output.parameter_dependencies) + list(output.expandable_dependencies)
        called = (node.info or {}).get("inputs") or {"args": [], "kwargs": {}}
        roots += list(called["args"]) + list(called["kwargs"].values())
        roots = [r for r in roots if isinstance(r, Node)]
        saved = {id(p): (p, p._feedback) for p in roots}
        for p in roots:
            p.zero_feedback()
        output.backward("", retain_graph=True)
        from opto.trace.utils import sum_feedback

        subgraph = sum_feedback(roots)
        for p, fb in saved.values():
            p._feedback = fb
        return subgraph if isinstance(subgraph, TraceGraph) else TraceGraph(graph=[], user_feedback=None)

    def visualize(self, simple_visualization: bool = True, reverse_plot: bool = False,
                  print_limit: int = 100) -> Any:
        """A graphviz.Digraph of this subgraph."""
        from opto.viz import digraph_from_nodes

        return digraph_from_nodes(self.graph, simple_visualization=simple_visualization,
                                  reverse_plot=reverse_plot, print_limit=print_limit)


class GraphPropagator(Propagator):
    """Collects every node on the paths from the output to each parameter."""

    def init_feedback(self, node: Node, feedback: Any) -> TraceGraph:
        return TraceGraph(graph=[(node._level, node)], user_feedback=feedback)

    def _propagate(self, child: MessageNode) -> dict[Node, Any]:
        parents = child._parents
        below = self.aggregate(child.feedback)
        feedback = TraceGraph(graph=[(p._level, p) for p in parents], user_feedback=below.user_feedback,
                              _parts=(below,))
        for param in child.hidden_dependencies:  # empty unless the bundled code was itself traced
                if isinstance(param, ParameterNode):
                    param._add_feedback(child, feedback)
        return {parent: feedback for parent in parents}

    def aggregate(self, feedback: dict[Any, list[TraceGraph]]) -> TraceGraph:
        """Union of the feedback from all children."""
        graphs = [g for items in feedback.values() for g in items]
        if not graphs:
            return TraceGraph(graph=[], user_feedback=None)  # fresh: a TraceGraph can be modified
        if len(graphs) == 1:
            return graphs[0]
        total = graphs[0]
        for g in graphs[1:]:
            total = total + g
        return total
