"""Tiny objectives the evolution tests evaluate in sandbox workers (imported there by reference)."""

from __future__ import annotations

from typing import Any

from opto.runtime import load_function

XS = (-2.0, -1.0, 0.0, 1.0, 2.0, 3.0)


def quadratic(values: dict[str, Any]) -> tuple[float, str]:
    """Numbers and a choice: the optimum is x=3, n=5, mode='b' (score 1)."""
    x, n, mode = float(values["x"]), int(values["n"]), values["mode"]
    score = -((x - 3.0) ** 2) - (n - 5) ** 2 + (1.0 if mode == "b" else 0.0)
    return score, f"x={x:.3f} n={n} mode={mode}"


def line_fit(values: dict[str, Any], xs: Any = XS) -> tuple[float, str]:
    """Code: f(x) should be 3*x + 2 on the inputs; the score is minus the summed absolute error."""
    f = load_function(values["f"], "f")
    error = sum(abs(float(f(x)) - (3.0 * x + 2.0)) for x in xs)
    return -error, f"summed absolute error {error:.3f}"


def line_fit_scaled(values: dict[str, Any], xs: Any = XS) -> tuple[float, str]:
    """Code and a number: f(x) * scale should be 3*x + 2."""
    f = load_function(values["f"], "f")
    scale = float(values["scale"])
    error = sum(abs(float(f(x)) * scale - (3.0 * x + 2.0)) for x in xs)
    return -error, f"summed absolute error {error:.3f}"


def two_goals(values: dict[str, Any]) -> dict[str, Any]:
    """Two named scores that pull apart: accuracy wants x high, cost wants x low."""
    x = float(values["x"])
    return {"score": x - 0.5 * x * x, "scores": {"accuracy": x, "thrift": -x * x}}


def with_length(values: dict[str, Any]) -> dict[str, Any]:
    """line_fit plus a descriptor artifact for MAP-Elites."""
    score, feedback = line_fit(values)
    return {"score": score, "feedback": feedback, "artifacts": {"size": len(values["f"])}}


def nan_sometimes(values: dict[str, Any]) -> float:
    x = float(values["x"])
    return float("nan") if x > 4 else -abs(x - 2)


def quadratic_slow(values: dict[str, Any]) -> tuple[float, str]:
    """quadratic, slow enough that a kill lands in the middle of a run."""
    import time

    time.sleep(0.05)
    return quadratic(values)


def line_fit_g(values: dict[str, Any]) -> tuple[float, str]:
    """line_fit for a code parameter named g."""
    return line_fit({"f": values["g"].replace("def g(", "def f(")})
