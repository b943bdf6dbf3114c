"""An objective for the report's real-run test (sandbox workers import it by reference)."""

from __future__ import annotations

from typing import Any


def quadratic(values: dict[str, Any], shift: Any = None) -> tuple[float, str]:
    """Optimum at x = 3 (x = 3 + shift on a held-out input); some x fail, so failures show up."""
    x = float(values["x"])
    if x < -4.0:
        raise ValueError(f"x = {x} is out of range")
    target = 3.0 + float(shift or 0.0)
    return -((x - target) ** 2), f"x={x:.3f}"
