"""What every LLM operator shares: choosing the parameter to rewrite, one LM call, its failure.

A call never raises for an ordinary failure (transport error, empty reply, scripted queue empty):
it becomes a ProposalFailure with reason "llm_failure" and the tokens spent, so a weak or flaky
model costs one recorded rejection and the search goes on. ``BudgetExceeded`` does propagate:
the run asked to stop.
"""

from __future__ import annotations

import json
import sys
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

# A code reply ends with its block: stop there instead of paying for the prose small models add after it.
CODE_STOP = ("\n```\n",)
# Compact requests for a small local model (see ``compact``): a reply cap and shorter prompts.
COMPACT_MAX_TOKENS = 384
COMPACT_REJECTIONS = 2
COMPACT_FEEDBACK_CHARS = 240
COMPACT_CODE_CHARS = 1500


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


def compact(ctx: OperatorContext) -> bool:
    """Whether to send compact requests: short prompts and a reply cap sized to the function.

    A model running in this process on the CPU (LocalLM, e.g. the embedded SmolLM2-135M) pays for
    every prompt token and every generated token in seconds, and a small model is not helped by long
    context. An LM can decide itself with a ``compact_prompts`` attribute (True / False).
    """
    lm = ctx.lm
    flag = getattr(lm, "compact_prompts", None)
    if flag is not None:
        return bool(flag)
    local = sys.modules.get("opto.llm.local")
    return local is not None and isinstance(lm, local.LocalLM)


def reply_tokens(ctx: OperatorContext, code: str, max_tokens: int | None) -> int | None:
    """The reply cap: as configured, or for compact requests about what rewriting ``code`` needs
    (a token is ~3-4 characters of code; room for the one-sentence thought and a longer version)."""
    if not compact(ctx):
        return max_tokens
    need = max(160, len(code) // 3 + 96)
    return min(need, COMPACT_MAX_TOKENS, max_tokens or COMPACT_MAX_TOKENS)


def shown_code(ctx: OperatorContext, code: str) -> str:
    """A parent's code as shown in a prompt (clipped for compact requests)."""
    code = code.strip("\n")
    if compact(ctx) and len(code) > COMPACT_CODE_CHARS:
        return code[:COMPACT_CODE_CHARS] + "\n    # ... (rest of the function omitted)"
    return code


def feedback_text(ctx: OperatorContext, feedback: str) -> str:
    return prompts.render_feedback(feedback, COMPACT_FEEDBACK_CHARS if compact(ctx) else 600)


def header(ctx: OperatorContext) -> str:
    """Task description and the "do not repeat" block that open every prompt."""
    parts = [prompts.TASK.format(task=ctx.task.strip())] if ctx.task.strip() else []
    small = compact(ctx)
    rejected = prompts.render_rejections(ctx.rejected, limit=COMPACT_REJECTIONS if small else 5,
                                         excerpt_chars=80 if small else 160)
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
    stop: Sequence[str] = (),
) -> LMReply | ProposalFailure:
    """One LM call seeded from the context's rng (so a cached run replays identically).

    stop: sequences that end the reply (CODE_STOP for a reply that is one code block); compact
    requests (``compact``) are capped at COMPACT_MAX_TOKENS.
    """
    from opto.llm import BudgetExceeded, Request

    if ctx.lm is None:
        return ProposalFailure(operator, "no_lm", "this operator needs an LM and the search has none")
    request = Request.of(
        prompt,
        system=system,
        temperature=temperature,
        max_tokens=min(max_tokens or COMPACT_MAX_TOKENS, COMPACT_MAX_TOKENS) if compact(ctx) else max_tokens,
        seed=ctx.rng.randrange(SEED_RANGE),
        schema=schema,
        **({"stop": tuple(stop)} if stop and schema is None else {}),
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
