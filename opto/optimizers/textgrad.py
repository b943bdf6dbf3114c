"""TextGrad: textual gradients sent back through the graph node by node, then one update per step.

The user's feedback is the gradient of the outputs. Walking the calls from the outputs back (one
pass, reverse topological order), one model call per call node turns the feedback on its output
into feedback on each of its inputs that leads to a parameter. Feedback reaching a node from several
children is aggregated there; each parameter's aggregated feedback then goes into one update
request, whose reply is read and checked exactly like OptoPrime's.

``max_gradient_calls`` bounds the cost on deep graphs: past it, feedback is passed to the inputs
unchanged instead of being rewritten by the model.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from opto.optimizers import prompt as prompts
from opto.optimizers.optoprime import OptoPrime
from opto.optimizers.problem import call_line, entry, fun_name, render_entry, shorten
from opto.trace.nodes import MessageNode, Node, ParameterNode

_GRADIENT_SYSTEM = """\
You give feedback on the inputs of one step of a program. You see the call, its inputs, its output \
and the feedback on that output. For each input listed, say how that input should change so that \
the output would receive better feedback. Be specific and brief. Reply with one JSON object that \
maps each input name to its feedback, e.g. {"x0": "should be larger, because ..."}."""

_UPDATE_INSTRUCTION = """\
Improve the variables below using the feedback each received. Keep what the feedback does not \
criticise; change what it does."""


class TextGrad(OptoPrime):
    """Per-node textual gradients, aggregated at each parameter (OptoPrime's arguments accepted).

    max_gradient_calls: model calls allowed for gradients per step (None: one per call node).
    """

    def __init__(self, parameters: Any, lm: Any = None, *args: Any, max_gradient_calls: int | None = 100,
                 objective: str | None = None, **kwargs: Any) -> None:
        super().__init__(parameters, lm, *args, objective=objective or _UPDATE_INSTRUCTION, **kwargs)
        self.max_gradient_calls = max_gradient_calls

    def propose(self, *args: Any, verbose: Any = False, mask: Collection[str] | None = None,
                **kwargs: Any) -> dict[ParameterNode, Any]:
        self.steps += 1
        trainable = [p for p in self.parameters if p.trainable]
        nodes, feedback = self._feedback_nodes(trainable)
        if not nodes:
            import warnings

            warnings.warn("TextGrad.step(): no trainable parameter has feedback; call optimizer.backward(output, "
                          "feedback) first. Nothing was changed.", stacklevel=3)
            self._record({"step": self.steps, "skipped": "no feedback"}, {}, [])
            return {}
        gradients, calls, usage = self.gradients(nodes, feedback, {id(p) for p in trainable})
        with_grad = [p for p in trainable if gradients.get(id(p))]
        system = self.format.fill(self.format.output_format)
        user = self._update_prompt(with_grad, gradients)
        prompt = prompts.Prompt(system=system, user=user, tokens=self.count_tokens(system + user), trimmed={})
        if verbose not in (False, "output"):
            print("Prompt\n", system + user)
        entry_: dict[str, Any] = {
            "step": self.steps, "system_prompt": system, "prompt": user, "user_prompt": user,
            "prompt_tokens_estimate": prompt.tokens, "gradient_calls": calls,
            "gradients": {p.py_name: gradients.get(id(p), []) for p in trainable}, "gradient_usage": usage,
        }
        reply = self._ask(self.request(prompt), entry_)
        if verbose:
            print("LLM response:\n", entry_.get("reply", ""))
        values, rejected = self._check(reply)
        return self._record(entry_, values, rejected, reply)

    def gradients(self, nodes: list[tuple[int, Node]], feedback: Any,
                  trainable: set[int]) -> tuple[dict[int, list[str]], int, dict[str, int]]:
        """id(node) -> feedback texts received, from one reverse pass over the call nodes."""
        seen: set[int] = set()
        reaches: set[int] = set()  # nodes with a trainable parameter among their ancestors (inclusive)
        calls: list[MessageNode] = []
        read: set[int] = set()
        for _, n in nodes:
            seen.add(id(n))
            if id(n) in trainable:
                reaches.add(id(n))
            parents = n._parents
            if parents and isinstance(n, MessageNode) and all(id(p) in seen for p in parents):
                calls.append(n)
                read.update(id(p) for p in parents)
                if any(id(p) in reaches for p in parents):
                    reaches.add(id(n))
        grads: dict[int, list[str]] = {id(c): [str(feedback)] for c in calls if id(c) not in read}
        made = 0
        usage = {"prompt_tokens": 0, "completion_tokens": 0}
        for call in reversed(calls):
            received = grads.get(id(call))
            if not received or id(call) not in reaches:
                continue
            targets = [p for p in call._parents if id(p) in reaches]
            if not targets:
                continue
            if self.max_gradient_calls is not None and made >= self.max_gradient_calls:
                passed = {p.py_name: _aggregate(received) for p in targets}
            else:
                passed = self._gradient_call(call, targets, _aggregate(received), usage)
                made += 1
            for p in targets:
                grads.setdefault(id(p), []).append(passed.get(p.py_name) or _aggregate(received))
        return grads, made, usage

    def _gradient_call(self, call: MessageNode, targets: list[Node], received: str,
                       usage: dict[str, int]) -> dict[str, str]:
        from opto.llm import BudgetExceeded, Request
        from opto.llm import extract_json as extract

        inputs = "\n".join(render_entry(entry(p, self.value_limit), self.format, trainable=False)
                           for p in call._parents)
        user = (f"Call:\n{call_line(call)}\n\nWhat {fun_name(call)} does:\n{call.description}\n\n"
                f"Inputs:\n{inputs}\n\nOutput:\n{render_entry(entry(call, self.value_limit), self.format, trainable=False)}"
                f"\n\nFeedback on the output:\n{received}\n\n"
                f"Give feedback for these inputs: {', '.join(p.py_name for p in targets)}")
        request = Request(messages=({"role": "system", "content": _GRADIENT_SYSTEM}, {"role": "user", "content": user}),
                          max_tokens=self.max_tokens, temperature=self.temperature, seed=self.seed, json_mode=True)
        try:
            response = self.lm.complete(request)
        except BudgetExceeded:
            raise
        except Exception:
            return {}
        usage["prompt_tokens"] += response.usage.prompt_tokens
        usage["completion_tokens"] += response.usage.completion_tokens
        text = response.text or ""
        try:
            obj = extract(text, want="object")
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in obj.items()}
        return {p.py_name: text.strip() for p in targets} if text.strip() else {}

    def _update_prompt(self, params: list[ParameterNode], gradients: dict[int, list[str]]) -> str:
        blocks = []
        for p in params:
            shown = render_entry(entry(p, None, full=True), self.format, trainable=True)
            constraint = f"\nConstraint: {p._constraint}" if p._constraint else ""
            blocks.append(f"{shown}{constraint}\nFeedback on {p.py_name}:\n{_aggregate(gradients[id(p)])}")
        parts = [self.objective, f"{self.format.title('variables')}\n\n" + "\n\n".join(blocks)]
        if len(self.rejections):
            parts.append(f"{self.format.rejected_intro}\n\n{prompts.rejected_text(self.rejections.state())}")
        parts.append(self.format.final)
        return "\n\n".join(parts) + "\n"


def _aggregate(texts: list[str], limit: int = 4000) -> str:
    """Feedback from several children as one text (each once, in order received)."""
    unique = list(dict.fromkeys(t.strip() for t in texts if t and t.strip()))
    if len(unique) == 1:
        return shorten(unique[0], limit)
    return shorten("\n".join(f"- {t}" for t in unique), limit)
