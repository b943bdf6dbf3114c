"""Reading an optimizer reply: the structured object, trace-opt's JSON, or the XML-tag layout.

A reply that cannot be used as a whole (cut off at the token limit, unclosed reasoning tags, no
suggestion to be found) gets a reason instead of a suggestion; the optimizer feeds that reason back.
Per-value problems are for ``checks``.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from opto.optimizers.memory import jsonable
from opto.optimizers.prompt_format import PromptFormat

_THINK = re.compile(r"<think(?:ing)?>.*?</think(?:ing)?>", re.S | re.I)
_THINK_OPEN = re.compile(r"<think(?:ing)?>", re.I)
_TERMINATE = re.compile(r"\bTERMINATE\b")


class OptimizerReply(BaseModel):
    """The structured reply requested through the LLM layer's schema support."""

    reasoning: str = Field("", description="why the output is what it is and what to change")
    answer: Any = Field(None, description="an answer, if the instruction asks a question")
    suggestion: dict[str, Any] = Field(  # required: a reply without it is not "no change"
        description="variable name -> complete new value; empty means no change"
    )
    # The JSON schema sent for this step (``for_variables``); validation stays lenient (any names,
    # any reasoning length) so that an API model ignoring the schema is still read, and checked by name.
    step_schema: ClassVar[dict[str, Any] | None] = None

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if cls.step_schema is not None:
            return copy.deepcopy(cls.step_schema)
        return super().model_json_schema(*args, **kwargs)


_JSON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"))


def json_type(value: Any, is_code: bool = False) -> str | None:
    """The JSON-schema type a suggestion for a parameter holding ``value`` must have (None: any)."""
    if is_code:
        return "string"
    for kind, name in _JSON_TYPES:  # bool before int: True is an int
        if isinstance(value, kind):
            return name
    return None


def for_variables(variables: Sequence[tuple[str, Any, bool]], *, suggestion_first: bool = False,
                  max_reasoning_chars: int | None = None) -> type[OptimizerReply]:
    """The reply model whose schema names exactly these (name, value, is_code) variables.

    ``suggestion`` lists every variable as required (a repeated value means no change), so a
    grammar-constrained model cannot invent names or leave it empty. ``suggestion_first`` (for small
    models) puts it before the reasoning, so a reply cut off in its reasoning still carries the values;
    llama.cpp's json-schema-to-grammar keeps property order and enforces ``maxLength``, which bounds
    the reasoning. Reasoning first (the default) keeps a large model's thinking before its answer.
    """
    props: dict[str, Any] = {}
    for name, value, is_code in variables:
        kind = json_type(value, is_code)
        props[name] = {"type": kind} if kind is not None else {}
        if kind == "string" and suggestion_first:  # a small model's new text must fit its token budget
            props[name]["maxLength"] = 2 * len(str(value)) + 200
    reasoning: dict[str, Any] = {"type": "string"}
    if max_reasoning_chars is not None:
        reasoning["maxLength"] = max_reasoning_chars
    suggestion = {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}
    order = ["suggestion", "reasoning"] if suggestion_first else ["reasoning", "suggestion"]
    fields = {"suggestion": suggestion, "reasoning": reasoning}
    schema = {"type": "object", "properties": {k: fields[k] for k in order}, "required": order,
              "additionalProperties": False}
    return type("OptimizerReply", (OptimizerReply,), {"step_schema": schema, "__module__": __name__})


@dataclasses.dataclass
class ParsedReply:
    reasoning: str = ""
    answer: Any = None
    suggestion: dict[str, Any] = dataclasses.field(default_factory=dict)
    terminate: bool = False
    error: str | None = None  # why the whole reply is unusable


def parse(text: str, fmt: PromptFormat, *, finish_reason: str | None = None, parsed: Any = None) -> ParsedReply:
    """Read a reply; never raises. ``parsed`` is the schema-validated object when the LM gave one."""
    if finish_reason == "length":
        salvaged = _leading_suggestion(text or "")
        if salvaged is not None:  # suggestion first, cut off in the reasoning: the values are whole
            return salvaged
        return ParsedReply(error="the reply was cut off at the token limit (truncated); write a shorter "
                                 "reasoning and only the values that change")
    if isinstance(parsed, OptimizerReply):
        return _from_object(parsed.model_dump())
    text = text or ""
    cleaned = _THINK.sub("", text)
    if _THINK_OPEN.search(cleaned):
        return ParsedReply(error="the reply contains an unclosed <think> block (reasoning leaked into the "
                                 "answer, or it was truncated); reply with only the requested format")
    first, second = (_from_xml, _from_json) if fmt.layout == "xml" else (_from_json, _from_xml)
    for reader in (first, second):
        result = reader(cleaned, fmt)
        if result is not None and (result.suggestion or result.error):
            return result
    if _TERMINATE.search(cleaned):
        return ParsedReply(terminate=True, reasoning=cleaned.strip())
    result = _from_json(cleaned, fmt) or _from_xml(cleaned, fmt)
    if result is not None:  # a well-formed reply with an empty suggestion: no change
        result.terminate = True
        return result
    if fmt.layout == "xml":
        how = f"one <{fmt.variable_tag}> block per changed variable, or only TERMINATE for no change"
    else:
        how = 'a JSON object whose "suggestion" maps variable names to new values ({} for no change)'
    return ParsedReply(error=f"no suggestion could be read from the reply; reply with {how}")


