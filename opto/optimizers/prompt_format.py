"""Prompt formats as data: section titles, how a value is written, how the reply must look.

Two layouts ship: ``JSON_FORMAT`` (trace-opt's: ``(type) name=value`` lines, a JSON reply with
``reasoning`` and ``suggestion``) and ``XML_FORMAT`` (tags around every value and around the reply,
as OpenTrace's OptoPrimeV2 does; code comes back in a fenced block). Swap titles with
``fmt.with_titles(variables="# Params")`` or trace-opt's ``prompt_symbols={"variables": "# Params"}``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

SECTIONS = ("instruction", "code", "documentation", "variables", "constraints", "inputs", "others",
            "outputs", "feedback")
"""Section keys, in the order they appear in the problem."""

_TRACE_TITLES = MappingProxyType({k: "#" + k.capitalize() for k in SECTIONS})


@dataclasses.dataclass(frozen=True)
class PromptFormat:
    """Everything about the wording and layout of an OptoPrime prompt; no logic beyond ``str.format``.

    layout: "json" (reply is a JSON object) or "xml" (reply uses the tags below).
    titles: section key -> title as it appears in the prompt.
    value_line / code_line / constraint_line: how one variable is written (fields: type, name, value,
        constraint, tag names).
    code_fence: the reply must put code inside a ```python fence (checked; unfenced code is rejected).
    """

    name: str
    layout: Literal["json", "xml"]
    titles: Mapping[str, str]
    representation: str
    output_format: str
    value_line: str
    code_line: str
    constraint_line: str
    objective: str = (
        "Change the values of the variables in {variables} so that the output improves as {feedback} asks."
    )
    memory_intro: str = "Earlier rounds: the variables you proposed and the feedback they received."
    rejected_intro: str = (
        "These proposals of yours were rejected and NOT applied. Do not propose them again; fix the "
        "reason given for each."
    )
    final: str = "Your response:"
    code_fence: bool = False
    reasoning_tag: str = "reasoning"
    variable_tag: str = "variable"
    name_tag: str = "name"
    value_tag: str = "value"

    def title(self, key: str) -> str:
        return self.titles[key]

    def with_titles(self, **titles: str) -> PromptFormat:
        """A copy with some section titles replaced (keys from ``SECTIONS``)."""
        unknown = sorted(set(titles) - set(SECTIONS))
        if unknown:
            raise ValueError(f"unknown section(s) {unknown}; sections are {list(SECTIONS)}")
        merged = dict(self.titles)
        merged.update(titles)
        return dataclasses.replace(self, titles=MappingProxyType(merged))

    def fill(self, text: str) -> str:
        """``text`` with ``{variables}``-style placeholders replaced by this format's titles and tags."""
        return text.format(**self.titles, reasoning_tag=self.reasoning_tag, variable_tag=self.variable_tag,
                           name_tag=self.name_tag, value_tag=self.value_tag)

    def system_prompt(self) -> str:
        return self.fill(self.representation) + "\n\n" + self.fill(self.output_format)


_REPRESENTATION = """\
You improve a program by changing some of its values. The program ran; you see what it computed \
and feedback on the result. The problem comes in these sections:
- {instruction}: what to achieve.
- {code}: every call the program made, in order, one line each: output = function(argument=value).
- {documentation}: what each function in {code} does (it may be brief; use {others} to infer more).
- {variables}: the values you may change.
- {constraints}: rules the new values of {variables} must follow.
- {inputs}: values the program used that you cannot change.
- {others}: intermediate values computed while the program ran.
- {outputs}: the results the feedback is about.
- {feedback}: what was wrong (or right) with {outputs}.
"""

_JSON_VALUES = """\
In {variables}, {inputs}, {others} and {outputs} each value is written as
(type) name=value
and a value of type (code) is Python source: a function definition, possibly with its docstring. \
Long values are shortened; the marker says how many characters were left out."""

_JSON_OUTPUT = """\
Reply with one JSON object and nothing else:
{{"reasoning": "<why the output is what it is and what to change>",
 "answer": "<an answer, if {instruction} asks a question, else empty>",
 "suggestion": {{"<variable name>": <new value>, ...}}}}

Put in "suggestion" only variables from {variables}, under the exact names shown there, each with \
its complete new value of the same type. For a (code) variable write the whole new function as a \
string: valid Python, same function name, same signature. If nothing should change, reply with an \
empty "suggestion" (or just the word TERMINATE)."""

_XML_VALUES = """\
In {variables}, {inputs}, {others} and {outputs} each value is written as
<{variable_tag} name="..." type="..."><{value_tag}>...</{value_tag}></{variable_tag}>
(or <node ...> for values you cannot change). A value of type code is Python source: a function \
definition, possibly with its docstring. Long values are shortened; the marker says how many \
characters were left out."""

_XML_OUTPUT = """\
Reply in this layout and nothing else:
<{reasoning_tag}>why the output is what it is and what to change</{reasoning_tag}>
<{variable_tag}>
<{name_tag}>variable name from {variables}</{name_tag}>
<{value_tag}>
complete new value
</{value_tag}>
</{variable_tag}>
(one <{variable_tag}> block per variable you change). For a variable of type code, put the whole new \
function inside a ```python fenced block in <{value_tag}>: valid Python, same function name, same \
signature. If nothing should change, reply with only the word TERMINATE."""

JSON_FORMAT = PromptFormat(
    name="json",
    layout="json",
    titles=_TRACE_TITLES,
    representation=_REPRESENTATION + "\n" + _JSON_VALUES,
    output_format=_JSON_OUTPUT,
    value_line="({type}) {name}={value}",
    code_line="(code) {name}:{value}",
    constraint_line="({type}) {name}: {constraint}",
)
"""trace-opt's layout, which its users and prompts know."""

XML_FORMAT = PromptFormat(
    name="xml",
    layout="xml",
    titles=MappingProxyType({k: "# " + k.capitalize() for k in SECTIONS}),
    representation=_REPRESENTATION + "\n" + _XML_VALUES,
    output_format=_XML_OUTPUT,
    value_line='<{tag} name="{name}" type="{type}">\n<{value_tag}>\n{value}\n</{value_tag}>\n</{tag}>',
    code_line='<{tag} name="{name}" type="code">\n<{value_tag}>\n{value}\n</{value_tag}>\n</{tag}>',
    constraint_line='<constraint name="{name}">{constraint}</constraint>',
    code_fence=True,
)
"""Tags around every value and in the reply: robust to values that contain quotes or braces."""

FORMATS: Mapping[str, PromptFormat] = MappingProxyType({"json": JSON_FORMAT, "xml": XML_FORMAT})


def resolve_format(spec: str | PromptFormat | None, prompt_symbols: Mapping[str, str] | None = None) -> PromptFormat:
    """A PromptFormat from a name or an instance, with trace-opt's ``prompt_symbols`` applied."""
    if spec is None:
        fmt = JSON_FORMAT
    elif isinstance(spec, PromptFormat):
        fmt = spec
    elif isinstance(spec, str) and spec in FORMATS:
        fmt = FORMATS[spec]
    else:
        raise ValueError(f"prompt_format must be one of {sorted(FORMATS)} or a PromptFormat, got {spec!r}")
    if prompt_symbols:
        fmt = fmt.with_titles(**dict(prompt_symbols))
    return fmt
