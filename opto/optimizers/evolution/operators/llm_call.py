"""What every LLM operator shares: choosing the parameter to rewrite, one LM call, its failure.

A call never raises for an ordinary failure (transport error, empty reply, scripted queue empty):
it becomes a ProposalFailure with reason "llm_failure" and the tokens spent, so a weak or flaky
model costs one recorded rejection and the search goes on. ``BudgetExceeded`` does propagate:
the run asked to stop.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from opto.optimizers.evolution.operators import prompts
from opto.optimizers.evolution.operators.base import OperatorContext, Parent, Proposal, ProposalFailure
from opto.optimizers.evolution.operators.llm_reply import (
    Parsed,
    ThoughtAndCode,
    Unparseable,
    defined_functions,
    defines,
    parse_thought_and_code,
    rename_function,
)
from opto.optimizers.evolution.space import ParamSpec

SEED_RANGE = 2**31 - 1


@dataclass(frozen=True)
class LMReply:
    text: str
    parsed: Any
    tokens: int
    call_id: str | None


def pick_param(ctx: OperatorContext, kinds: Sequence[str], operator: str) -> ParamSpec | ProposalFailure:
    """A parameter of one of ``kinds`` (chosen with the context's rng when there are several)."""
    specs = ctx.space.of_kind(*kinds)
    if not specs:
        return ProposalFailure(operator, "no_target", f"the search space has no {'/'.join(kinds)} parameter")
    return specs[0] if len(specs) == 1 else ctx.rng.choice(list(specs))


def check_parents(parents: Sequence[Parent], arity: int, operator: str) -> ProposalFailure | None:
    if len(parents) < arity:
        return ProposalFailure(operator, "too_few_parents", f"needs {arity} parent(s), got {len(parents)}")
    return None


def header(ctx: OperatorContext) -> str:
    """Task description and the "do not repeat" block that open every prompt."""
    parts = [prompts.TASK.format(task=ctx.task.strip())] if ctx.task.strip() else []
    rejected = prompts.render_rejections(ctx.rejected)
    if rejected:
        parts.append(rejected)
    return "\n".join(parts)


def ask(
    ctx: OperatorContext,
    operator: str,
    prompt: str,
    *,
    system: str = prompts.SYSTEM,
    schema: type | None = None,
    temperature: float | None = 0.8,
    max_tokens: int | None = 1024,
) -> LMReply | ProposalFailure:
    """One LM call seeded from the context's rng (so a cached run replays identically)."""
    from opto.llm import BudgetExceeded, Request

    if ctx.lm is None:
        return ProposalFailure(operator, "no_lm", "this operator needs an LM and the search has none")
    request = Request.of(
        prompt,
        system=system,
        temperature=temperature,
        max_tokens=max_tokens,
        seed=ctx.rng.randrange(SEED_RANGE),
        schema=schema,
    )
    try:
        response = ctx.lm.complete(request)
    except BudgetExceeded:
        raise
    except Exception as exc:  # a broken backend must not end the search
        return ProposalFailure(operator, "llm_failure", f"{type(exc).__name__}: {exc}"[:500])
    usage = getattr(response, "usage", None)
    tokens = int(getattr(usage, "total_tokens", 0) or 0)
    failure = getattr(response, "failure", None)
    if failure is not None:
        reason = "unparseable" if getattr(failure, "kind", "") == "schema" else "llm_failure"
        return ProposalFailure(operator, reason, str(getattr(failure, "message", failure))[:500], tokens)
    return LMReply(response.text, getattr(response, "parsed", None), tokens, response.call_id or None)


def with_value(parent: Parent, name: str, value: Any) -> dict[str, Any]:
    """The parent's full values with one parameter replaced (a Proposal holds all values)."""
    values = dict(parent.values)
    values[name] = value
    return values


def code_proposal(
    reply: LMReply,
    spec: ParamSpec,
    parents: Sequence[Parent],
    operator: str,
    *,
    function: str | None = None,
) -> Proposal | ProposalFailure:
    """Turn a reply into a child that rewrites ``spec``'s code (others values from the first parent).

    ``function`` is the name the reply was asked to define (FunSearch asks for ``name_vK``); the
    child always defines ``spec.function_name``. A reply defining exactly one other function is
    renamed rather than rejected: small models often rename, and the gates still check the signature.
    """
    target = spec.function_name or "f"
    asked = function or target
    if isinstance(reply.parsed, ThoughtAndCode):
        parsed: Parsed | Unparseable = parse_thought_and_code(
            json.dumps({"thought": reply.parsed.thought, "code": reply.parsed.code}), asked
        )
    else:
        parsed = parse_thought_and_code(reply.text, asked)
    if isinstance(parsed, Unparseable):
        return ProposalFailure(operator, "unparseable", parsed.detail, reply.tokens)
    code = parsed.code
    if asked != target and defines(code, asked):
        code = rename_function(code, asked, target)
    if not defines(code, target):
        names = defined_functions(code)
        if len(names) != 1:
            return ProposalFailure(
                operator, "unparseable", f"the reply's code does not define `{target}` (it defines {names})",
                reply.tokens,
            )
        code = rename_function(code, names[0], target)
    return Proposal(
        values=with_value(parents[0], spec.name, code),
        operator=operator,
        parent_ids=tuple(p.id for p in parents),
        thought=parsed.thought,
        llm_tokens=reply.tokens,
        llm_call_id=reply.call_id,
    )
