"""Tracing: nodes, bundled operators, modules, and backward propagation of feedback.

Drop-in for trace-opt's ``opto.trace`` (same names and import paths).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opto.context import context
from opto.trace import operators, propagators
from opto.trace.broadcast import apply_op
from opto.trace.bundle import FunModule, bundle
from opto.trace.containers import Map, NodeContainer, Seq
from opto.trace.errors import ExecutionError, TraceMissingInputsError
from opto.trace.modules import Module, model
from opto.trace.nodes import GRAPH, ExceptionNode, MessageNode, Node, ParameterNode, node


class stop_tracing:  # noqa: N801 - trace-opt's name
    """Context manager: operations inside build no graph edges (their outputs have no parents)."""

    def __enter__(self) -> None:
        self._cm = context(tracing=False)
        self._cm.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._cm.__exit__(*exc)


@contextmanager
def name_scope(name: str) -> Iterator[None]:
    """Prefix names of nodes created inside with ``name/``."""
    from opto.context import settings

    with context(name_scope=(*settings().name_scope, name)):
        yield


__all__ = ["node", "bundle", "model", "Module", "ExecutionError", "TraceMissingInputsError", "stop_tracing",
           "GRAPH", "operators", "propagators", "apply_op", "NodeContainer", "Seq", "Map", "Node",
           "ParameterNode", "MessageNode", "ExceptionNode", "FunModule", "name_scope"]
