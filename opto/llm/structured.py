"""Structured replies: how to ask for JSON, how to read it back tolerantly, how to ask for a repair.

Pure functions over Request/text, apart from any transport (STYLE.md 5), so the parser can be fuzzed
and the prompts reviewed without a server.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, RootModel, ValidationError

from opto.llm.protocol import LMFailure, Request

SchemaDialect = Literal["json_schema", "json_object", "prompt"]
"""How a server is asked for JSON: OpenAI ``json_schema`` (OpenAI, vLLM, Ollama, llama-server),
llama-cpp-python's ``{"type": "json_object", "schema": ...}``, or only by the prompt."""

_FENCE = re.compile(r"```[ \t]*[A-Za-z0-9_+-]*[ \t]*\r?\n?(.*?)```", re.S)
# Where a JSON value can start inside prose: "{" before a key or "}", "[" before a value or "]".
# Citations like "[3]" are valid arrays, so they are candidates of the second kind only.
_OBJECT_START = re.compile(r'\{(?=\s*["}])')
_ANY_START = re.compile(r'\{(?=\s*["}])|\[(?=\s*[\]\[{"\-0-9tfn])')
_SCAN_BUDGET_FACTOR = 8  # the prose scan reads at most ~8x the reply, or _SCAN_BUDGET_MIN chars
_SCAN_BUDGET_MIN = 1 << 20
_WINDOW = 512  # first window decoded at a start position; grows 4x while a value runs past it
_MAX_ERROR_CHARS = 1200
_MAX_QUOTED_REPLY = 4000


def schema_json(schema: type[BaseModel]) -> dict[str, Any]:
    return schema.model_json_schema()


def schema_instruction(schema: type[BaseModel]) -> str:
    """The sentence added to the system prompt; small models follow it even without server support."""
    return (
        "Reply with only a JSON object (no prose, no code fences) that validates against this JSON "
        f"schema:\n{json.dumps(schema_json(schema), separators=(',', ':'))}"
    )


def prepare(request: Request) -> Request:
    """Add the schema instruction to the system message (inserting one when there is none)."""
    if request.schema is None:
        return request
    note = schema_instruction(request.schema)
    msgs = [dict(m) for m in request.messages]
    if msgs[0]["role"] == "system" and isinstance(msgs[0]["content"], str):
        msgs[0]["content"] = f"{msgs[0]['content']}\n\n{note}"
    else:
        msgs.insert(0, {"role": "system", "content": note})
    return request.replace(messages=tuple(msgs))


def response_format(request: Request, dialect: SchemaDialect) -> dict[str, Any] | None:
    """The ``response_format`` body field for ``dialect``, or None to rely on the prompt alone."""
    if dialect == "prompt":
        return None
    if request.schema is None:
        return {"type": "json_object"} if request.json_mode else None
    schema = schema_json(request.schema)
    if dialect == "json_schema":
        # strict=False: pydantic schemas with defaults/optionals are not valid "strict" schemas.
        name = re.sub(r"[^A-Za-z0-9_-]", "_", request.schema.__name__)[:64] or "reply"
        return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": False}}
    return {"type": "json_object", "schema": schema}


def _candidates(text: str) -> list[str]:
    out = [text.strip()]
    out += [m.group(1).strip() for m in _FENCE.finditer(text)]
    return out