def _from_object(obj: dict[str, Any]) -> ParsedReply:
    suggestion = obj.get("suggestion")
    if not isinstance(suggestion, dict):
        suggestion = {}
    reasoning = obj.get("reasoning", "")
    return ParsedReply(reasoning=reasoning if isinstance(reasoning, str) else json.dumps(reasoning),
                       answer=obj.get("answer"), suggestion=dict(suggestion), terminate=not suggestion)


def _from_json(text: str, fmt: PromptFormat) -> ParsedReply | None:
    from opto.llm import extract_json

    try:
        obj = extract_json(text, want="object")
    except ValueError:
        return _pairs(text)
    if not isinstance(obj, dict):
        return None
    if "suggestion" not in obj and len(obj) == 1 and isinstance(next(iter(obj.values())), dict):
        obj = next(iter(obj.values()))  # {"reply": {...}}
    if "suggestion" not in obj:
        return _pairs(text)
    return _from_object(obj)


def in_process(lm: Any) -> bool:
    """True for the in-process llama.cpp model: small, and constrained to the schema's grammar."""
    import sys

    local = sys.modules.get("opto.llm.local")
    return local is not None and isinstance(lm, local.LocalLM)


def reply_tokens(schema: dict[str, Any], values: Mapping[str, Any]) -> int:
    """Completion tokens a reply to ``schema`` needs: each value may double, plus the reasoning cap."""
    reasoning = schema["properties"]["reasoning"].get("maxLength", 0)
    props = schema["properties"]["suggestion"]["properties"]
    text = sum(props.get(n, {}).get("maxLength", 2 * len(json.dumps(jsonable(v), ensure_ascii=False))) + len(n) + 8
               for n, v in values.items())
    return 48 + (text + reasoning) // 3


_SUGGESTION_KEY = re.compile(r'^\s*\{\s*"suggestion"\s*:\s*')


def _leading_suggestion(text: str) -> ParsedReply | None:
    """The complete, non-empty ``suggestion`` object a truncated reply opens with, if there is one."""
    key = _SUGGESTION_KEY.match(text)
    if key is None:
        return None
    try:
        value, _ = json.JSONDecoder(strict=False).raw_decode(text, key.end())
    except json.JSONDecodeError:
        return None
    if not isinstance(value, dict) or not value:
        return None
    return ParsedReply(reasoning="(the reasoning was cut off at the token limit)", suggestion=value)


_SUGGESTION_BLOCK = re.compile(r'"suggestion"\s*:\s*\{(.*)\}', re.S)
_PAIR = re.compile(r'"([A-Za-z_][A-Za-z0-9_]*)"\s*:\s*"((?:[^"\\]|\\.)*)"', re.S)


_REPLY_KEYS = frozenset(("reasoning", "answer", "suggestion"))


def _pairs(text: str) -> ParsedReply | None:
    """trace-opt's last resort for broken JSON: string pairs inside the "suggestion" braces."""
    block = _SUGGESTION_BLOCK.search(text)
    if block is None:
        return None
    pairs: dict[str, Any] = {}
    for key, raw in _PAIR.findall(block.group(1)):
        if key in _REPLY_KEYS:  # the greedy block may run past the suggestion into the reasoning
            continue
        try:
            pairs[key] = json.loads(f'"{raw}"')
        except json.JSONDecodeError:
            pairs[key] = raw
    return ParsedReply(suggestion=pairs) if pairs else None


def _from_xml(text: str, fmt: PromptFormat) -> ParsedReply | None:
    v, n, val, r = (re.escape(t) for t in (fmt.variable_tag, fmt.name_tag, fmt.value_tag, fmt.reasoning_tag))
    blocks = re.findall(rf"<{v}>\s*<{n}>(.*?)</{n}>\s*<{val}>(.*?)</{val}>\s*</{v}>", text, re.S)
    reasoning_match = re.search(rf"<{r}>(.*?)</{r}>", text, re.S)
    reasoning = reasoning_match.group(1).strip() if reasoning_match else ""
    if not blocks:
        opened = len(re.findall(rf"<{val}>", text))
        if opened and opened > len(re.findall(rf"</{val}>", text)):
            return ParsedReply(reasoning=reasoning, error=f"the reply is truncated: a <{fmt.value_tag}> block "
                                                          "is never closed")
        return ParsedReply(reasoning=reasoning) if reasoning_match else None
    suggestion = {name.strip(): _strip_newlines(value) for name, value in blocks}
    return ParsedReply(reasoning=reasoning, suggestion=suggestion)


def _strip_newlines(value: str) -> str:
    """Drop the one newline the layout puts after ``<value>`` and before ``</value>``."""
    if value.startswith("\n"):
        value = value[1:]
    if value.endswith("\n"):
        value = value[:-1]
    return value
