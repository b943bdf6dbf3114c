"""EoH's five prompt strategies as operators: E1, E2 (explore from k parents), M1, M2, M3 (one parent).

Every child carries a one-sentence "thought" (the idea in words) next to its code; the thoughts of
the parents are shown in the next prompts, which is what lets ideas and code evolve together
(Liu et al., "Evolution of Heuristics", 2024).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from opto.optimizers.evolution.operators import prompts, register
from opto.optimizers.evolution.operators.base import OperatorContext, Parent, Proposal, ProposalFailure
from opto.optimizers.evolution.operators.llm_call import (
    CODE_STOP,
    ask,
    check_parents,
    code_proposal,
    compact,
    feedback_text,
    header,
    pick_param,
    reply_tokens,
    shown_code,
)
from opto.optimizers.evolution.operators.llm_reply import ThoughtAndCode
from opto.optimizers.evolution.space import ParamSpec

STRATEGIES = ("E1", "E2", "M1", "M2", "M3")


def render_parents(parents: Sequence[Parent], spec: ParamSpec, *, feedback: bool = True,
                   ctx: OperatorContext | None = None) -> str:
    """Each parent's score, thought, code and (optionally) evaluation feedback (shorter for
    compact requests, see llm_call.compact)."""
    out = []
    for i, p in enumerate(parents, 1):
        thought = str(p.meta.get("thought") or "(not stated)")
        out.append(
            prompts.PARENT.format(
                index=i,
                score=prompts.format_score(p.score),
                thought=thought,
                code=shown_code(ctx, str(p.values.get(spec.name, ""))) if ctx else str(
                    p.values.get(spec.name, "")).strip("\n"),
                feedback=(feedback_text(ctx, p.feedback) if ctx else prompts.render_feedback(p.feedback))
                if feedback else "",
            )
        )
    return "\n".join(out)


def eoh_prompt(strategy: str, parents: Sequence[Parent], spec: ParamSpec, ctx: OperatorContext) -> str:
    if compact(ctx):  # a small model: E1 is shown one parent, E2 the two it needs
        parents = parents[: 1 if strategy == "E1" else 2]
    body = prompts.EOH[strategy].format(k=len(parents), parents=render_parents(parents, spec, ctx=ctx))
    answer = prompts.ANSWER_FORMAT.format(function=spec.function_name or "f", signature=spec.signature or "(...)")
    return "\n".join(part for part in (header(ctx), body, answer) if part)


@dataclass
class EoHOperator:
    """One EoH strategy over a code parameter.

    k: parents shown to E1/E2 (M1-M3 use one). structured: ask for JSON ``{"thought", "code"}``
    through the LM layer's schema support instead of braces + a code block.
    """

    strategy: str = "M1"
    k: int = 2
    structured: bool = False
    temperature: float = 0.8
    max_tokens: int = 1024

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown EoH strategy {self.strategy!r}; use one of {list(STRATEGIES)}")
        if self.k < 1:
            raise ValueError(f"k={self.k} must be at least 1")
        self.name = self.strategy
        self.arity = self.k if self.strategy in ("E1", "E2") else 1
        self.needs_lm = True

    def propose(self, parents: Sequence[Parent], ctx: OperatorContext) -> Proposal | ProposalFailure:
        short = check_parents(parents, self.arity, self.name)
        if short is not None:
            return short
        spec = pick_param(ctx, ("code",), self.name)
        if isinstance(spec, ProposalFailure):
            return spec
        chosen = list(parents[: self.arity])
        reply = ask(
            ctx,
            self.name,
            eoh_prompt(self.strategy, chosen, spec, ctx),
            schema=ThoughtAndCode if self.structured else None,
            temperature=self.temperature,
            max_tokens=reply_tokens(ctx, str(chosen[0].values.get(spec.name, "")), self.max_tokens),
            stop=CODE_STOP,
        )
        if isinstance(reply, ProposalFailure):
            return reply
        return code_proposal(reply, spec, chosen, self.name)


def _factory(strategy: str) -> Callable[..., EoHOperator]:
    def make(**options: Any) -> EoHOperator:
        return EoHOperator(strategy=strategy, **options)

    return make


for _s in STRATEGIES:
    register(_s, _factory(_s))
