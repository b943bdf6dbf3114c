"""A bundled function's source as written, read with ``inspect`` + ``ast`` (no frame hacking).

``info["source"]`` and the code a trainable bundle starts from come from here, and so does the
check that a trainable bundle has source at all (a ``def``, not a lambda or a builtin).
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable


def _is_bundle_decorator(expr: ast.expr) -> bool:
    """``@bundle``, ``@bundle(...)``, ``@trace.bundle(...)``, ``@opto.trace.bundle(...)``."""
    target = expr.func if isinstance(expr, ast.Call) else expr
    return (isinstance(target, ast.Name) and target.id == "bundle") or \
        (isinstance(target, ast.Attribute) and target.attr == "bundle")


def function_source(fun: Callable) -> tuple[str | None, int, str]:
    """(source as written below the ``@bundle`` decorator, its first line number, ``def`` header).

    The source keeps comments and the decorators stacked below ``@bundle(...)`` (as trace-opt);
    the line number is that of the source's first line. Without a recognizable ``@bundle`` line
    (``bundle()(fun)``) the whole definition is the source, from its first decorator.
    """
    try:
        lines, start = inspect.getsourcelines(fun)
    except (OSError, TypeError):
        return None, 0, ""
    text = textwrap.dedent("".join(lines))
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None, start, ""
    fdef = next((n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
    if fdef is None:  # a lambda or something exotic
        return text.strip(), start, ""
    src_lines = text.splitlines()
    first = fdef.decorator_list[0].lineno if fdef.decorator_list else fdef.lineno
    for deco in fdef.decorator_list:
        if _is_bundle_decorator(deco):
            first = (deco.end_lineno or deco.lineno) + 1
            break
    body = textwrap.dedent("\n".join(src_lines[first - 1: fdef.end_lineno])).strip("\n")
    doc = fdef.body[0]
    has_doc = isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant) and isinstance(doc.value.value, str)
    header_end = (doc.end_lineno or doc.lineno) if has_doc and len(fdef.body) > 1 else doc.lineno - 1
    header = textwrap.dedent("\n".join(src_lines[fdef.lineno - 1: max(header_end, fdef.lineno)]))
    return body, start + first - 1, header


def check_trainable(fun: Callable) -> None:
    """A trainable bundle needs a ``def`` with source: say so before anything runs."""
    name = getattr(fun, "__qualname__", type(fun).__name__)
    if getattr(fun, "__name__", None) == "<lambda>":
        raise TypeError("bundle(trainable=True) cannot train a lambda (its source is the whole line around it); "
                        "write it as a function: `def name(args): return ...` and decorate that")
    target = inspect.unwrap(fun)
    if not (inspect.isfunction(target) or inspect.ismethod(target)):
        raise TypeError(f"bundle(trainable=True) needs a Python function defined with def, got {name} "
                        f"({type(fun).__name__}, which has no Python source); wrap it in a def, e.g. "
                        f"`def my_{getattr(fun, '__name__', 'fun')}(*args): return {getattr(fun, '__name__', 'fun')}(*args)`")
