"""Objectives for the runtime benchmarks (imported by sandbox workers by reference)."""

from __future__ import annotations

import time
from typing import Any


def trivial(values: dict[str, Any]) -> float:
    return 1.0


def busy(values: dict[str, Any]) -> float:
    """Spin the CPU for values['seconds'] seconds (CPU-bound, holds the GIL)."""
    end = time.perf_counter() + float(values["seconds"])
    n = 0
    while time.perf_counter() < end:
        n += 1
    return float(n)