def extract_json(text: str, want: Literal["object", "any"] = "object") -> Any:
    """The JSON value in ``text``: whole text, then fenced blocks, then embedded in prose.

    In prose, with ``want="object"`` (what a pydantic schema expects), objects are looked for first
    and another value (e.g. a ``[3]`` citation) is returned only when there is no object. The first
    value wins; start positions are tried from both ends, so one at the very end is still found after
    any amount of bracket-heavy prose, and the scan stops after reading about 8x the text (at least
    1 MiB), so hostile input stays linear. Raises ValueError when nothing is found.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected text, got {type(text).__name__}")
    for cand in _candidates(text):
        try:
            return _unwrap_string(json.loads(cand, strict=False))  # raw newlines in strings: common in LLM JSON
        except (ValueError, RecursionError):
            continue
    budget = [max(_SCAN_BUDGET_FACTOR * len(text), _SCAN_BUDGET_MIN)]
    if want == "object":
        found = _scan(text, _OBJECT_START, budget)
        if found is not _NOTHING:
            return found
    found = _scan(text, _ANY_START, budget)
    if found is not _NOTHING:
        return found
    raise ValueError("no JSON object found in the reply")


_NOTHING = object()


def _scan(text: str, starts: re.Pattern[str], budget: list[int]) -> Any:
    """The first JSON value decoded at a position ``starts`` matches, or _NOTHING.

    Positions are tried alternately from the left and from the right; the right side keeps its
    leftmost success (it meets inner objects first, then what encloses them or comes before them).
    Together they give what a left-to-right scan would, but a value at the end of a long, bracket-heavy
    text is still found when ``budget[0]`` (characters the decoder may still read) runs out first.
    """
    decoder = json.JSONDecoder(strict=False)
    positions = [m.start() for m in starts.finditer(text)]
    lo, hi = 0, len(positions) - 1
    right: tuple[int, Any] | None = None  # (start, value) of the leftmost success from the right
    # When the two sides meet, every position left of ``right`` has failed: it is the first value.
    while lo <= hi and budget[0] > 0:
        value, ok = _decode(decoder, text, positions[lo], budget)
        if ok:
            return value
        lo += 1
        if lo > hi or budget[0] <= 0:
            break
        value, ok = _decode(decoder, text, positions[hi], budget)
        if ok:
            right = (positions[hi], value)
        hi -= 1
    return right[1] if right is not None else _NOTHING


def _decode(decoder: json.JSONDecoder, text: str, i: int, budget: list[int]) -> tuple[Any, bool]:
    """(value, True) for the JSON object/array at ``i``, else (None, False); charges what it read.

    It decodes a window of the text, growing it only while the value may run past it: json builds
    each error message by scanning the document from its start, so decoding in the whole text would
    make every failed position cost O(len(text)). A value that closes inside a window is the value
    the whole text holds there (the decoder reads nothing past its closing bracket).
    """
    size = _WINDOW
    while True:
        chunk = text[i : i + size]
        budget[0] -= len(chunk)
        try:
            return decoder.raw_decode(chunk)[0], True
        except json.JSONDecodeError as e:
            cut = i + len(chunk) < len(text) and (
                e.pos >= len(chunk) - 8 or e.msg.startswith("Unterminated string")
            )
            if not cut or budget[0] <= 0:
                return None, False
        except (ValueError, RecursionError):  # RecursionError: nested too deep to be a reply
            return None, False
        size *= 4


def _unwrap_string(value: Any) -> Any:
    """A JSON string that itself holds JSON (double-encoded replies) is decoded once more."""
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):
            return value
    return value


def _short(err: Exception) -> str:
    if isinstance(err, ValidationError):  # compact: "field: problem" without pydantic's help links
        msg = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in err.errors()
        )
    else:
        msg = str(err)
    return msg if len(msg) <= _MAX_ERROR_CHARS else msg[:_MAX_ERROR_CHARS] + " …"


def expects_object(schema: type[BaseModel]) -> bool:
    """True unless ``schema`` is a RootModel (which may describe a list, a number, ...)."""
    return not issubclass(schema, RootModel)


def parse_reply(text: str, schema: type[BaseModel]) -> BaseModel | LMFailure:
    """Validate a reply against ``schema``; an LMFailure (kind "schema") says what was wrong. Never raises."""
    want_object = expects_object(schema)
    try:
        obj = extract_json(text, want="object" if want_object else "any")
    except ValueError as e:
        return LMFailure("schema", f"the reply is not JSON ({e})", raw_text=text if isinstance(text, str) else "")
    if want_object and not isinstance(obj, dict):
        found = json.dumps(obj, ensure_ascii=False)
        found = found if len(found) <= 80 else found[:80] + " …"
        return LMFailure(
            "schema", f"the reply holds no JSON object (only the {type(obj).__name__} {found})", raw_text=text
        )
    try:
        return schema.model_validate(obj)
    except ValidationError as e:
        first_error: Exception = e
    except Exception as e:  # a user validator may raise anything; it is still a bad reply
        first_error = e
    # Small models often wrap the object in one key ({"answer": {...}}); accept the inner object.
    if isinstance(obj, dict) and len(obj) == 1:
        inner = next(iter(obj.values()))
        if isinstance(inner, dict):
            try:
                return schema.model_validate(inner)
            except Exception:
                pass
    return LMFailure("schema", f"the JSON does not match the schema: {_short(first_error)}", raw_text=text)


def repair_request(request: Request, reply: str, error: str) -> Request:
    """One follow-up turn quoting the validation error, so the model can correct itself."""
    quoted = reply if len(reply) <= _MAX_QUOTED_REPLY else reply[:_MAX_QUOTED_REPLY] + " …"
    msgs = list(request.messages) + [
        {"role": "assistant", "content": quoted},
        {
            "role": "user",
            "content": (
                f"That reply could not be used: {error}\n"
                "Reply again with only the corrected JSON object that matches the schema, and nothing else."
            ),
        },
    ]
    return request.replace(messages=tuple(msgs))
