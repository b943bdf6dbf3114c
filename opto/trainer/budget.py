"""What a training run may spend, counted in one unit the progress bar also counts in.

LLM calls, tokens and cost are enforced by the LLM layer (``track_usage`` with an ``opto.llm.Budget``),
so a cap is never passed by a call the trainer did not see; proposals and evaluations are counted
by the trainer itself. Whatever stops the run, it stops between two committed records.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from opto.llm import Budget, UsageSummary

UNITS = ("proposals", "llm_calls", "evaluations", "tokens", "usd")


class BudgetStop(Exception):
    """Raised inside the trainer when a cap it counts itself is reached."""


@dataclasses.dataclass(frozen=True)
class TrainBudget:
    """Caps for one training run; None means no cap. ``unit`` is the first cap set, in field order.

    max_proposals: optimizer proposals (one per LLM optimizer step; beam search makes several per step).
    max_llm_calls / max_tokens / max_cost_usd: every LLM call made during training (optimizer, judge,
      and the model's own calls); cached replies are free.
    max_evaluations: runs of the model on one instance (training forward passes and validation).
    """

    max_proposals: int | None = None
    max_llm_calls: int | None = None
    max_evaluations: int | None = None
    max_tokens: int | None = None
    max_cost_usd: float | None = None

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0):
                raise ValueError(f"TrainBudget.{f.name} must be a non-negative number or None, got {v!r}")

    @classmethod
    def of(cls, budget: Any) -> TrainBudget:
        """From a TrainBudget, an int (max proposals), an opto.llm Budget, or None (no caps)."""
        if budget is None:
            return cls()
        if isinstance(budget, TrainBudget):
            return budget
        if isinstance(budget, Budget):
            return cls(max_llm_calls=budget.max_calls, max_tokens=budget.max_tokens,
                       max_cost_usd=budget.max_cost_usd)
        if isinstance(budget, int) and not isinstance(budget, bool):
            return cls(max_proposals=budget)
        raise TypeError(
            f"budget must be a TrainBudget, an int (number of proposals) or an opto.llm.Budget; got {budget!r}"
        )

    @property
    def unit(self) -> str | None:
        caps = (self.max_proposals, self.max_llm_calls, self.max_evaluations, self.max_tokens, self.max_cost_usd)
        return next((u for u, cap in zip(UNITS, caps) if cap is not None), None)

    @property
    def total(self) -> float | None:
        caps = {"proposals": self.max_proposals, "llm_calls": self.max_llm_calls,
                "evaluations": self.max_evaluations, "tokens": self.max_tokens, "usd": self.max_cost_usd}
        return caps[self.unit] if self.unit else None

    def lm_budget(self, spent: Spent) -> Budget | None:
        """The LLM layer's caps for this process: what is left after calls made before a resume."""
        if self.max_llm_calls is None and self.max_tokens is None and self.max_cost_usd is None:
            return None
        return Budget(
            max_calls=None if self.max_llm_calls is None else max(0, self.max_llm_calls - spent.llm_calls),
            max_tokens=None if self.max_tokens is None else max(0, self.max_tokens - spent.tokens),
            max_cost_usd=None if self.max_cost_usd is None else max(0.0, self.max_cost_usd - spent.cost_usd),
        )


@dataclasses.dataclass
class Spent:
    """Counters carried in every checkpoint, so a resumed run keeps counting from where it was."""

    proposals: int = 0
    evaluations: int = 0
    llm_calls: int = 0
    tokens: int = 0
    cost_usd: float = 0.0

    def amount(self, unit: str | None) -> float:
        if unit is None or unit == "proposals":
            return self.proposals
        return {"llm_calls": self.llm_calls, "evaluations": self.evaluations, "tokens": self.tokens,
                "usd": self.cost_usd}[unit]

    def with_usage(self, base: Spent, usage: UsageSummary) -> None:
        """Set the LLM counters to ``base`` (before this process) plus what this process spent."""
        self.llm_calls = base.llm_calls + usage.spent_calls
        self.tokens = base.tokens + usage.total_tokens
        self.cost_usd = base.cost_usd + usage.cost_usd

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Spent:
        return cls(**{k: v for k, v in (d or {}).items() if k in {f.name for f in dataclasses.fields(cls)}})


def check_counted(budget: TrainBudget, spent: Spent, proposals: int = 0, evaluations: int = 0) -> None:
    """Raise BudgetStop when doing ``proposals``/``evaluations`` more would pass a trainer-counted cap."""
    if budget.max_proposals is not None and spent.proposals + proposals > budget.max_proposals:
        raise BudgetStop(f"budget of {budget.max_proposals} proposals reached")
    if budget.max_evaluations is not None and spent.evaluations + evaluations > budget.max_evaluations:
        raise BudgetStop(f"budget of {budget.max_evaluations} evaluations reached")
