"""Dry-run planning: what a training run will spend, printed before anything is spent.

Counts are upper bounds from each algorithm's per-step cost (cached evaluations make the real run
cheaper). LLM calls per proposal come from the optimizer (samples, times two for a structured reply's
repair turn), plus two per evaluation when the guide is an LLM judge; the model's own LLM calls are
not known in advance. Cost uses the LM's price and an assumed size per call (``tokens_per_call``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from opto.trainer.budget import TrainBudget

MIN_PROPOSALS = 3


@dataclasses.dataclass(frozen=True)
class Plan:
    steps: int
    proposals: int
    evaluations: int
    llm_calls: int
    cost_usd: float | None
    limited_by: str  # "epochs" or the budget unit that ends the run first
    warnings: tuple[str, ...]
    assumptions: tuple[str, ...]

    def __str__(self) -> str:
        cost = "unknown (no price for the model)" if self.cost_usd is None else f"${self.cost_usd:.4f}"
        lines = [
            "opto train --dry-run: planned (upper bounds)",
            f"  steps:        {self.steps} (limited by {self.limited_by})",
            f"  proposals:    {self.proposals}",
            f"  LLM calls:    {self.llm_calls}",
            f"  evaluations:  {self.evaluations} (model runs on one instance)",
            f"  cost:         {cost}",
        ]
        lines += [f"  assuming {a}" for a in self.assumptions]
        lines += [f"WARNING: {w}" for w in self.warnings]
        return "\n".join(lines)


def make_plan(*, epochs: int, steps_per_epoch: int, batch_size: int, n_val: int, n_test: int,
              step_proposals: int, step_evaluations: int, start_evaluations: int, calls_per_proposal: int,
              judge_calls: bool, budget: TrainBudget, price: Any = None,
              tokens_per_call: tuple[int, int] = (2000, 400)) -> Plan:
    judge_per_eval = 2 if judge_calls else 0  # a judge's verdict may take one repair turn
    per_step_calls = step_proposals * calls_per_proposal + step_evaluations * judge_per_eval
    start_calls = start_evaluations * judge_per_eval
    limits: dict[str, float] = {"epochs": epochs * steps_per_epoch}
    tokens = sum(tokens_per_call)
    cost_per_call = price.cost(*tokens_per_call) if price is not None else None
    if budget.max_proposals is not None:
        limits["proposals"] = budget.max_proposals // max(step_proposals, 1)
    if budget.max_evaluations is not None:
        limits["evaluations"] = max(0, budget.max_evaluations - start_evaluations) // max(step_evaluations, 1)
    if per_step_calls:
        if budget.max_llm_calls is not None:
            limits["llm_calls"] = max(0, budget.max_llm_calls - start_calls) // per_step_calls
        if budget.max_tokens is not None:
            limits["tokens"] = max(0, budget.max_tokens - start_calls * tokens) // (per_step_calls * tokens)
        if budget.max_cost_usd is not None and cost_per_call:
            limits["usd"] = math.floor(max(0.0, budget.max_cost_usd - start_calls * cost_per_call)
                                       / (per_step_calls * cost_per_call))
    limited_by = min(limits, key=lambda k: (limits[k], k != "epochs"))
    steps = int(limits[limited_by])
    proposals = steps * step_proposals
    evaluations = start_evaluations + steps * step_evaluations + n_test
    llm_calls = start_calls + steps * per_step_calls + n_test * judge_per_eval
    cost = None if cost_per_call is None else llm_calls * cost_per_call
    warnings = []
    if proposals < MIN_PROPOSALS and limited_by != "epochs":
        warnings.append(
            f"the budget allows only {proposals} proposal(s) (fewer than {MIN_PROPOSALS}): the optimizer will "
            "barely change anything; raise the budget or lower batch_size/beam width"
        )
    assumptions = [f"up to {calls_per_proposal} LLM call(s) per proposal (repair turns included)"]
    if judge_calls:
        assumptions.append("up to 2 LLM judge calls per evaluation (a repair turn included)")
    if cost_per_call is not None or budget.max_tokens is not None:
        assumptions.append(f"~{tokens_per_call[0]} prompt + {tokens_per_call[1]} completion tokens per call")
    assumptions.append("the model's own LLM calls (if any) are not counted")
    return Plan(steps, proposals, evaluations, llm_calls, cost, limited_by, tuple(warnings), tuple(assumptions))
