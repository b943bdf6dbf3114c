"""Assembling the messages: problem, memory of past rounds, rejected proposals, under a token cap.

When the estimate exceeds ``max_prompt_tokens``, values are dropped in this order until it fits:
#Others (largest first), then #Inputs, then the oldest memory rounds. Each drop leaves a marker in
the prompt; what could not be trimmed is reported, and the prompt is sent anyway.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Collection, Sequence
from typing import Any

from opto.optimizers.problem import Entry, Problem, render, render_entry, shorten
from opto.optimizers.prompt_format import PromptFormat

REJECTED_VALUE_LIMIT = 400  # characters of a rejected value quoted back to the model
SEPARATOR = "=" * 32


def estimate_tokens(text: str) -> int:
    """About four characters per token: cheap, and close enough to decide what to trim."""
    return len(text) // 4 + 1


@dataclasses.dataclass
class Prompt:
    system: str
    user: str
    tokens: int
    trimmed: dict[str, int]  # section -> entries dropped to fit the cap
    over_cap: int = 0  # tokens still over the cap after trimming
    variables: tuple[str, ...] = ()  # names shown as #Variables: the keys the reply schema allows


def build(problem: Problem, fmt: PromptFormat, *, memory: Sequence[dict[str, Any]] = (),
          rejected: Sequence[dict[str, Any]] = (), mask: Collection[str] = (), example: str = "",
          max_prompt_tokens: int | None = None,
          count_tokens: Callable[[str], int] = estimate_tokens) -> Prompt:
    system = fmt.system_prompt()
    memory = list(memory)
    prompt = _assemble(system, problem, fmt, memory, rejected, mask, example, count_tokens)
    if max_prompt_tokens is None or prompt.tokens <= max_prompt_tokens:
        return prompt
    dropped_rounds = 0
    for section in ("others", "inputs", "memory"):
        order = _drop_order(problem, section, fmt, memory, count_tokens)
        while prompt.tokens > max_prompt_tokens and order:
            excess = prompt.tokens - max_prompt_tokens
            drop: set[int] = set()
            while order and (excess > 0 or not drop):
                size, i = order.pop(0)
                drop.add(i)
                excess -= size
            if section == "memory":
                memory = memory[len(drop):]
                dropped_rounds += len(drop)
            else:
                entries = getattr(problem, section)
                setattr(problem, section, [e for i, e in enumerate(entries) if i not in drop])
                problem.omitted[section] = problem.omitted.get(section, 0) + len(drop)
                order = [(size, i - sum(1 for d in drop if d < i)) for size, i in order]
            prompt = _assemble(system, problem, fmt, memory, rejected, mask, example, count_tokens)
    if dropped_rounds:
        prompt.trimmed["memory"] = dropped_rounds
    prompt.over_cap = max(0, prompt.tokens - max_prompt_tokens)
    return prompt


def _drop_order(problem: Problem, section: str, fmt: PromptFormat, memory: list[dict[str, Any]],
                count_tokens: Callable[[str], int]) -> list[tuple[int, int]]:
    """(estimated tokens, index) in the order to drop: largest values first, oldest rounds first."""
    if section == "memory":
        return [(count_tokens(_memory_text([rnd], fmt)), i) for i, rnd in enumerate(memory)]
    entries: list[Entry] = getattr(problem, section)
    sized = [(count_tokens(render_entry(e, fmt, trainable=False)), i) for i, e in enumerate(entries)]
    return sorted(sized, key=lambda item: (-item[0], item[1]))


def _assemble(system: str, problem: Problem, fmt: PromptFormat, memory: Sequence[dict[str, Any]],
              rejected: Sequence[dict[str, Any]], mask: Collection[str], example: str,
              count_tokens: Callable[[str], int]) -> Prompt:
    parts = []
    if example:
        parts.append(example)
    parts.append(f"The problem:\n\n{SEPARATOR}\n\n{render(problem, fmt, mask)}\n\n{SEPARATOR}")
    if memory:
        parts.append(f"{fmt.memory_intro}\n\n{_memory_text(memory, fmt)}")
    if rejected:
        parts.append(f"{fmt.rejected_intro}\n\n{rejected_text(rejected)}")
    parts.append(fmt.final)
    user = "\n\n".join(parts) + "\n"
    return Prompt(system=system, user=user, tokens=count_tokens(system) + count_tokens(user),
                  trimmed=dict(problem.omitted), variables=tuple(e.name for e in problem.variables))


def _memory_text(memory: Sequence[dict[str, Any]], fmt: PromptFormat) -> str:
    if fmt.layout == "xml":
        blocks = []
        for i, rnd in enumerate(memory, 1):
            values = "\n".join(
                f"<{fmt.variable_tag}><{fmt.name_tag}>{k}</{fmt.name_tag}><{fmt.value_tag}>{v}</{fmt.value_tag}>"
                f"</{fmt.variable_tag}>" for k, v in rnd["variables"].items()
            )
            blocks.append(f"<round {i}>\n{values}\n<feedback>{rnd['feedback']}</feedback>\n</round {i}>")
        return "\n".join(blocks)
    return "\n".join(json.dumps(rnd, indent=1, ensure_ascii=False) for rnd in memory)


def rejected_text(rejected: Sequence[dict[str, Any]]) -> str:
    lines = []
    for item in rejected:
        where = f"step {item['step']}"
        if item.get("param") is None:
            lines.append(f"- ({where}) the whole reply: {item['reason']}")
        else:
            value = item["value"] if isinstance(item["value"], str) else json.dumps(item["value"])
            lines.append(f"- ({where}) {item['param']} = {shorten(value, REJECTED_VALUE_LIMIT)!r}\n"
                         f"  rejected because: {item['reason']}")
    return "\n".join(lines)
