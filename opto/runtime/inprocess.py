"""Compile a user's own trainable bundle code in this process.

Untrusted candidate code (evolutionary search) runs in sandboxed workers; this is for
``@bundle(trainable=True)`` code the user asked to optimize and run in-process, as trace-opt does.
The exec itself happens in ``opto.runtime.source.define``, the library's single exec call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opto.runtime.source import define


def compile_function(source: str, namespace: dict[str, Any], name: str | None = None,
                     label: str = "code") -> Callable[..., Any]:
    """Define the function in ``source`` inside a copy of ``namespace`` and return it.

    The function named ``name`` is taken if the source defines it, else the first function.
    Raises SyntaxError for unparsable code and ValueError when no function is defined.
    """
    if not isinstance(source, str):
        raise TypeError(f"function source must be a str, got {type(source).__name__}")
    scope, defined = define(source, namespace, label="opto-" + label.replace(" ", "_"))
    if not defined:
        raise ValueError("the code defines no function: it must contain a top-level 'def name(...):'")
    return scope[name if name in defined else defined[0]]
