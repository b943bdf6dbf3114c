"""Compile function source in this process: the exec site for a user's own trainable bundles.

Untrusted candidate code (evolutionary search) runs in sandboxed workers instead; this module is
for ``@bundle(trainable=True)`` code the user asked to optimize and run in-process, as trace-opt
does. Compiled source is registered with ``linecache`` so tracebacks show the failing lines.
"""

from __future__ import annotations

import ast
import hashlib
import linecache
import textwrap
from collections.abc import Callable
from typing import Any


def compile_function(source: str, namespace: dict[str, Any], name: str | None = None,
                     label: str = "code") -> Callable[..., Any]:
    """Define the function in ``source`` inside a copy of ``namespace`` and return it.

    The function named ``name`` is taken if the source defines it, else the first function.
    Raises SyntaxError for unparsable code and ValueError when no function is defined.
    """
    if not isinstance(source, str):
        raise TypeError(f"function source must be a str, got {type(source).__name__}")
    text = textwrap.dedent(source)
    digest = hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()[:10]
    filename = f"<opto {label} {digest}>"
    tree = ast.parse(text, filename=filename)
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if not defs:
        raise ValueError("the code defines no function: it must contain a top-level 'def name(...):'")
    target = next((d for d in defs if d.name == name), defs[0])
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    scope = dict(namespace)
    exec(compile(tree, filename, "exec"), scope)  # noqa: S102 - the one in-process exec site
    return scope[target.name]
