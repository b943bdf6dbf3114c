"""SEARCH/REPLACE edits for long code: the model writes only what changes, the operator applies it.

A block is applied exactly when its SEARCH text occurs in the parent; otherwise line by line with
whitespace and indentation ignored (models re-indent and re-space what they copy), re-indenting
the replacement to where it matched. A block that matches nowhere is an "apply_failed" proposal
failure; the operator counts attempts and failures so the apply-failure rate can be reported.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from opto.optimizers.evolution.operators import prompts, register
from opto.optimizers.evolution.operators.base import OperatorContext, Parent, Proposal, ProposalFailure
from opto.optimizers.evolution.operators.llm_call import ask, check_parents, header, pick_param, with_value
from opto.optimizers.evolution.operators.llm_reply import extract_thought

_BLOCK = re.compile(
    r"<{5,}[ \t]*SEARCH[ \t]*\r?\n(.*?)\r?\n?={5,}[ \t]*\r?\n(.*?)\r?\n?>{5,}[ \t]*REPLACE", re.S
)


@dataclass(frozen=True)
class Edit:
    search: str
    replace: str


def parse_edits(text: str) -> list[Edit]:
    """All SEARCH/REPLACE blocks of a reply, in order."""
    return [Edit(m.group(1), m.group(2)) for m in _BLOCK.finditer(text)]


def _norm(line: str) -> str:
    return " ".join(line.split())


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _reindent(lines: list[str], delta: int) -> list[str]:
    if delta == 0:
        return lines
    if delta > 0:
        return [(" " * delta + ln) if ln.strip() else ln for ln in lines]
    return [ln[min(-delta, _indent(ln)):] for ln in lines]


def apply_edit(code: str, edit: Edit) -> str | None:
    """``code`` with ``edit`` applied (exact match first, then whitespace-insensitive); None if
    the SEARCH text matches nowhere."""
    if not edit.search.strip():
        return None
    if edit.search in code:
        return code.replace(edit.search, edit.replace, 1)
    lines = code.splitlines()
    kept = [i for i, ln in enumerate(lines) if ln.strip()]
    target = [_norm(ln) for ln in edit.search.splitlines() if ln.strip()]
    normed = [_norm(lines[i]) for i in kept]
    n = len(target)
    for start in range(len(kept) - n + 1):
        if normed[start : start + n] == target:
            first, last = kept[start], kept[start + n - 1]
            search_first = next(ln for ln in edit.search.splitlines() if ln.strip())
            new = _reindent(edit.replace.splitlines(), _indent(lines[first]) - _indent(search_first))
            out = lines[:first] + new + lines[last + 1 :]
            return "\n".join(out) + ("\n" if code.endswith("\n") else "")
    return None


def apply_edits(code: str, edits: Sequence[Edit]) -> tuple[str, list[int]]:
    """Apply edits in order; returns the new code and the indices of the edits that failed."""
    failed = []
    for i, edit in enumerate(edits):
        applied = apply_edit(code, edit)
        if applied is None:
            failed.append(i)
        else:
            code = applied
    return code, failed


@dataclass
class DiffOperator:
    """Ask for SEARCH/REPLACE edits of one parent's code parameter and apply them tolerantly.

    Counts ``attempts`` (replies with edit blocks) and ``apply_failures`` (replies where a block
    matched nowhere): ``apply_failure_rate`` is what the report shows.
    """

    temperature: float = 0.7
    max_tokens: int = 1024
    name: str = "diff"
    attempts: int = field(default=0, init=False)
    apply_failures: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.arity = 1
        self.needs_lm = True

    @property
    def apply_failure_rate(self) -> float:
        return self.apply_failures / self.attempts if self.attempts else 0.0

    def propose(self, parents: Sequence[Parent], ctx: OperatorContext) -> Proposal | ProposalFailure:
        short = check_parents(parents, 1, self.name)
        if short is not None:
            return short
        spec = pick_param(ctx, ("code",), self.name)
        if isinstance(spec, ProposalFailure):
            return spec
        parent = parents[0]
        code = str(parent.values.get(spec.name, ""))
        body = prompts.DIFF.format(
            score=prompts.format_score(parent.score), code=code.strip("\n"),
            feedback=prompts.render_feedback(parent.feedback),
        )
        prompt = "\n".join(part for part in (header(ctx), body) if part)
        reply = ask(ctx, self.name, prompt, temperature=self.temperature, max_tokens=self.max_tokens)
        if isinstance(reply, ProposalFailure):
            return reply
        edits = parse_edits(reply.text)
        if not edits:
            return ProposalFailure(self.name, "unparseable", "the reply has no SEARCH/REPLACE block", reply.tokens)
        self.attempts += 1
        new_code, failed = apply_edits(code, edits)
        if failed:
            self.apply_failures += 1
            first = edits[failed[0]].search.strip().splitlines()[0] if edits[failed[0]].search.strip() else ""
            return ProposalFailure(
                self.name, "apply_failed",
                f"{len(failed)} of {len(edits)} SEARCH block(s) matched nowhere in the code, e.g. {first[:120]!r}",
                reply.tokens,
            )
        if new_code == code:
            return ProposalFailure(self.name, "no_change", "the edits leave the code unchanged", reply.tokens)
        return Proposal(
            values=with_value(parent, spec.name, new_code),
            operator=self.name,
            parent_ids=(parent.id,),
            thought=extract_thought(_BLOCK.sub(" ", reply.text)),
            llm_tokens=reply.tokens,
            llm_call_id=reply.call_id,
        )


def _make(**options: Any) -> DiffOperator:
    return DiffOperator(**options)


register("diff", _make)
