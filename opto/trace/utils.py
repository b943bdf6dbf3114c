"""Helpers kept at trace-opt's import path ``opto.trace.utils``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def sum_feedback(nodes: Iterable[Any]) -> Any:
    """The sum of every feedback item the nodes hold.

    Under GraphPropagator that is a TraceGraph (``.visualize()``, ``.expand(node)``); with no
    feedback at all it is an empty TraceGraph, never trace-opt's bare ``0``. Numeric feedback
    (SumPropagator) sums to a number.
    """
    total: Any = None
    for n in nodes:
        for items in n.feedback.values():
            for item in items:
                total = item if total is None else total + item
    if total is None:
        from opto.trace.propagators.graph_propagator import TraceGraph

        return TraceGraph(graph=[], user_feedback=None)
    return total


def contain(container_of_nodes: Iterable[Any], node: Any) -> bool:
    """Membership by identity (``in`` would compare data, since Node.__eq__ compares values)."""
    return any(node is n for n in container_of_nodes)


def for_all_methods(decorator: Callable) -> Callable[[type], type]:
    """Class decorator applying ``decorator`` to every public method defined on the class."""

    def decorate(cls: type) -> type:
        for name, attr in list(cls.__dict__.items()):
            if callable(attr) and not name.startswith("__"):
                setattr(cls, name, decorator(attr))
        return cls

    return decorate


def parse_eqs_to_dict(text: str) -> dict[str, str]:
    """Parse ``name = value`` lines (values may continue over following lines) into a dict."""
    result: dict[str, str] = {}
    last = None
    for line in text.split("\n"):
        if not line:
            continue
        if "=" in line:
            key, value = line.split("=", 1)
            last = key.strip()
            result[last] = value.replace("`", "")
        elif last is not None:
            result[last] += "\n" + line.replace("`", "")
    return result


_LAZY = {"render_opt_step": "opto.utils.notebook", "escape_json_nested_quotes": "opto.utils.json_text",
         "remove_non_ascii": "opto.utils.json_text"}


def __getattr__(name: str) -> Any:
    """trace-opt's notebook/JSON helpers, loaded on first use (trace itself needs neither)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'opto.trace.utils' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_LAZY[name]), name)
