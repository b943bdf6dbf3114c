"""Turning arbitrary node values into short, safe text for graph labels.

Values in a trace can be anything: megabyte prompts, numpy arrays, objects whose ``repr`` raises,
strings full of quotes, braces, backslashes and control characters. Everything shown in a picture
goes through here so that one place decides how long it may be and how it is escaped.
"""

from __future__ import annotations

import html
import reprlib
import unicodedata
from typing import Any, Literal

Ellipsis_ = Literal["middle", "end"]

ELLIPSIS = "…"

# Control codes, lone surrogates and unassigned code points: XML (and so graphviz's HTML-like
# labels) rejects most of them, and the rest render as nothing useful.
_UNSAFE_CATEGORIES = {"Cc", "Cs", "Cn", "Co"}
_KEEP_CONTROL = {"\n", "\t"}


class _BoundedRepr(reprlib.Repr):
    """``reprlib`` with room for ``limit`` characters, so huge containers are never fully repr'd."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.maxstring = max(limit, 8)
        self.maxother = max(limit, 8)
        self.maxlong = max(limit, 8)
        self.maxlevel = 3
        self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = self.maxdeque = 8
        self.maxdict = 6
        self.maxarray = 8


def shorten(text: str, limit: int = 100, ellipsis: Ellipsis_ = "middle") -> str:
    """Cut ``text`` to at most ``limit`` characters, marking the cut with ``…``.

    The middle cut is the default because both ends of a value tend to matter (the type at the
    start of a repr, the actual error at the end of a traceback).
    """
    if limit <= 0 or len(text) <= limit:
        return text
    if limit == 1:
        return ELLIPSIS
    keep = limit - 1
    if ellipsis == "end":
        return text[:keep] + ELLIPSIS
    if ellipsis != "middle":
        raise ValueError(f"ellipsis must be 'middle' or 'end', not {ellipsis!r}")
    head = (keep + 1) // 2
    tail = keep - head
    return text[:head] + ELLIPSIS + (text[-tail:] if tail else "")


def preview(value: Any, limit: int = 100, ellipsis: Ellipsis_ = "middle") -> str:
    """A ``repr`` of ``value`` no longer than ``limit`` characters; never raises.

    Strings and containers go through a bounded ``reprlib`` first so that previewing a huge value
    costs O(limit), not O(size of the value).
    """
    try:
        if isinstance(value, (str, bytes, bytearray)) and len(value) > 4 * max(limit, 1):
            # Repr only the two ends that can survive the cut (each alone is longer than limit).
            piece = 2 * max(limit, 1)
            text = repr(value[:piece]) + ELLIPSIS + repr(value[-piece:])
        elif isinstance(value, (list, tuple, dict, set, frozenset)) and len(value) > 8:
            text = _BoundedRepr(limit).repr(value)
        else:
            text = repr(value)
    except Exception as exc:  # a broken __repr__ must not break a picture
        text = f"<unrepresentable {type(value).__name__}: {type(exc).__name__}>"
    return shorten(text, limit, ellipsis)


def printable(text: str) -> str:
    """Replace characters graphviz cannot carry (control codes, lone surrogates, non-characters).

    They become visible ``\\xNN`` / ``\\uNNNN`` escapes instead of being dropped, so a picture still
    tells the reader what was there.
    """
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch in _KEEP_CONTROL or unicodedata.category(ch) not in _UNSAFE_CATEGORIES:
            out.append(ch)
            continue
        code = ord(ch)
        if code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)


def html_text(text: str) -> str:
    """Escape ``text`` for a graphviz HTML-like label; newlines become left-aligned line breaks.

    Backslashes are doubled because dot applies its escapes (``\\N`` = node name, ``\\l``...) even
    inside HTML-like labels, after XML entities are decoded.
    """
    lines = printable(text).replace("\\", "\\\\").replace("\t", "    ").split("\n")
    return '<BR ALIGN="LEFT"/>'.join(html.escape(line, quote=True) for line in lines)


def text_lines(text: str, max_lines: int = 12, line_limit: int = 72) -> list[str]:
    """``text`` as display lines (code, multi-line prompts): each line capped, at most ``max_lines``.

    A long line is cut at the last space of its final fifth when there is one (so words stay
    whole), else at the cap, and marked with ``…``; dropped lines are counted on a last line.
    Tabs become four spaces and trailing blank lines are dropped.
    """
    lines = text.replace("\r\n", "\n").replace("\t", "    ").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    shown = [_cap_line(line, line_limit) for line in lines[:max_lines]]
    if len(lines) > max_lines:
        shown.append(f"{ELLIPSIS} ({len(lines) - max_lines} more lines)")
    return shown


def _cap_line(line: str, limit: int) -> str:
    line = line.rstrip()
    if limit <= 0 or len(line) <= limit:
        return line
    if limit == 1:
        return ELLIPSIS
    keep = limit - 1
    cut = line.rfind(" ", keep - keep // 5, keep + 1)
    head = line[:cut] if cut > len(line) - len(line.lstrip()) else line[:keep]
    return head.rstrip() + ELLIPSIS
