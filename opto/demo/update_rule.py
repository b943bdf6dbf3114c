"""A small numeric update rule to discover (AutoML-Zero / Lion-style symbolic search).

``update(w, g, m, v, t) -> (w, m, v)`` is one optimizer step: weights ``w``, gradient ``g``, two
state arrays ``m`` and ``v`` (start at zero) and the step number ``t`` (from 1). It is run for
``STEPS`` steps on seeded toy problems (ill-conditioned quadratics and Rosenbrock); the score is
minus the mean log10 of the final losses (higher is better). Workers import this module by name.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

STEPS = 100
SGD_MOMENTUM = '''import numpy as np


def update(w, g, m, v, t):
    """One step of SGD with momentum; v is unused."""
    m = 0.9 * m + 1.0 * g
    v = 0.0 * v + 0.0 * g * g
    step = 0.01 * m + 0.0 * np.sign(m)
    return w - step, m, v
'''

TASK = ("Discover an optimizer update rule. update(w, g, m, v, t) gets numpy arrays w (weights), g (gradient), "
        "m and v (state, zero at the start) and the step t (1, 2, ...); it returns the new (w, m, v). It runs "
        f"{STEPS} steps on ill-conditioned quadratics and the Rosenbrock function; lower final loss is better.")

Problem = tuple[Callable[[np.ndarray], float], Callable[[np.ndarray], np.ndarray], np.ndarray]


def problems(seed: int = 3) -> list[tuple[str, Problem]]:
    rng = np.random.default_rng(seed)
    out: list[tuple[str, Problem]] = []
    for cond in (10.0, 100.0, 1000.0):
        d = np.logspace(0, math.log10(cond), 10) / cond * 10.0
        start = rng.normal(size=10)
        out.append((f"quadratic(cond={cond:g})", (functools.partial(_quadratic, d), functools.partial(_quadratic_grad, d),
                                                   start)))

    def rosen(x: np.ndarray) -> float:
        return float((1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2)

    def rosen_grad(x: np.ndarray) -> np.ndarray:
        return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])

    out.append(("rosenbrock", (rosen, rosen_grad, np.array([-1.2, 1.0]))))
    return out


def _quadratic(d: np.ndarray, x: np.ndarray) -> float:
    return float(0.5 * np.sum(d * x * x))


def _quadratic_grad(d: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.asarray(d * x)


def final_loss(rule: Callable[..., Any], problem: Problem) -> float:
    f, grad, start = problem
    w = start.copy()
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, STEPS + 1):
        w, m, v = (np.asarray(a, dtype=float) for a in rule(w, grad(w), m, v, t))
        if w.shape != start.shape:
            raise ValueError(f"update returned w of shape {w.shape}, expected {start.shape}")
        if not np.all(np.isfinite(w)):
            return math.inf
    return f(w)


def evaluate(values: Mapping[str, Any]) -> dict[str, Any]:
    from opto.runtime import load_function

    rule = load_function(str(values["update"]), "update", globals={"np": np, "math": math})
    logs, notes = [], []
    for name, problem in problems():
        with np.errstate(all="ignore"):  # a diverging rule overflows; that is its score, not a crash
            loss = final_loss(rule, problem)
        logs.append(min(6.0, math.log10(loss + 1e-12)) if math.isfinite(loss) else 6.0)  # a diverged run: 1e6
        notes.append(f"{name}: final loss {loss:.3g}")
    mean = float(np.mean(logs))
    return {"score": -mean, "scores": {"mean_log10_loss": mean}, "feedback": "; ".join(notes)}
