"""OPRO (optimization by prompting): the model sees past values with their scores, not the graph.

    opt = OPRO([x], lm=lm)
    opt.backward(output, "too small", score=0.2)   # or opt.observe("too small", score=0.2)
    opt.step()

Each step appends (current values, feedback, score) to the history; the prompt lists the history
(sorted worst to best when scores are given, as in the OPRO paper) and asks for values that beat
all of it. Replies are read and checked exactly like OptoPrime's.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Collection, Mapping
from typing import Any

from opto.optimizers import prompt as prompts
from opto.optimizers.memory import jsonable
from opto.optimizers.optoprime import OptoPrime
from opto.optimizers.problem import entry as problem_entry
from opto.optimizers.problem import render_entry
from opto.trace.nodes import Node, ParameterNode

_INSTRUCTION = """\
You propose new values for the variables of a program. Below are the values tried so far and the \
feedback (and score, higher is better) each received. Propose new values that do better than all \
of them; do not repeat a value already tried."""


class OPRO(OptoPrime):
    """History-based LLM optimizer; accepts OptoPrime's arguments plus ``max_history``.

    Unlike trace-opt's OPRO (which reads the feedback out of the graph), no graph is needed:
    ``backward`` only records the feedback, so it also works on values that were never traced.
    """

    def __init__(self, parameters: Any, lm: Any = None, *args: Any, max_history: int = 20,
                 objective: str | None = None, **kwargs: Any) -> None:
        super().__init__(parameters, lm, *args, objective=objective or _INSTRUCTION, **kwargs)
        self.max_history = max_history
        self.history: list[dict[str, Any]] = []
        self._feedback: Any = None
        self._score: float | None = None

    # -- feedback without a graph ---------------------------------------------------------------
    def observe(self, feedback: Any, score: float | None = None) -> None:
        """The result of running the program with the current values (call before ``step``)."""
        if isinstance(feedback, (int, float)) and not isinstance(feedback, bool) and score is None:
            score = float(feedback)
        self._feedback = feedback
        self._score = None if score is None else float(score)

    def backward(self, node: Node, feedback: Any = "", *args: Any, score: float | None = None,
                 **kwargs: Any) -> None:
        """Record ``feedback`` (and ``score``) for the current values; nothing is propagated."""
        self.observe(feedback, score)

    def zero_feedback(self) -> None:
        super().zero_feedback()
        self._feedback, self._score = None, None

    # -- one step -------------------------------------------------------------------------------
    def propose(self, *args: Any, verbose: Any = False, mask: Collection[str] | None = None,
                **kwargs: Any) -> dict[ParameterNode, Any]:
        self.steps += 1
        if self._feedback is None:
            warnings.warn("OPRO.step(): no feedback recorded; call optimizer.backward(output, feedback, score=...) "
                          "or optimizer.observe(feedback, score) first. Nothing was changed.", stacklevel=3)
            self._record({"step": self.steps, "skipped": "no feedback"}, {}, [])
            return {}
        trainable = [p for p in self.parameters if p.trainable]
        self.history.append({"step": self.steps, "variables": {p.py_name: jsonable(p._data) for p in trainable},
                             "feedback": jsonable(self._feedback), "score": self._score})
        self.history = self.history[-self.max_history:] if self.max_history > 0 else []
        system = self.format.fill(self.format.output_format)
        user = self._user_prompt(trainable)
        prompt = prompts.Prompt(system=system, user=user, tokens=self.count_tokens(system + user), trimmed={},
                                variables=tuple(p.py_name for p in trainable))
        if verbose not in (False, "output"):
            print("Prompt\n", system + user)
        entry: dict[str, Any] = {"step": self.steps, "system_prompt": system, "prompt": user, "user_prompt": user,
                                 "prompt_tokens_estimate": prompt.tokens, "score": self._score}
        reply = self._ask(self.request(prompt), entry)
        if verbose:
            print("LLM response:\n", entry.get("reply", ""))
        values, rejected = self._check(reply)
        self._feedback, self._score = None, None
        return self._record(entry, values, rejected, reply)

    def _user_prompt(self, trainable: list[ParameterNode]) -> str:
        variables = "\n".join(render_entry(problem_entry(p, None, full=True), self.format, trainable=True)
                              for p in trainable)
        constraints = "\n".join(f"{p.py_name}: {p._constraint}" for p in trainable if p._constraint)
        history = self.history
        if all(h["score"] is not None for h in history):
            history = sorted(history, key=lambda h: h["score"])
        lines = [json.dumps({k: h[k] for k in ("variables", "score", "feedback") if h[k] is not None},
                            ensure_ascii=False) for h in history]
        parts = [self.objective, f"{self.format.title('variables')}\n{variables}"]
        if constraints:
            parts.append(f"{self.format.title('constraints')}\n{constraints}")
        parts.append("Values tried so far" + (", worst first" if history is not self.history else "") + ":\n"
                     + "\n".join(lines))
        if len(self.rejections):
            parts.append(f"{self.format.rejected_intro}\n\n{prompts.rejected_text(self.rejections.state())}")
        parts.append(self.format.final)
        return "\n\n".join(parts) + "\n"

    def _check(self, reply: Any) -> tuple[dict[ParameterNode, Any], list[dict[str, Any]]]:
        """As OptoPrime's, and a reply that only repeats the current (just tried) values is refused with
        that reason, so the next prompt says so (a small model otherwise copies the history)."""
        values, rejected = super()._check(reply)
        if values or rejected or reply.error is not None or not reply.suggestion or not self.history:
            return values, rejected
        last = self.history[-1]
        score = "" if last["score"] is None else f" (score {last['score']:.4g})"
        for name, raw in reply.suggestion.items():
            rejected.append({"param": name, "value": raw, "reason": (
                f"this is the current value, already tried at step {last['step']}{score}; propose a different one")})
        return values, rejected

    # -- checkpoints ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["history"] = list(self.history)
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        super().load_state_dict(state)
        self.history = list(state.get("history", []))
