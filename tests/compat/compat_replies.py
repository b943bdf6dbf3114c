"""Scripted model replies for trace-opt programs: read the optimizer's prompt, answer like a model would.

A reply function gets the Request and returns text; ``variables``/``feedback`` read trace-opt's
prompt sections so each program's script can decide what a sensible model would suggest.
"""

from __future__ import annotations

import json
import re
from typing import Any

from opto.llm import Request

_ENTRY = re.compile(r"^\((?P<type>[^)]*)\) (?P<name>[A-Za-z_][\w:]*?)(?P<sep>[=:])", re.M)


def user_text(request: Request) -> str:
    """The first user message: the problem (later ones may be the LLM layer's repair turns)."""
    return next((str(m["content"]) for m in request.messages if m["role"] == "user"), "")


def system_text(request: Request) -> str:
    return str(request.messages[0]["content"])


def is_optimizer_call(request: Request) -> bool:
    """The optimizer's own call (the problem sections), not a call the traced program made."""
    return "#Variables" in user_text(request) or "#Variables" in system_text(request)


def section(prompt: str, title: str) -> str:
    """The body of ``#Title`` in the problem instance (up to the next ``#`` title)."""
    match = re.search(rf"^#{title}:?\n(.*?)(?=^#[A-Z]\w*:?$|^=====|\Z)", prompt, re.M | re.S)
    return match.group(1).strip() if match else ""


def variables(request: Request) -> dict[str, tuple[str, str]]:
    """{name: (type, value text)} of the #Variables section of the last problem in the prompt."""
    prompt = user_text(request)
    body = section(prompt[prompt.rfind("#Variables"):], "Variables")
    out: dict[str, tuple[str, str]] = {}
    matches = list(_ENTRY.finditer(body))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
        value = body[m.end():end].rstrip("\n")
        out[m.group("name")] = (m.group("type"), value if m.group("type") == "code" else value.split("\n")[0])
    return out


def feedback(request: Request) -> str:
    prompt = user_text(request)
    return section(prompt[prompt.rfind("#Feedback"):], "Feedback")


def reply(suggestion: dict[str, Any], reasoning: str = "Following the feedback.") -> str:
    return json.dumps({"reasoning": reasoning, "answer": "", "suggestion": suggestion})


def named(request: Request, prefix: str) -> str:
    """The one variable whose value starts with ``prefix`` (e.g. 'def greet')."""
    found = [n for n, (_, v) in variables(request).items() if v.lstrip().startswith(prefix)]
    assert len(found) == 1, (prefix, variables(request))
    return found[0]
