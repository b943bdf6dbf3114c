"""A tiny optimizer implementing the Optimizer contract, and a numeric task, for trainer tests.

The optimizer asks its LM for new values with a plain prompt and reads a JSON reply, so trainer
tests exercise real LM calls (budget, recording, resume) without depending on OptoPrime's prompts.
"""

from __future__ import annotations

import json
import re
from typing import Any

from opto import trace
from opto.llm import Request, ScriptedLM
from opto.trace.nodes import ParameterNode


class FakeOptimizer:
    """Contract: parameters, zero_feedback, backward, propose, update, step, log, state_dict."""

    def __init__(self, parameters: list[ParameterNode], lm: Any = None) -> None:
        self.parameters = list(parameters)
        self.lm = lm
        self.log: list[dict[str, Any]] = []
        self.memory: list[str] = []
        self._feedback = ""

    def zero_feedback(self) -> None:
        for p in self.parameters:
            p.zero_feedback()
        self._feedback = ""

    def backward(self, output: Any, feedback: str, **kw: Any) -> None:
        self._feedback = feedback
        output.backward(feedback, **kw)

    def propose(self) -> dict[ParameterNode, Any]:
        lines = [f"param[{i}] = {json.dumps(p.data)}" for i, p in enumerate(self.parameters)]
        prompt = "Variables:\n" + "\n".join(lines) + f"\nMemory: {len(self.memory)}\nFeedback:\n{self._feedback}"
        reply = self.lm.complete(Request.of(prompt)).text
        try:
            new = json.loads(reply)
            values = {self.parameters[int(k)]: v for k, v in new.items()}
            rejected: list[dict[str, str]] = []
        except (ValueError, KeyError, IndexError, AttributeError) as e:
            values, rejected = {}, [{"param": "*", "reason": f"bad reply: {e}"}]
        self.memory.append(reply)
        self.log.append({"prompt": prompt, "reply": reply, "applied": {str(k.name): v for k, v in values.items()},
                         "rejected": rejected})
        return values

    def update(self, values: dict[ParameterNode, Any]) -> None:
        for p, v in values.items():
            p._set(v)

    def step(self, verbose: bool = False) -> dict[ParameterNode, Any]:
        values = self.propose()
        self.update(values)
        return values

    def state_dict(self) -> dict[str, Any]:
        return {"memory": list(self.memory)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.memory = list(state["memory"])


@trace.model
class Shift:
    """output = input + x; the best x is the offset the dataset was made with."""

    def __init__(self, x: float = 0.0) -> None:
        self.x = trace.node(x, trainable=True, description="the offset added to the input")

    def forward(self, inp: Any) -> Any:
        return self.x + inp


def shift_guide(inp: Any, out: Any, info: Any) -> tuple[float, str]:
    d = out - info
    if d == 0:
        return 1.0, "correct"
    return -abs(d), "too low" if d < 0 else "too high"


def shift_data(n: int, offset: float = 3.0, start: int = 0) -> list[tuple[int, float]]:
    return [(i, i + offset) for i in range(start, start + n)]


_VALUE = re.compile(r"param\[0\] = (-?[0-9.]+)")


def nudge(request: Request) -> str:
    """Move x by one toward the feedback's majority ("too low" -> +1, "too high" -> -1)."""
    text = request.messages[-1]["content"]
    x = float(_VALUE.search(text).group(1))
    low, high = text.count("too low"), text.count("too high")
    step = 1.0 if low > high else -1.0 if high > low else 0.0
    return json.dumps({"0": x + step})


def nudging_lm(**kw: Any) -> ScriptedLM:
    return ScriptedLM(nudge, **kw)


_OPTOPRIME_VAR = re.compile(r"^\(float\) (\w+)=(-?[0-9.]+)$", re.M)


def optoprime_nudge(request) -> str:
    """Reads #Variables and #Feedback as OptoPrime renders them and moves x one step."""
    text = request.messages[-1]["content"]
    name, value = _OPTOPRIME_VAR.search(text).groups()
    feedback = text.split("#Feedback", 1)[1]
    low, high = feedback.count("too low"), feedback.count("too high")
    step = 1.0 if low > high else -1.0 if high > low else 0.0
    return json.dumps({"reasoning": f"{low} low, {high} high", "suggestion": {name: float(value) + step}})
