"""A griffe extension for the API reference: opto's docstrings list arguments as ``name: text``
lines, which Markdown would run together into one paragraph; this turns each into a list item.

Used by mkdocs.yml (mkdocstrings' ``extensions`` option); the docstrings themselves stay plain.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

# A field line starts at column 0 with a lower-case name (or names: "input / cascade / heldout",
# "lm, llm", "**kwargs") followed by a colon and text.
_FIELD = re.compile(r"^(?P<names>[a-z_*][\w.*]*(?:\s*[/,]\s*[a-z_*][\w.*]*)*):\s+(?P<text>\S.*)$")


def fields_as_list(text: str) -> str:
    """``name: text`` lines (with their indented continuation lines) become Markdown list items."""
    out: list[str] = []
    in_field = False
    for line in text.splitlines():
        match = _FIELD.match(line)
        if match:
            if out and out[-1].strip() and not in_field:
                out.append("")  # a list needs a blank line before it
            out.append(f"- `{match['names']}`: {match['text']}")
            in_field = True
        elif in_field and line[:1].isspace() and line.strip():
            out.append("    " + line.strip())
        else:
            in_field = in_field and bool(line.strip()) and not line[:1].isspace()
            out.append(line)
    return "\n".join(out)


class DocstringFields(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = fields_as_list(obj.docstring.value)
