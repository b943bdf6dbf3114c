"""Shared bits of the benchmark scripts: where results go and how they are printed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def emit(path: Path, result: dict[str, Any]) -> int:
    """Write ``result`` as JSON to ``path`` (creating bench/results/) and print it; exit code 0."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2) + "\n"
    path.write_text(text)
    print(text, end="")
    return 0
