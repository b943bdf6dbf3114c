"""Checks a suggested value passes before it is applied; a failure is a reason the model will read.

Values are converted to the parameter's current type (``"3.5"`` -> 3.5 for a float, a JSON or Python
literal for a list). Code must parse, keep the function's name and signature, and compile. A value
with reasoning tags in it, or code outside the fence the prompt asked for, is rejected.
"""

from __future__ import annotations

import ast
import json
import math
import re
from typing import Any

_FENCE = re.compile(r"```[ \t]*(?:python|py)?[ \t]*\r?\n(.*?)(?:```|\Z)", re.S | re.I)
_LEAK = re.compile(r"</?think(?:ing)?>", re.I)


class Rejected(Exception):
    """A suggestion that must not be applied; ``str(e)`` is the reason shown to the model."""


def check_value(current: Any, value: Any, *, is_code: bool, fence_required: bool = False) -> Any:
    """``value`` converted and validated against the parameter's ``current`` value; raises Rejected."""
    if isinstance(value, str) and _LEAK.search(value):
        raise Rejected("the value contains reasoning tags (<think>); give only the value itself")
    if is_code:
        return check_code(current, value, fence_required=fence_required)
    return convert(current, value)


def convert(current: Any, value: Any) -> Any:
    """``value`` as the type of ``current``; raises Rejected naming the expected type."""
    target = type(current)
    if isinstance(value, float) and not math.isfinite(value):  # JSON's NaN/Infinity arrive as floats
        raise Rejected(f"{value!r} is not a finite number")
    if current is None or isinstance(value, target) and not (target is int and isinstance(value, bool)):
        return value
    kind = target.__name__
    try:
        if target is bool:
            return _to_bool(value)
        if target is int:
            number = value if isinstance(value, (int, float)) else float(str(value).strip())
            if isinstance(number, float) and not number.is_integer():
                raise Rejected(f"{value!r} is not a whole number; this variable is an int")
            return int(number)
        if target is float:
            number = float(value.strip() if isinstance(value, str) else value)
            if not math.isfinite(number):
                raise Rejected(f"{value!r} is not a finite number")
            return number
        if target is str:
            return value if isinstance(value, str) else json.dumps(value)
        if target in (list, tuple, dict, set):
            obj = _literal(value) if isinstance(value, str) else value
            if target in (tuple, set) and isinstance(obj, list):
                obj = target(obj)
            if not isinstance(obj, target):
                raise Rejected(f"{_short(value)} is a {type(obj).__name__}, but this variable is a {kind}")
            return obj
        return target(value)
    except Rejected:
        raise
    except Exception as e:
        raise Rejected(f"{_short(value)} cannot be converted to {kind} ({type(e).__name__}: {e})") from None


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise Rejected(f"{_short(value)} is not true or false; this variable is a bool")


def _literal(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return ast.literal_eval(text.strip())


def check_code(current: Any, value: Any, *, fence_required: bool = False) -> str:
    """New source for a code parameter: parses, same name and signature as ``current``, compiles."""
    if not isinstance(value, str):
        raise Rejected(f"code must be given as a string of Python source, got a {type(value).__name__}")
    match = _FENCE.search(value)
    if match is not None:
        if not match.group(0).rstrip().endswith("```") or match.group(0).count("```") < 2:
            raise Rejected("the code block is truncated: its ``` fence is never closed")
        source = match.group(1)
    elif fence_required:
        raise Rejected("code must be inside a ```python fenced block, as the format asks")
    else:
        source = value
    source = source.strip("\n")
    if not source.strip():
        raise Rejected("the code is empty")
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        hint = " (it looks truncated)" if _looks_truncated(source, e) else ""
        raise Rejected(f"the code does not parse{hint}: line {e.lineno}: {e.msg}") from None
    new_fn = _first_function(tree)
    old_fn = _first_function(_parse_or_none(current)) if isinstance(current, str) else None
    if new_fn is None:
        raise Rejected("the code must define the function (a def statement); none was found")
    if old_fn is not None:
        if new_fn.name != old_fn.name:
            raise Rejected(f"the function must keep its name {old_fn.name!r} (got {new_fn.name!r})")
        old_sig, new_sig = _signature(old_fn), _signature(new_fn)
        if old_sig != new_sig:
            raise Rejected(f"the function must keep its signature ({old_sig}); got ({new_sig})")
    try:
        compile(tree, "<suggestion>", "exec")
    except (SyntaxError, ValueError) as e:
        raise Rejected(f"the code does not compile: {e}") from None
    return source


def _parse_or_none(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def _first_function(tree: ast.Module | None) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    if tree is None:
        return None
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return stmt
    return None


def _signature(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """Parameter names, kinds and defaults (annotations ignored: they do not change how it is called)."""
    args = fn.args
    stripped = ast.arguments(
        posonlyargs=[ast.arg(a.arg) for a in args.posonlyargs],
        args=[ast.arg(a.arg) for a in args.args],
        vararg=ast.arg(args.vararg.arg) if args.vararg else None,
        kwonlyargs=[ast.arg(a.arg) for a in args.kwonlyargs],
        kw_defaults=args.kw_defaults,
        kwarg=ast.arg(args.kwarg.arg) if args.kwarg else None,
        defaults=args.defaults,
    )
    return ast.unparse(stripped)


def _looks_truncated(source: str, err: SyntaxError) -> bool:
    lines = source.count("\n") + 1
    return (err.lineno or 0) >= lines and ("EOF" in (err.msg or "") or "was never closed" in (err.msg or ""))


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"
