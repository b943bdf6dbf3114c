"""The problem an LLM optimizer sees: the trace read once, in topological order, into sections.

``summarize`` walks the (level-sorted) nodes of the feedback graph a single time, so building a
problem is linear in the graph. Every call of every operator is its own #Code line: a parameter used
K times shows K calls (trace-opt 0.1.3.8 can show the first K-1 outputs as fixed inputs instead).
Long values are shortened with an explicit marker so the model knows something is missing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from opto.optimizers.prompt_format import SECTIONS, PromptFormat
from opto.trace.nodes import ExceptionNode, MessageNode, Node

DEFAULT_VALUE_LIMIT = 2000
"""Characters of one input/intermediate/output value shown before it is shortened."""


@dataclasses.dataclass(slots=True)
class Entry:
    """One value in #Variables, #Inputs, #Others or #Outputs."""

    name: str
    type: str
    value: str
    constraint: str | None = None

    @property
    def is_code(self) -> bool:
        return self.type == "code"


@dataclasses.dataclass
class Problem:
    """The sections of one problem instance; ``omitted`` counts entries dropped to fit the token cap."""

    instruction: str
    code: list[str]
    documentation: dict[str, str]
    variables: list[Entry]
    inputs: list[Entry]
    others: list[Entry]
    outputs: list[Entry]
    feedback: str
    omitted: dict[str, int] = dataclasses.field(default_factory=dict)


