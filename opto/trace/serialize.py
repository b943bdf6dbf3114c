"""Flat (iterative) pickling of nodes together with their ancestor graphs.

Pickle recurses through nested references, so a node whose parents' parents go 100,000 deep
overflows the stack (trace-opt fails past ~250 levels). Here a node pickles as a reference into a
``RecordGroup``: a flat list of node records in topological order that name their parents by
index. Nodes pickled in the same ``pickle.dumps`` call share groups, so a list of many nodes from
one graph is written once (linear, not quadratic) and comes back with its sharing intact.
"""

from __future__ import annotations

import functools
import weakref
from typing import Any

from opto.trace.call_info import OperatorInfo
from opto.trace.fields import GRAPH_FIELDS, base_name, init_fields, node_state, set_node_state

_PLAIN = (str, int, float, bool, type(None))
# id(node) -> (weak ref to the live RecordGroup holding it, index). A group lives only while a
# pickler's memo holds it (during one dumps call), so entries vanish with it: nothing goes stale.
_LIVE: dict[int, tuple[weakref.ref, int]] = {}


def _plain_info(info: Any, n: Any) -> Any:
    """Keep only the self-contained entries of an op's info (names, docs, source, tracebacks)."""
    if isinstance(info, OperatorInfo):
        return info  # small and shared: names and a description only
    if hasattr(info, "materialize"):
        info = info.materialize(n)
    if not isinstance(info, dict):
        return info if isinstance(info, _PLAIN) else None
    return {k: v for k, v in info.items() if isinstance(v, _PLAIN)}


def _forget(ids: list[int], ref: weakref.ref) -> None:
    for i in ids:
        entry = _LIVE.get(i)
        if entry is not None and entry[0] is ref:
            del _LIVE[i]


class RecordGroup:
    """Records of nodes not already held by another live group; parents may point into others."""

    def __init__(self, records: list[tuple], externals: list[tuple[RecordGroup, int]]) -> None:
        self.records = records
        self.externals = externals
        self._nodes: list[Any] | None = None
        self._sources: list[Any] = []

    def __reduce__(self) -> tuple:
        return RecordGroup, (self.records, self.externals)

    def node(self, index: int) -> Any:
        """The rebuilt node at ``index`` (the group is rebuilt once, on first use)."""
        if self._nodes is None:
            self._nodes = _rebuild(self.records, self.externals)
        return self._nodes[index]


def locate(output: Any) -> tuple[RecordGroup, int]:
    """The group and index under which ``output`` pickles, creating a group if needed."""
    found = _live_group(output)
    if found is not None:
        return found
    order, boundary = _walk(output)
    external_refs: dict[int, int] = {}
    externals: list[tuple[RecordGroup, int]] = []
    for n, group, j in boundary:
        external_refs[id(n)] = -(len(externals) + 1)
        externals.append((group, j))
    index = {id(n): i for i, n in enumerate(order)}
    index.update(external_refs)
    records = []
    for n in order:
        full = node_state(n)
        state = {k: v for k, v in full.items() if k not in GRAPH_FIELDS}
        inputs = getattr(n, "_inputs", None)
        input_idx = None if inputs is None else [(k, index[id(v)]) for k, v in inputs.items()]
        parent_idx = [index[id(p)] for p in n._parents]
        records.append((type(n), base_name(n._name), state, _plain_info(full.get("_info"), n), parent_idx, input_idx))
    group = RecordGroup(records, externals)
    group._sources = order
    ids = [id(n) for n in order]
    ref = weakref.ref(group, functools.partial(_forget, ids))
    for i, n in enumerate(order):
        _LIVE[id(n)] = (ref, i)
    return group, index[id(output)]


def _live_group(n: Any) -> tuple[RecordGroup, int] | None:
    entry = _LIVE.get(id(n))
    if entry is None:
        return None
    group = entry[0]()
    if group is None or group._sources[entry[1]] is not n:
        return None
    return group, entry[1]


def _walk(output: Any) -> tuple[list[Any], list[tuple[Any, RecordGroup, int]]]:
    """Ancestors of ``output`` in topological order, stopping at nodes already in a live group."""
    order: list[Any] = []
    boundary: list[tuple[Any, RecordGroup, int]] = []
    visited = {id(output)}
    stack: list[Any] = [(output, iter(output._parents))]
    while stack:
        n, parents = stack[-1]
        for parent in parents:
            if id(parent) in visited:
                continue
            visited.add(id(parent))
            found = _live_group(parent)
            if found is not None:
                boundary.append((parent, *found))
                continue
            stack.append((parent, iter(parent._parents)))
            break
        else:
            stack.pop()
            order.append(n)
    return order, boundary


def _rebuild(records: list[tuple], externals: list[tuple[RecordGroup, int]]) -> list[Any]:
    nodes: list[Any] = []

    def resolve(i: int) -> Any:
        if i >= 0:
            return nodes[i]
        group, j = externals[-i - 1]
        return group.node(j)

    for cls, base, state, info, parent_idx, input_idx in records:
        n = cls.__new__(cls)
        init_fields(n, None, base, False, "", None, info)  # fresh graph fields ...
        set_node_state(n, state)  # ... then everything else as it was
        if input_idx is not None:
            n._inputs = {k: resolve(i) for k, i in input_idx}
        n._link(resolve(i) for i in parent_idx)
        nodes.append(n)
    return nodes


def node_from_group(group: RecordGroup, index: int) -> Any:
    """Unpickling entry point: the node ``index`` of ``group``."""
    return group.node(index)
