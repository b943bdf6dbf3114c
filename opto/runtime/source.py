"""Turn code text into a callable: ``define`` holds the library's one ``exec`` call.

That code runs in one of two places, by design:

- **Population search** (many candidates, most of them bad): the objective calls
  ``load_function`` inside a sandboxed worker process (opto.runtime's executors), so a candidate
  that hangs, eats memory or crashes costs a worker, never the run.
- **A trainable bundle** (``@bundle(trainable=True)``): its rewritten source is compiled by
  ``opto.runtime.inprocess.compile_function`` and runs in the user's own process, where the rest
  of the user's program runs, as in trace-opt; the optimizer changes the user's code, and the user
  runs it.

Compile errors from ``load_function`` become a ``CandidateCodeError`` (an evaluation failure with
reason "exception") whose message shows the offending line, so that the feedback an optimizer
reads says what to fix.
"""

from __future__ import annotations

import ast
import hashlib
import linecache
import textwrap
from collections.abc import Callable
from typing import Any


class CandidateCodeError(Exception):
    """Candidate source that does not compile or does not define the requested function."""


def _syntax_message(exc: SyntaxError, source: str) -> str:
    lines = source.splitlines()
    where = f"line {exc.lineno}" if exc.lineno else "unknown line"
    text = lines[exc.lineno - 1] if exc.lineno and 0 < exc.lineno <= len(lines) else (exc.text or "")
    caret = " " * max(0, (exc.offset or 1) - 1) + "^"
    return f"candidate code does not compile: {exc.msg} ({where})\n    {text.rstrip()}\n    {caret}"


def define(source: str, namespace: dict[str, Any], label: str = "candidate") -> tuple[dict[str, Any], list[str]]:
    """Parse, compile and execute ``source`` in a copy of ``namespace``: the single exec call.

    It runs in the calling process: a sandbox worker for candidates, the user's process for a
    trainable bundle's rewrite (see the module docstring).

    Returns the namespace after execution and the names of the top-level functions defined.
    Raises SyntaxError / ValueError as Python does; callers decide how to report them.
    """
    source = textwrap.dedent(source)  # code cut out of an LLM reply is often indented
    filename = f"<{label}-{hashlib.sha1(source.encode('utf-8', 'replace')).hexdigest()[:10]}>"
    tree = ast.parse(source, filename=filename)
    code = compile(tree, filename, "exec")
    defined = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    scope: dict[str, Any] = dict(namespace)
    scope.setdefault("__name__", f"__{label}__")
    scope.setdefault("__builtins__", __builtins__)
    exec(code, scope)  # noqa: S102 - the single exec site, see module docstring
    return scope, defined


def load_function(
    source: str, name: str | None = None, globals: dict[str, Any] | None = None
) -> Callable[..., Any]:
    """Execute ``source`` in a fresh namespace and return the function called ``name``.

    name: the function to return; None returns the last top-level function the source defines.
    globals: names made visible to the code (e.g. helpers or data); copied, never mutated.
    Tracebacks through the loaded code show its lines (the source is registered in linecache).
    """
    if not isinstance(source, str):
        raise CandidateCodeError(f"candidate code must be a str, got {type(source).__name__}")
    try:
        namespace, defined = define(source, globals or {})
    except SyntaxError as exc:
        raise CandidateCodeError(_syntax_message(exc, textwrap.dedent(source))) from None
    except (ValueError, MemoryError, RecursionError) as exc:  # null bytes, absurdly deep nesting
        raise CandidateCodeError(f"candidate code does not compile: {exc}") from None
    if name is None and not defined:
        raise CandidateCodeError("candidate code defines no top-level function (expected 'def ...')")
    target = name if name is not None else defined[-1]
    fn = namespace.get(target)
    if not callable(fn):
        hint = f"; it defines {defined}" if defined else ""
        raise CandidateCodeError(f"candidate code defines no function named {target!r}{hint}")
    return fn
