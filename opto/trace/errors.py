"""Errors raised while tracing."""

from __future__ import annotations

from typing import Any


class ExecutionError(Exception):
    """An operator raised; ``exception_node`` is the ExceptionNode you can call backward on."""

    def __init__(self, exception_node: Any) -> None:
        self.exception_node = exception_node
        super().__init__(exception_node.data)

    def __str__(self) -> str:
        info = self.exception_node.info
        tb = info.get("traceback") if isinstance(info, dict) else None
        return f"\n\n{tb}" if tb else str(self.exception_node.data)


class TraceMissingInputsError(Exception):
    """A bundled function read a node that was not passed to it as an input."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return self.message
