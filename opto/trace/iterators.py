"""Traced iteration: each item of a node is a getitem MessageNode of it."""

from __future__ import annotations

from typing import Any

from opto.trace.errors import ExecutionError
from opto.trace.nodes import ExceptionNode, Node, node


def iterate(x: Any) -> Any:
    """An iterator of traced items (list/tuple/str/ndarray by index, set via a list, dict by key)."""
    from opto.trace import operators as ops

    if not isinstance(x, Node):
        x = node(x)
    data = x._data
    if isinstance(data, (list, tuple, str, bytes)) or type(data).__name__ == "ndarray":
        return SeqIterable(x)
    if isinstance(data, (set, frozenset)):
        return SeqIterable(ops.to_list(x))
    if isinstance(data, dict):
        return SeqIterable(x.keys())
    err = TypeError(f"cannot iterate over a {type(data).__name__} node")
    raise ExecutionError(ExceptionNode(err, inputs=[x], info={"traceback": str(err)}))


class SeqIterable:
    """Iterates a sequence node, yielding ``node[i]``."""

    def __init__(self, wrapped: Node) -> None:
        self.wrapped_list = wrapped
        self._index = 0

    def __iter__(self) -> SeqIterable:
        self._index = 0
        return self

    def __next__(self) -> Node:
        if self._index >= len(self.wrapped_list._data):
            raise StopIteration
        item = self.wrapped_list[self._index]
        self._index += 1
        return item


class DictIterable:
    """Iterates a dict node, yielding ``(key_node, value_node)`` pairs."""

    def __init__(self, wrapped: Node) -> None:
        from opto.trace import operators as ops

        self.wrapped_dict = wrapped
        self.keys = ops.keys(wrapped)
        self._index = 0

    def __iter__(self) -> DictIterable:
        self._index = 0
        return self

    def __next__(self) -> tuple[Node, Node]:
        if self._index >= len(self.keys._data):
            raise StopIteration
        key = self.keys[self._index]
        self._index += 1
        return key, self.wrapped_dict[key]
