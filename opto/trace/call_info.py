"""What one bundled call leaves behind: compact call info, caught failures, error comments.

Kept apart from ``bundle.py`` so that the call path there stays readable.
"""

from __future__ import annotations

import linecache
import traceback
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Protocol

NO_EXTERNAL: tuple = ()  # shared by calls that read no outside node
NO_KWARGS: Mapping[str, Any] = MappingProxyType({})  # shared empty keyword arguments (read-only)


class LazyInfo(Protocol):
    """A compact stand-in for a node's info dict; ``Node.info`` materializes it on first read."""

    def materialize(self, n: Any) -> dict[str, Any]: ...


class CallInfo:
    """One bundled call's info, kept compact until someone reads ``node.info`` (then a dict)."""

    __slots__ = ("static", "fun", "args", "kwargs", "output", "external", "is_eval")

    def __init__(self, static: dict[str, Any], fun: Callable, args: list, kwargs: Mapping[str, Any], output: Any,
                 external: list | tuple, is_eval: bool) -> None:
        self.static, self.fun, self.args, self.kwargs = static, fun, args, kwargs
        self.output, self.external, self.is_eval = output, external, is_eval

    def materialize(self, n: Any) -> dict[str, Any]:
        info = dict(self.static)
        info.update(fun=self.fun, inputs={"args": list(self.args), "kwargs": dict(self.kwargs)}, output=self.output,
                    external_dependencies=list(self.external))
        if self.is_eval:
            info["fun_name"] = "eval"
        return info


class OperatorInfo:
    """Stands in for an operator node's info dict until someone reads it (saves memory and time)."""

    __slots__ = ("fun_name", "description")

    def __init__(self, fun_name: str, description: str) -> None:
        self.fun_name, self.description = fun_name, description

    def materialize(self, n: Any) -> dict[str, Any]:
        args = [v._data for v in n._inputs.values()]
        return {"fun_name": self.fun_name, "inputs": {"args": args, "kwargs": {}}, "output": n._data,
                "error_comment": None, "traceback": None, "external_dependencies": []}


class CallFailure:
    """An exception caught in a bundled call, with the context needed to explain it.

    Named for whose failure it is: an optimizer module may also import the LLM's and the
    evaluation's failure types.
    """

    def __init__(self, error: Exception, comment: str, tb: str) -> None:
        self.error, self.comment, self.traceback = error, comment, tb


def error_comment(err: Exception, tb: Any) -> str:
    """The source of each frame in the traceback with the failing line marked."""
    frames = list(traceback.walk_tb(tb))[-5:]
    message = f"({type(err).__name__}) {err}"
    parts = []
    for i, (frame, lineno) in enumerate(frames):
        code = frame.f_code
        lines = linecache.getlines(code.co_filename)
        if not lines:
            continue
        start = code.co_firstlineno
        block = lines[start - 1: max(lineno, start)] if start - 1 < len(lines) else []
        marked = []
        for j, line in enumerate(block, start=start):
            text = line.rstrip("\n")
            if j == lineno:
                text += f"  <--- {message if i == len(frames) - 1 else 'error raised in this call, see below'}"
            marked.append(text)
        parts.append("\n".join(marked))
    return "\n\n".join(parts) + f"\n{message}"


def syntax_comment(code: str, err: Exception) -> str:
    lineno = getattr(err, "lineno", None)
    lines = code.splitlines()
    if isinstance(err, SyntaxError) and lineno:
        lines = [ln + (f"  <--- ({type(err).__name__}) {err.msg}" if i == lineno else "")
                 for i, ln in enumerate(lines, start=1)]
    return "\n".join(lines) + f"\n({type(err).__name__}) {err}"