def shorten(text: str, limit: int | None) -> str:
    """``text`` cut to about ``limit`` characters, keeping head and tail around an explicit marker."""
    if limit is None or len(text) <= limit:
        return text
    head = max(1, (limit * 2) // 3)
    tail = max(0, limit - head)
    omitted = len(text) - head - tail
    end = text[len(text) - tail:] if tail else ""
    return f"{text[:head]} …[{omitted} characters omitted]… {end}"


def is_code_name(name: str) -> bool:
    """trace-opt's convention: a parameter holding a function's source is named ``__code``."""
    return "__code" in name


def fun_name(node: MessageNode) -> str:
    """The called function's name, read without materializing a lazily stored info dict."""
    info = node._info
    if type(info) is dict:
        name = info.get("fun_name")
    elif info is not None:
        static = getattr(info, "static", None)  # a bundled call's compact info
        if getattr(info, "is_eval", False):
            name = "eval"
        elif isinstance(static, dict):
            name = static.get("fun_name")
        else:
            name = getattr(info, "fun_name", None)
    else:
        name = None
    return str(name) if name else node._name.split(":")[0].split("/")[-1]


def call_line(node: MessageNode, name: str | None = None) -> str:
    """``out = f(a=x0, b=y0)``: one call, arguments by the names the function declares."""
    args = ", ".join(f"{k}={v.py_name}" for k, v in node._inputs.items())
    return f"{node.py_name} = {name or fun_name(node)}({args})"


def value_text(node: Node, limit: int | None) -> str:
    data = node._data
    text = data if isinstance(data, str) else str(data)
    if isinstance(node, ExceptionNode):
        info = node.info
        comment = info.get("error_comment") if isinstance(info, dict) else None
        if comment and comment not in text:
            text = f"{text}\n{comment}"
    return shorten(text, limit)


def entry(node: Node, limit: int | None, *, full: bool = False, name: str | None = None) -> Entry:
    """The entry for ``node``; ``full`` (trainable variables) never shortens: the model rewrites it."""
    name = name or node.py_name
    kind = "code" if is_code_name(name) else ("exception" if isinstance(node, ExceptionNode)
                                              else type(node._data).__name__)
    return Entry(name, kind, value_text(node, None if full else limit), node._constraint)


def summarize(nodes: Iterable[tuple[int, Node]], trainable: Collection[int], feedback: Any, instruction: str,
              value_limit: int | None = DEFAULT_VALUE_LIMIT) -> Problem:
    """Sort the level-ordered ``nodes`` into sections in one pass.

    trainable: ``id()`` of the parameters the optimizer may change.
    A node is a call (#Code) when all its parents are in the graph; otherwise its value is given
    (#Inputs, or #Variables when trainable). Calls no other call reads are #Outputs.
    """
    seen: dict[int, str] = {}  # id -> py_name of every node visited so far
    read: set[int] = set()
    calls: list[MessageNode] = []
    code: list[str] = []
    docs: dict[str, str] = {}
    variables: list[Entry] = []
    inputs: list[Entry] = []
    for _, node in nodes:
        key = id(node)
        if key in seen:
            continue
        py_name = seen[key] = node._name.replace(":", "")
        parents = node._parents
        if parents and isinstance(node, MessageNode):
            args = []
            for arg, p in node._inputs.items():
                p_name = seen.get(id(p))
                if p_name is None:
                    break
                args.append(f"{arg}={p_name}")
            else:
                if len(parents) == len(node._inputs) or all(id(p) in seen for p in parents):
                    calls.append(node)
                    name = fun_name(node)
                    code.append(f"{py_name} = {name}({', '.join(args)})")
                    read.update(id(p) for p in parents)
                    if name not in docs:
                        docs[name] = _doc(node, name)
                    continue
        if key in trainable:
            variables.append(entry(node, value_limit, full=True))
        else:
            inputs.append(entry(node, value_limit))
    others: list[Entry] = []
    outputs: list[Entry] = []
    for node in calls:
        (others if id(node) in read else outputs).append(entry(node, value_limit, name=seen[id(node)]))
    return Problem(instruction=instruction, code=code, documentation=docs, variables=variables, inputs=inputs,
                   others=others, outputs=outputs, feedback="" if feedback is None else str(feedback))


def _doc(node: MessageNode, name: str) -> str:
    if isinstance(node, ExceptionNode):
        info = node.info
        doc = info.get("doc") if isinstance(info, dict) else None
        return f"[{name}] {doc}".rstrip() if doc else node.description
    return node.description


def render_entry(e: Entry, fmt: PromptFormat, *, trainable: bool) -> str:
    template = fmt.code_line if e.is_code else fmt.value_line
    return template.format(tag=fmt.variable_tag if trainable else "node", value_tag=fmt.value_tag,
                           type=e.type, name=e.name, value=e.value)


def section_bodies(problem: Problem, fmt: PromptFormat) -> dict[str, str]:
    """Section key -> rendered body (no title)."""
    def lines(entries: Sequence[Entry], trainable: bool = False, key: str = "") -> str:
        body = [render_entry(e, fmt, trainable=trainable) for e in entries]
        dropped = problem.omitted.get(key, 0)
        if dropped:
            body.append(f"…[{dropped} more value(s) omitted to fit the prompt limit]…")
        return "\n".join(body)

    constraints = [
        fmt.constraint_line.format(type=e.type, name=e.name, constraint=e.constraint)
        for e in problem.variables if e.constraint
    ]
    return {
        "instruction": problem.instruction,
        "code": "\n".join(problem.code),
        "documentation": "\n".join(docs for docs in problem.documentation.values()),
        "variables": lines(problem.variables, trainable=True),
        "constraints": "\n".join(constraints),
        "inputs": lines(problem.inputs, key="inputs"),
        "others": lines(problem.others, key="others"),
        "outputs": lines(problem.outputs),
        "feedback": problem.feedback,
    }


def render(problem: Problem, fmt: PromptFormat, mask: Collection[str] = ()) -> str:
    """The problem text: each section's title then its body; masked sections (key or title) are empty."""
    bodies = section_bodies(problem, fmt)
    parts = []
    for key in SECTIONS:
        title = fmt.title(key)
        body = "" if (key in mask or title in mask or "#" + key.capitalize() in mask) else bodies[key]
        parts.append(f"{title}\n{body}")
    return "\n\n".join(parts)
