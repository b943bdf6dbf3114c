"""JSON conversion, config comparison, and secret redaction for what goes into a run store."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from opto.store.errors import _ABSENT

_SECRET_KEY = re.compile(
    r"(api[-_]?key|authorization|password|passwd|secret|credential|private[-_]?key|(^|[-_])token$|bearer|cookie)",
    re.IGNORECASE,
)
_SECRET_VALUE = re.compile(
    r"(sk-[A-Za-z0-9_\-]{16,}|Bearer\s+[A-Za-z0-9._\-]{8,}|hf_[A-Za-z0-9]{20,}|AKIA[0-9A-Z]{16}|"
    r"gh[pousr]_[A-Za-z0-9]{20,}|xox[abpr]-[A-Za-z0-9\-]{10,}|AIza[0-9A-Za-z_\-]{30,})"
)
REDACTED = "[redacted]"


def to_jsonable(value: Any, where: str = "value") -> Any:
    """Plain JSON data from mappings, sequences, dataclasses and pydantic models."""
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    try:
        return json.loads(json.dumps(value, allow_nan=False, default=_reject(where)))
    except ValueError as exc:
        raise TypeError(_json_error(value, where, exc)) from None


def _json_error(value: Any, where: str, exc: ValueError) -> str:
    """The message for a ValueError from json.dumps; for NaN/inf it names the entry that holds it."""
    try:
        plain = json.loads(json.dumps(value, default=_reject(where)))  # NaN/inf kept, numpy converted
    except ValueError:  # e.g. a circular reference
        return f"{where} must be JSON data: {exc}"
    stack: list[tuple[str, Any]] = [(where, plain)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return f"{where} must be JSON data, which has no NaN or infinity: {path} is {item!r}"
        if isinstance(item, dict):
            stack.extend((f"{path}[{k!r}]", v) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(item))))
    return f"{where} must be JSON data, which has no NaN or infinity"


def _reject(where: str) -> Any:
    def default(obj: Any) -> Any:
        if hasattr(obj, "tolist"):  # numpy scalars and arrays
            return obj.tolist()
        if isinstance(obj, (set, frozenset)):
            return sorted(obj, key=repr)
        raise TypeError(f"{where} must be JSON data; {type(obj).__name__} {obj!r:.80} is not (convert it first)")

    return default


def dumps(value: Any, where: str = "value") -> str:
    """Canonical JSON text (sorted keys, no NaN) for storage."""
    try:
        return json.dumps(value, sort_keys=True, allow_nan=False, default=_reject(where), separators=(",", ":"))
    except ValueError as exc:
        raise TypeError(_json_error(value, where, exc)) from None


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix or "(config)": value}


def config_diff(stored: Any, new: Any) -> list[tuple[str, Any, Any]]:
    """(dotted key, stored value, new value) for every leaf that differs."""
    a, b = _flatten(stored), _flatten(new)
    return [(k, a.get(k, _ABSENT), b.get(k, _ABSENT)) for k in sorted(set(a) | set(b)) if a.get(k, _ABSENT) != b.get(k, _ABSENT)]


def redact(value: Any) -> Any:
    """A copy with credential-looking keys and values replaced, so no API key reaches the store."""
    if isinstance(value, Mapping):
        return {k: (REDACTED if _SECRET_KEY.search(str(k)) else redact(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return _SECRET_VALUE.sub(REDACTED, value)
    return value


def digest(value: Any) -> str:
    """A stable SHA-256 of JSON data (used as the LLM request digest)."""
    return hashlib.sha256(dumps(value, "request").encode()).hexdigest()
