"""Objectives the runtime tests evaluate in sandbox workers (imported there by reference)."""

from __future__ import annotations

import os
import time
from typing import Any

from opto.runtime import load_function


def run_code(values: dict[str, Any]) -> Any:
    """Run the candidate's code text: ``def f(): ...``; whatever f returns is the objective's return."""
    return load_function(values["code"], "f")()


def run_code_on(values: dict[str, Any], x: Any) -> Any:
    """Like run_code, with a task input passed to f."""
    return load_function(values["code"], "f")(x)


def square_error(values: dict[str, Any]) -> tuple[float, str]:
    """A numeric objective: closer to 3 is better."""
    x = float(values["x"])
    return -((x - 3.0) ** 2), f"x={x} is {abs(x - 3.0):.2f} from the optimum"


def trivial(values: dict[str, Any]) -> float:
    return 1.0


def busy(values: dict[str, Any]) -> float:
    """CPU-bound work for values['seconds'] seconds."""
    end = time.perf_counter() + float(values.get("seconds", 0.2))
    n = 0
    while time.perf_counter() < end:
        n += 1
    return float(values.get("score", n % 7))


def logged_sleep(values: dict[str, Any]) -> dict[str, Any]:
    """Sleep, then append the candidate's id to a log (the kill -9 test counts re-runs with it)."""
    time.sleep(float(values["seconds"]))
    with open(values["log"], "a") as f:
        f.write(values["name"] + "\n")
    return {"score": float(values["i"]), "feedback": f"ran {values['name']}", "artifacts": {"pid": os.getpid()}}


def env_probe(values: dict[str, Any]) -> dict[str, Any]:
    """Report which of the named environment variables the worker can see."""
    return {"score": 0.0, "artifacts": {k: os.environ.get(k) for k in values["names"]}}


def program_objective(program: Any) -> tuple[float, str]:
    """With a program reference: score the program's current parameter values."""
    params = program.named_parameters()
    text = str(params["prompt"].data)
    return float(len(text)), f"prompt has {len(text)} characters"


def make_program() -> Any:
    """A zero-arg factory returning a trace Module with one trainable prompt."""
    from opto import trace

    @trace.model
    class Agent:
        def __init__(self) -> None:
            self.prompt = trace.node("hello", trainable=True)

    return Agent()


def not_a_program() -> int:
    """A factory that returns something other than a trace Module."""
    return 42
