"""trace-opt's helpers for the ``{"name": ..., "value": ...}`` replies that models write with bad quoting.

Models often put unescaped double quotes, or LaTeX-style backslashes (``\\alpha``, ``\\(``), inside a
JSON string value, so ``json.loads`` fails. ``escape_json_nested_quotes`` repairs the two string
values of that two-key object; ``remove_non_ascii`` also drops unprintable characters.
Importable as ``opto.trace.utils.escape_json_nested_quotes`` as in trace-opt.
"""

from __future__ import annotations

import re

_TWO_KEYS = re.compile(r'^(\s*\{\s*"name"\s*:\s*")(.*)("\s*,\s*"value"\s*:\s*")(.*)("\s*\}\s*)$', re.DOTALL)
_VALID_ESCAPES = frozenset('nbfrt/\\')


def _escape_value(text: str) -> str:
    """One string value with every inner quote escaped once and invalid backslash escapes dropped."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if ch == "\\":
            if nxt == '"':
                out.append('\\"')
                i += 2
            elif nxt == "\\" and text[i + 2:i + 3] == '"':  # double-escaped quote: escape it once
                out.append('\\"')
                i += 3
            elif nxt in _VALID_ESCAPES and nxt:
                out.append(ch + nxt)
                i += 2
            else:  # \alpha, \( ...: not JSON; keep the character, drop the backslash
                i += 1
        elif ch == '"':
            out.append('\\"')
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def escape_json_nested_quotes(json_str: str) -> str:
    """``{"name": "...", "value": "..."}`` with the quotes inside both values escaped.

    Text of any other shape comes back unchanged (the repair only knows this one layout).
    """
    match = _TWO_KEYS.match(json_str)
    if match is None:
        return json_str
    head, name, middle, value, tail = match.groups()
    return head + _escape_value(name) + middle + _escape_value(value) + tail


def remove_non_ascii(json_txt: str) -> str:
    """``escape_json_nested_quotes`` of the text, without unprintable characters (whitespace kept)."""
    return "".join(c for c in escape_json_nested_quotes(json_txt) if c in "\n\t\b\r\f" or c.isprintable())
