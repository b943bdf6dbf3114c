"""Trace-guided mutation: an OptoPrime step on a candidate's own execution trace and feedback.

Where the other LLM operators see a parent's code and score, this one sees what the code *did* on
an instance it handled badly: the arguments of its calls, the values it returned and how the
instance ended, as a trace graph (``#Code``, ``#Inputs``, ``#Others``, ``#Outputs``, ``#Feedback``)
that OptoPrime reads exactly as it reads a traced program.

Where code runs (the safe option): candidate code never runs in the search process. The trace is
recorded inside the sandboxed worker while the objective evaluates the candidate -- the objective
wraps the loaded function in ``TraceRecorder`` and returns ``recorder.artifact(...)`` under the
artifact key ``"trace"``. The operator rebuilds the graph from those recorded values (plain JSON)
in the search process, where only OptoPrime and the LM run. A candidate without a recorded trace
gives a ProposalFailure("no_trace"). When OptoPrime is not importable, the operator renders the
same graph as text into its own prompt (``prompts.TRACE_GUIDED``).
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opto.optimizers.evolution.operators import prompts, register
from opto.optimizers.evolution.operators.base import OperatorContext, Parent, Proposal, ProposalFailure
from opto.optimizers.evolution.operators.llm_call import (
    CODE_STOP,
    LMReply,
    ask,
    check_parents,
    code_proposal,
    compact,
    header,
    pick_param,
    reply_tokens,
    with_value,
)
from opto.optimizers.evolution.space import ParamSpec

TRACE_KEY = "trace"


def short_repr(value: Any, limit: int = 240) -> str:
    """A bounded text form of a value; a large array is summarized (size, min, max, distinct values)."""
    try:
        if getattr(value, "size", 0) > 16 and hasattr(value, "dtype") and hasattr(value, "ravel"):
            return _array_summary(value, limit)
        text = repr(value)
    except Exception:  # a broken __repr__ in candidate data must not break recording
        text = f"<{type(value).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _array_summary(value: Any, limit: int) -> str:
    import numpy as np

    flat = np.asarray(value).ravel()
    try:
        distinct, counts = np.unique(flat, return_counts=True)
    except TypeError:
        return f"array(shape={value.shape}, dtype={value.dtype})"
    common = ", ".join(f"{v!r}x{c}" for v, c in sorted(zip(distinct.tolist(), counts.tolist()),
                                                          key=lambda vc: -vc[1])[:6])
    text = (f"array(shape={tuple(value.shape)}, min={flat.min().item()!r}, max={flat.max().item()!r}, "
            f"{len(distinct)} distinct; most common: {common})")
    return text if len(text) <= limit else text[: limit - 3] + "..."


class TraceRecorder:
    """Wraps a candidate function inside the worker and keeps its first ``head`` and last ``tail``
    calls (arguments by name, result or exception) -- bounded memory on long instances."""

    def __init__(self, fn: Callable[..., Any], *, head: int = 4, tail: int = 4, value_chars: int = 240) -> None:
        self.fn = fn
        self.name = getattr(fn, "__name__", "f")
        self.value_chars = value_chars
        self.head_limit = head
        self.head: list[dict[str, Any]] = []
        self.tail: deque[dict[str, Any]] = deque(maxlen=max(tail, 0))
        self.calls = 0
        try:
            self._signature: inspect.Signature | None = inspect.signature(fn)
        except (TypeError, ValueError):
            self._signature = None

    def _inputs(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, str]:
        if self._signature is not None:
            try:
                bound = self._signature.bind(*args, **kwargs)
                return {k: short_repr(v, self.value_chars) for k, v in bound.arguments.items()}
            except TypeError:
                pass
        named = {f"arg{i}": short_repr(v, self.value_chars) for i, v in enumerate(args)}
        named.update({k: short_repr(v, self.value_chars) for k, v in kwargs.items()})
        return named

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        record: dict[str, Any] = {"call": self.calls, "inputs": self._inputs(args, kwargs)}
        keep = self.head if len(self.head) < self.head_limit else self.tail
        try:
            result = self.fn(*args, **kwargs)
        except BaseException as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"[: self.value_chars]
            keep.append(record)
            raise
        record["output"] = short_repr(result, self.value_chars)
        keep.append(record)
        return result

    def artifact(self, outcome: str, instance: str = "") -> dict[str, Any]:
        """What the objective returns under artifacts["trace"]: JSON-serializable."""
        return {
            "function": self.name,
            "instance": instance,
            "calls": [*self.head, *self.tail],
            "total_calls": self.calls,
            "outcome": outcome,
        }


def trace_of(parent: Parent) -> Mapping[str, Any] | None:
    """The recorded trace of a parent, from its meta (``trace`` or ``artifacts.trace``)."""
    trace = parent.meta.get(TRACE_KEY)
    if trace is None and isinstance(parent.meta.get("artifacts"), Mapping):
        trace = parent.meta["artifacts"].get(TRACE_KEY)
    if isinstance(trace, Mapping) and isinstance(trace.get("calls"), Sequence) and trace.get("calls"):
        return trace
    return None


def render_trace(trace: Mapping[str, Any]) -> str:
    """The recorded calls as text, for the prompt used when OptoPrime is not available."""
    name = trace.get("function", "f")
    lines = [f"instance: {trace.get('instance') or '(unnamed)'}; {trace.get('total_calls', '?')} calls in all"]
    for call in trace["calls"]:
        args = ", ".join(f"{k}={v}" for k, v in dict(call.get("inputs", {})).items())
        result = call.get("output", f"raised {call.get('error')}")
        lines.append(f"call {call.get('call', '?')}: {name}({args}) -> {result}")
    lines.append(f"outcome: {trace.get('outcome', '')}")
    return "\n".join(lines)


def build_graph(code: str, spec: ParamSpec, trace: Mapping[str, Any]) -> tuple[Any, Any]:
    """(code ParameterNode, outcome node): the recorded calls as a trace graph OptoPrime reads."""
    from opto.trace.nodes import MessageNode, ParameterNode, node

    function = spec.function_name or str(trace.get("function", "f"))
    param: ParameterNode[str] = ParameterNode(code, name="__code", trainable=True,
                          description=f"[ParameterNode] The code of `{function}{spec.signature or ''}`.")
    calls: list[MessageNode[str]] = []
    for call in trace["calls"]:
        inputs: dict[str, Any] = {"__code": param}
        for arg, value in dict(call.get("inputs", {})).items():
            inputs[str(arg)] = node(str(value), name=str(arg))
        result = call.get("output", f"raised {call.get('error')}")
        calls.append(MessageNode(str(result), inputs=inputs, name=function, info={"fun_name": function},
                                 description=f"[{function}] the candidate function; call {call.get('call')}."))
    outcome: MessageNode[str] = MessageNode(str(trace.get("outcome", "")), inputs={f"call_{i}": c for i, c in enumerate(calls)},
                          name="instance_outcome", info={"fun_name": "instance_outcome"},
                          description=f"[instance_outcome] how instance {trace.get('instance', '')} ended, "
                                      f"after {trace.get('total_calls', len(calls))} calls of `{function}`.")
    return param, outcome


@dataclass
class TraceGuidedOperator:
    """One OptoPrime step per proposal on the parent's recorded trace and evaluation feedback.

    use_optoprime: False forces the operator's own prompt (also used when OptoPrime is missing).
    """

    use_optoprime: bool = True
    temperature: float = 0.7
    max_tokens: int = 2048
    name: str = "trace_guided"

    def __post_init__(self) -> None:
        self.arity = 1
        self.needs_lm = True
        self.thread_safe = False  # builds a trace graph and runs OptoPrime: kept on the search's thread

    def propose(self, parents: Sequence[Parent], ctx: OperatorContext) -> Proposal | ProposalFailure:
        short = check_parents(parents, 1, self.name)
        if short is not None:
            return short
        spec = pick_param(ctx, ("code",), self.name)
        if isinstance(spec, ProposalFailure):
            return spec
        parent = parents[0]
        trace = trace_of(parent)
        if trace is None:
            return ProposalFailure(self.name, "no_trace", "the parent's evaluation recorded no trace artifact")
        code = str(parent.values.get(spec.name, ""))
        feedback = parent.feedback.strip() or f"score {prompts.format_score(parent.score)}; make it higher"
        # a small local model gets the operator's own short prompt: OptoPrime's JSON reply, constrained by
        # a grammar llama.cpp builds from the schema, took minutes per call with the embedded model
        if self.use_optoprime and not compact(ctx):
            try:
                from opto.optimizers.optoprime import OptoPrime
            except ImportError:
                pass
            else:
                with_rejections = "\n".join(x for x in (feedback, prompts.render_rejections(ctx.rejected)) if x)
                return self._optoprime(OptoPrime, parent, spec, code, trace, with_rejections, ctx)
        return self._own_prompt(parent, spec, code, trace, feedback, ctx)

    def _optoprime(self, cls: Any, parent: Parent, spec: ParamSpec, code: str, trace: Mapping[str, Any],
                   feedback: str, ctx: OperatorContext) -> Proposal | ProposalFailure:
        from opto.llm import BudgetExceeded

        if ctx.lm is None:
            return ProposalFailure(self.name, "no_lm", "this operator needs an LM and the search has none")
        param, outcome = build_graph(code, spec, trace)
        objective = f"Improve `{spec.function_name}` so the task scores higher. {ctx.task}".strip()
        opt = cls([param], lm=ctx.lm, objective=objective, max_tokens=self.max_tokens,
                  temperature=self.temperature, seed=ctx.rng.randrange(2**31 - 1))
        try:
            opt.zero_feedback()
            opt.backward(outcome, feedback)
            values = opt.propose()
        except BudgetExceeded:
            raise
        except Exception as exc:  # OptoPrime or the graph failed: one recorded failure, not a crash
            return ProposalFailure(self.name, "llm_failure", f"{type(exc).__name__}: {exc}"[:500])
        entry = opt.log[-1] if opt.log else {}
        usage = entry.get("usage") or {}
        tokens = int(usage.get("prompt_tokens", 0) or 0) + int(usage.get("completion_tokens", 0) or 0)
        if param not in values:
            reasons = "; ".join(str(r.get("reason")) for r in entry.get("rejected", [])) or "no change suggested"
            reason = "llm_failure" if entry.get("model_error") else "unparseable"
            return ProposalFailure(self.name, reason, reasons[:500], tokens)
        new_code = str(values[param])
        child = code_proposal(LMReply(f"```python\n{new_code}\n```", None, tokens, entry.get("call_id") or None),
                              spec, [parent], self.name)
        if isinstance(child, Proposal):
            thought = " ".join(str(entry.get("reasoning") or "").split())[:300] or "fix seen in the trace"
            child = Proposal(with_value(parent, spec.name, child.values[spec.name]), self.name, (parent.id,),
                             thought, tokens, child.llm_call_id)
        return child

    def _own_prompt(self, parent: Parent, spec: ParamSpec, code: str, trace: Mapping[str, Any], feedback: str,
                    ctx: OperatorContext) -> Proposal | ProposalFailure:
        body = prompts.TRACE_GUIDED.format(function=spec.function_name, code=code.strip("\n"),
                                           trace=render_trace(trace), feedback=feedback)
        answer = prompts.ANSWER_FORMAT.format(function=spec.function_name or "f", signature=spec.signature or "(...)")
        prompt = "\n".join(part for part in (header(ctx), body, answer) if part)
        reply = ask(ctx, self.name, prompt, temperature=self.temperature,
                    max_tokens=reply_tokens(ctx, code, self.max_tokens), stop=CODE_STOP)
        if isinstance(reply, ProposalFailure):
            return reply
        return code_proposal(reply, spec, [parent], self.name)


def _make(**options: Any) -> TraceGuidedOperator:
    return TraceGuidedOperator(**options)


register("trace_guided", _make)
