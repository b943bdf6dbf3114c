"""Apply an operator elementwise over lists, tuples, dicts and NodeContainers of nodes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from opto.trace.containers import NodeContainer
from opto.trace.nodes import Node


def recursive_conversion(true_func: Callable, false_func: Callable) -> Callable:
    """A function mapping nodes with ``true_func`` and other leaves with ``false_func``, recursively."""

    def convert(obj: Any) -> Any:
        if isinstance(obj, Node):
            return true_func(obj)
        if isinstance(obj, tuple):
            return tuple(convert(x) for x in obj)
        if isinstance(obj, list):
            return [convert(x) for x in obj]
        if isinstance(obj, dict):
            return {k: convert(v) for k, v in obj.items()}
        if isinstance(obj, set):
            return {convert(x) for x in obj}
        if isinstance(obj, NodeContainer):
            out = copy.copy(obj)
            for k, v in obj.__dict__.items():
                setattr(out, k, convert(v))
            return out
        return false_func(obj)

    return convert


def apply_op(op: Callable, output: Any, *args: Any, **kwargs: Any) -> Any:
    """Apply ``op`` to matching elements of the containers in args, writing into ``output``.

    Arguments that are Nodes are broadcast (used as-is for every element); the others must have
    the same type and shape as ``output``.
    """
    inputs = list(args) + list(kwargs.values())
    if all(isinstance(x, Node) for x in inputs):
        return op(*args, **kwargs)
    for x in inputs:
        if not (isinstance(x, Node) or type(x) is type(output)):
            raise TypeError(f"apply_op: every input must be a Node or a {type(output).__name__} like the "
                            f"output, got {type(x).__name__}")

    def pick(x: Any, key: Any, attr: bool = False) -> Any:
        if isinstance(x, Node):
            return x
        return getattr(x, key) if attr else x[key]

    if isinstance(output, (list, tuple)):
        for x in inputs:
            if not isinstance(x, Node) and len(x) != len(output):
                raise ValueError(f"apply_op: output has {len(output)} items but an input has {len(x)}")
        items = list(output)
        for k in range(len(items)):
            items[k] = apply_op(op, items[k], *[pick(x, k) for x in args],
                                **{kk: pick(vv, k) for kk, vv in kwargs.items()})
        if isinstance(output, tuple):
            return tuple(items)
        output[:] = items
        return output
    if isinstance(output, dict):
        for k in list(output):
            output[k] = apply_op(op, output[k], *[pick(x, k) for x in args],
                                 **{kk: pick(vv, k) for kk, vv in kwargs.items()})
        return output
    if isinstance(output, NodeContainer):
        for attr, v in list(output.__dict__.items()):
            setattr(output, attr, apply_op(op, v, *[pick(x, attr, True) for x in args],
                                           **{kk: pick(vv, attr, True) for kk, vv in kwargs.items()}))
        return output
    return output
