"""Config comparison and secret redaction for what goes into a run store.

JSON conversion itself (``to_jsonable``, ``dumps``) lives in opto.records, shared with the sandbox.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from opto.records import dumps
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
