"""Flat (iterative) pickling of a node together with its ancestor graph.

Pickle recurses through nested references, so a node whose parents' parents go 100,000 deep
overflows the stack (trace-opt fails past ~250 levels). Here a node pickles as a flat list of
records in topological order, each naming its parents by index; unpickling rebuilds the graph.
"""

from __future__ import annotations

from typing import Any

from opto.trace.graph import GRAPH, toposort
from opto.trace.nodes import node_state, set_node_state

_LINKS = ("_parents", "_children", "_inputs", "_name", "_feedback", "_info", "_level")
_PLAIN = (str, int, float, bool, type(None))


def _plain_info(info: Any, n: Any) -> Any:
    """Keep only the self-contained entries of an op's info (names, docs, source, tracebacks)."""
    if type(info).__name__ == "OperatorInfo":
        return info  # small and shared: names and a description only
    if hasattr(info, "materialize"):
        info = info.materialize(n)
    if not isinstance(info, dict):
        return info if isinstance(info, _PLAIN) else None
    return {k: v for k, v in info.items() if isinstance(v, _PLAIN)}


def graph_to_records(output: Any) -> tuple[list[tuple], int]:
    """Describe ``output`` and its ancestors as records that reference each other by index."""
    order = toposort([output])
    index = {id(n): i for i, n in enumerate(order)}
    records = []
    for n in order:
        full = node_state(n)
        state = {k: v for k, v in full.items() if k not in _LINKS}
        inputs = getattr(n, "_inputs", None)
        input_idx = None if inputs is None else [(k, index[id(v)]) for k, v in inputs.items()]
        parent_idx = [index[id(p)] for p in n._parents]
        base = n._name.split(":")[0].split("/")[-1]
        records.append((type(n), base, state, _plain_info(full.get("_info"), n), parent_idx, input_idx))
    return records, index[id(output)]


def records_to_graph(records: list[tuple], out: int) -> Any:
    """Rebuild nodes from ``graph_to_records`` output and return the one at ``out``."""
    nodes: list[Any] = []
    for cls, base, state, info, parent_idx, input_idx in records:
        n = cls.__new__(cls)
        set_node_state(n, state)
        n._parents = []
        n._children = []
        n._level = 0
        n._feedback = None
        n._info = info
        n._name = GRAPH.register(n, base)
        if input_idx is not None:
            n._inputs = {k: nodes[i] for k, i in input_idx}
        n._link(nodes[i] for i in parent_idx)
        nodes.append(n)
    return nodes[out]
