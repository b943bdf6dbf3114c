"""FunSearch's best-shot prompting: k parents sorted by score, renamed ``f_v0 .. f_v{k-1}``, and
the model asked for ``f_v{k}`` -- "write the next version" (Romera-Paredes et al., Nature 2023).

Showing versions in increasing order of score invites the model to continue the trend rather
than copy one parent. A reply that is only a body (the model continued the header) is accepted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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
    header,
    pick_param,
    reply_tokens,
    shown_code,
)
from opto.optimizers.evolution.operators.llm_reply import defined_functions, fenced_blocks, rename_function
from opto.optimizers.evolution.space import ParamSpec


def versioned(code: str, function: str, index: int) -> str:
    return rename_function(code.strip("\n"), function, f"{function}_v{index}")


def funsearch_prompt(parents: Sequence[Parent], spec: ParamSpec, ctx: OperatorContext) -> tuple[str, str]:
    """The prompt and the function name it asks for; parents are shown worst to best."""
    function = spec.function_name or "f"
    ranked = sorted(parents, key=lambda p: float("-inf") if p.score is None else p.score)
    versions = "\n".join(
        prompts.FUNSEARCH_VERSION.format(
            score=prompts.format_score(p.score),
            code=versioned(shown_code(ctx, str(p.values.get(spec.name, ""))), function, i)
        )
        for i, p in enumerate(ranked)
    )
    next_name = f"{function}_v{len(ranked)}"
    body = prompts.FUNSEARCH.format(
        function=function, versions=versions, next_name=next_name, signature=spec.signature or "(...)"
    )
    return "\n".join(part for part in (header(ctx), body) if part), next_name


def complete_body(text: str, next_name: str, signature: str) -> str:
    """When the reply has no ``def`` at all, read it as the body of ``next_name`` (FunSearch's
    continuation style) and put the header back."""
    if re.search(r"^\s*def\s+\w+\s*\(", text, re.M):
        return text
    blocks = fenced_blocks(text)
    body = blocks[0] if blocks else text
    lines = [ln for ln in body.splitlines() if ln.strip()]
    if not lines:
        return text
    indented = "\n".join(ln if ln.startswith((" ", "\t")) else "    " + ln for ln in lines)
    params = signature.replace("=...", "=None") if signature else "(*args)"
    return f"```python\ndef {next_name}{params}:\n{indented}\n```"


@dataclass
class FunSearchOperator:
    """Best-shot prompting over a code parameter with ``k`` parents (FunSearch uses 2)."""

    k: int = 2
    temperature: float = 0.8
    max_tokens: int = 1024
    name: str = "funsearch"

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"k={self.k} must be at least 1")
        self.arity = self.k
        self.needs_lm = True

    def propose(self, parents: Sequence[Parent], ctx: OperatorContext) -> Proposal | ProposalFailure:
        short = check_parents(parents, 1, self.name)
        if short is not None:
            return short
        spec = pick_param(ctx, ("code",), self.name)
        if isinstance(spec, ProposalFailure):
            return spec
        chosen = list(parents[: self.k])
        prompt, next_name = funsearch_prompt(chosen, spec, ctx)
        longest = max((str(p.values.get(spec.name, "")) for p in chosen), key=len)
        reply = ask(ctx, self.name, prompt, temperature=self.temperature,
                    max_tokens=reply_tokens(ctx, longest, self.max_tokens), stop=CODE_STOP)
        if isinstance(reply, ProposalFailure):
            return reply
        text = complete_body(reply.text, next_name, spec.signature or "")
        if f"def {next_name}" not in text:
            # the model may have kept an old version's name; the newest def is the answer
            names = [n for n in defined_functions("\n".join(fenced_blocks(text)) or text) if n != next_name]
            if names:
                text = rename_function(text, names[-1], next_name) if len(set(names)) == 1 else text
        best = max(chosen, key=lambda p: float("-inf") if p.score is None else p.score)
        ordered = [best] + [p for p in chosen if p is not best]  # other values come from the best parent
        child = code_proposal(
            LMReply(text, None, reply.tokens, reply.call_id), spec, ordered, self.name, function=next_name
        )
        if isinstance(child, Proposal) and not child.thought:
            thought = f"the next version after {len(chosen)} versions ranked by score"
            child = Proposal(child.values, child.operator, child.parent_ids, thought, child.llm_tokens,
                             child.llm_call_id)
        return child


def _make(**options: Any) -> FunSearchOperator:
    return FunSearchOperator(**options)


register("funsearch", _make)
