"""Reading an LLM operator's reply: the one-sentence thought and the code, tolerantly.

Small models wrap code in fences or not, put prose after it, answer in JSON, or forget the idea;
these pure functions take what is usable and say precisely why a reply is not. Code is only
parsed here (``ast.parse``), never executed: that happens in the sandboxed runtime.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from pydantic import BaseModel, Field

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\r?\n(.*?)(?:```|\Z)", re.S)
_BRACED = re.compile(r"\{([^{}]{8,600})\}", re.S)
_SENTENCE = re.compile(r"(.+?[.!?])(?:\s|$)", re.S)


class ThoughtAndCode(BaseModel):
    """The structured reply an operator may ask for with ``Request(schema=...)``."""

    thought: str = Field(description="the idea of the new version, in one sentence")
    code: str = Field(description="the complete Python source of the function")


@dataclass(frozen=True)
class Parsed:
    thought: str
    code: str


@dataclass(frozen=True)
class Unparseable:
    detail: str


def fenced_blocks(text: str) -> list[str]:
    """Contents of ``` fenced blocks (an unclosed last fence counts: replies get cut off)."""
    return [m.group(2) for m in _FENCE.finditer(text)]


def prose(text: str) -> str:
    """The reply without its fenced blocks."""
    return _FENCE.sub(" ", text)


def extract_thought(text: str) -> str:
    """The idea in braces (EoH style), else the first sentence of the prose, else ""."""
    outside = prose(text)
    for m in _BRACED.finditer(outside):
        inner = " ".join(m.group(1).split())
        if len(inner.split()) >= 3 and ":" not in inner[:20] and "def " not in inner:
            return inner[:400]
    lines = [ln for ln in outside.splitlines() if ln.strip() and not _looks_like_code(ln)]
    joined = " ".join(" ".join(lines).split())
    first = _SENTENCE.match(joined)
    return (first.group(1) if first else joined)[:400]


def _looks_like_code(line: str) -> bool:
    s = line.strip()
    return s.startswith(("def ", "return", "import ", "from ", "#", "@")) or line.startswith((" ", "\t"))


def defines(code: str, function: str) -> bool:
    """True if ``code`` parses and defines ``function`` at top level."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == function for n in tree.body)


def defined_functions(code: str) -> list[str]:
    """Names of the top-level functions ``code`` defines ([] if it does not parse)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def trim_to_parseable(code: str) -> str | None:
    """``code`` itself if it parses, else its longest parseable prefix of whole lines (prose after
    the code is the usual culprit); None if no prefix with a function definition parses."""
    lines = code.rstrip().splitlines()
    for end in range(len(lines), 0, -1):
        chunk = "\n".join(lines[:end])
        if "def " not in chunk:
            break
        try:
            ast.parse(chunk)
        except (SyntaxError, ValueError):
            continue
        return chunk
    return None


def _unfenced_code(text: str, function: str) -> str | None:
    """Code written without fences: from the imports before ``def function`` to the end."""
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if re.match(rf"\s*def\s+{re.escape(function)}\s*\(", ln)), None)
    if start is None:
        start = next((i for i, ln in enumerate(lines) if re.match(r"\s*def\s+\w+\s*\(", ln)), None)
    if start is None:
        return None
    while start > 0 and re.match(r"\s*(import |from \S+ import |@)", lines[start - 1]):
        start -= 1
    return "\n".join(lines[start:])


def extract_code(text: str, function: str) -> str | Unparseable:
    """The function's source from a reply: the fenced block that defines it, else any parseable
    block with a function, else unfenced code; trailing prose is trimmed."""
    blocks = fenced_blocks(text)
    tried: list[str] = []
    for block in sorted(blocks, key=lambda b: f"def {function}" not in b):
        code = trim_to_parseable(block.strip("\n"))
        if code is not None and "def " in code:
            return code
        tried.append(block)
    loose = _unfenced_code(text, function)
    if loose is not None:
        code = trim_to_parseable(loose)
        if code is not None:
            return code
        return Unparseable(f"the code for `{function}` in the reply does not parse: {_syntax_error(loose)}")
    if tried:
        return Unparseable(f"the code block in the reply does not parse: {_syntax_error(tried[0])}")
    return Unparseable(f"the reply contains no Python code defining `{function}` (no code block, no def)")


def _syntax_error(code: str) -> str:
    try:
        ast.parse(code)
    except SyntaxError as exc:
        return f"{exc.msg} (line {exc.lineno})"
    except ValueError as exc:
        return str(exc)
    return "no function definition"


def parse_thought_and_code(text: str, function: str) -> Parsed | Unparseable:
    """Thought + code from a text reply; JSON replies ``{"thought", "code"}`` are read too."""
    stripped = text.strip()
    if not stripped:
        return Unparseable("the reply is empty")
    if stripped.startswith("{") and '"code"' in stripped:
        from opto.llm.structured import extract_json

        try:
            obj = extract_json(stripped)
        except (ValueError, TypeError):
            obj = None
        if isinstance(obj, dict) and isinstance(obj.get("code"), str):
            code = extract_code(f"```python\n{obj['code']}\n```", function)
            if isinstance(code, Unparseable):
                return code
            return Parsed(str(obj.get("thought") or ""), code)
    code = extract_code(text, function)
    if isinstance(code, Unparseable):
        return code
    return Parsed(extract_thought(text), code)


def rename_function(code: str, old: str, new: str) -> str:
    """Rename a function's definition and its calls (word-boundary match before ``(``)."""
    return re.sub(rf"\b{re.escape(old)}\b(?=\s*\()", new, code)


def excerpt(code: str, limit: int = 240) -> str:
    """A one-line excerpt of code for rejection memories."""
    flat = " ".join(code.split())
    return flat if len(flat) <= limit else flat[:limit] + "..."
