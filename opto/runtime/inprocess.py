"""Compile a trainable bundle's rewritten code in the user's process, where the bundle is called.

Population search runs candidate code in sandboxed workers (``load_function`` inside an
objective). A ``@bundle(trainable=True)`` function is different: the user asked for their own
function to be rewritten and called from their program, so its current source runs in the user's
process, as in trace-opt; a failure there is reported to the optimizer as an exception node. The
exec itself happens in ``opto.runtime.source.define``, the library's single exec call.
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
