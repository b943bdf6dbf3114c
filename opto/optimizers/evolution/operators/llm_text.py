"""Crossover of prompt texts (Instruction Fusion): two parents' instructions fused into one.

Where numeric crossover mixes coordinates, text crossover needs a model: it is asked to keep what
makes each instruction work and drop the rest (Instruction Fusion, Mu et al. 2024). The other
parameters of the child come from the better parent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from opto.optimizers.evolution.operators import prompts, register
from opto.optimizers.evolution.operators.base import OperatorContext, Parent, Proposal, ProposalFailure
from opto.optimizers.evolution.operators.llm_call import ask, check_parents, header, pick_param, with_value
from opto.optimizers.evolution.operators.llm_reply import extract_thought, fenced_blocks

_TAGGED = re.compile(r"<instruction>\s*(.*?)\s*(?:</instruction>|\Z)", re.S | re.I)
_BRACED_LEAD = re.compile(r"^\s*\{[^{}]*\}\s*", re.S)


def extract_instruction(text: str, given: Sequence[str] = ()) -> str | None:
    """The new instruction: the last tagged one that is not a copy of a given one, else a fenced
    block, else a JSON ``instruction`` field, else the prose after the braced idea."""
    tagged = [t.strip() for t in _TAGGED.findall(text) if t.strip()]
    fresh = [t for t in tagged if t not in given]
    if fresh:
        return fresh[-1]
    if tagged:
        return tagged[-1]
    blocks = [b.strip() for b in fenced_blocks(text) if b.strip()]
    if blocks:
        return blocks[-1]
    stripped = text.strip()
    if stripped.startswith("{") and '"instruction"' in stripped:
        from opto.llm.structured import extract_json

        try:
            obj = extract_json(stripped)
        except (ValueError, TypeError):
            obj = None
        if isinstance(obj, dict) and isinstance(obj.get("instruction"), str) and obj["instruction"].strip():
            return str(obj["instruction"]).strip()
    rest = _BRACED_LEAD.sub("", stripped, count=1).strip()
    return rest or None


@dataclass
class FusionOperator:
    """Instruction Fusion over a text parameter of two parents."""

    temperature: float = 0.8
    max_tokens: int = 512
    name: str = "fusion"

    def __post_init__(self) -> None:
        self.arity = 2
        self.needs_lm = True

    def propose(self, parents: Sequence[Parent], ctx: OperatorContext) -> Proposal | ProposalFailure:
        short = check_parents(parents, 2, self.name)
        if short is not None:
            return short
        spec = pick_param(ctx, ("text",), self.name)
        if isinstance(spec, ProposalFailure):
            return spec
        a, b = parents[0], parents[1]
        text_a, text_b = str(a.values.get(spec.name, "")), str(b.values.get(spec.name, ""))
        body = prompts.FUSION.format(
            score_a=prompts.format_score(a.score), text_a=text_a.strip(),
            score_b=prompts.format_score(b.score), text_b=text_b.strip(),
        )
        prompt = "\n".join(part for part in (header(ctx), body) if part)
        reply = ask(ctx, self.name, prompt, temperature=self.temperature, max_tokens=self.max_tokens)
        if isinstance(reply, ProposalFailure):
            return reply
        fused = extract_instruction(reply.text, (text_a.strip(), text_b.strip()))
        if not fused:
            return ProposalFailure(self.name, "unparseable", "the reply contains no instruction", reply.tokens)
        if fused in (text_a.strip(), text_b.strip()):
            return ProposalFailure(self.name, "no_change", "the fused instruction copies a parent", reply.tokens)
        better = a if (a.score if a.score is not None else float("-inf")) >= (
            b.score if b.score is not None else float("-inf")) else b
        return Proposal(
            values=with_value(better, spec.name, fused),
            operator=self.name,
            parent_ids=(a.id, b.id),
            thought=extract_thought(_TAGGED.sub(" ", reply.text)),
            llm_tokens=reply.tokens,
            llm_call_id=reply.call_id,
        )


def _make(**options: Any) -> FusionOperator:
    return FusionOperator(**options)


register("fusion", _make)
