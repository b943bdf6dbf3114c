"""Structured replies: how to ask for JSON, how to read it back tolerantly, how to ask for a repair.

Pure functions over Request/text, apart from any transport (STYLE.md 5), so the parser can be fuzzed
and the prompts reviewed without a server.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from opto.llm.types import Failure, Request

SchemaDialect = Literal["json_schema", "json_object", "prompt"]
"""How a server is asked for JSON: OpenAI ``json_schema`` (OpenAI, vLLM, Ollama, llama-server),
llama-cpp-python's ``{"type": "json_object", "schema": ...}``, or only by the prompt."""

_FENCE = re.compile(r"```[ \t]*[A-Za-z0-9_+-]*[ \t]*\r?\n?(.*?)```", re.S)
_MAX_START_POSITIONS = 64  # bounds the scan so hostile text stays linear-ish
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


def extract_json(text: str) -> Any:
    """The first JSON value in ``text``: whole text, then fenced blocks, then embedded in prose.

    Objects are preferred over other values when scanning prose. Raises ValueError when none is found.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected text, got {type(text).__name__}")
    for cand in _candidates(text):
        try:
            return _unwrap_string(json.loads(cand))
        except (ValueError, RecursionError):
            continue
    decoder = json.JSONDecoder()
    fallback: Any = None
    found_fallback = False
    starts = [m.start() for m in re.finditer(r"[\[{]", text)][:_MAX_START_POSITIONS]
    for i in starts:
        try:
            value, _ = decoder.raw_decode(text, i)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict):
            return value
        if not found_fallback:
            fallback, found_fallback = value, True
    if found_fallback:
        return fallback
    raise ValueError("no JSON object found in the reply")


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


def parse_reply(text: str, schema: type[BaseModel]) -> BaseModel | Failure:
    """Validate a reply against ``schema``; a Failure (kind "schema") says what was wrong. Never raises."""
    try:
        obj = extract_json(text)
    except ValueError as e:
        return Failure("schema", f"the reply is not JSON ({e})", raw_text=text if isinstance(text, str) else "")
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
    return Failure("schema", f"the JSON does not match the schema: {_short(first_error)}", raw_text=text)


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
