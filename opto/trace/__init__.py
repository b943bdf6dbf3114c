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


@contextmanager
def stop_tracing() -> Iterator[None]:
    """Operations inside build no graph edges (their outputs have no parents); restored on exit.

    Scoped to the current thread / asyncio task, like every ``opto.context`` setting.
    """
    with context(tracing=False):
        yield


@contextmanager
def name_scope(name: str) -> Iterator[None]:
    """Prefix names of nodes created inside with ``name/``."""
    from opto.context import settings

    with context(name_scope=(*settings().name_scope, name)):
        yield


__all__ = ["node", "bundle", "model", "Module", "ExecutionError", "TraceMissingInputsError", "stop_tracing",
           "GRAPH", "operators", "propagators", "apply_op", "NodeContainer", "Seq", "Map", "Node",
           "ParameterNode", "MessageNode", "ExceptionNode", "FunModule", "name_scope"]
