"""What ``train`` returns: the best parameters, their selection score, and the held-out score apart."""

from __future__ import annotations

import dataclasses
from typing import Any

from opto.trainer.budget import Spent


@dataclasses.dataclass
class TrainResult:
    """best_score is the score used to select (validation, or training when no val_set was given);
    test_score is measured once, on the held-out test set, after selection; gap = best - test."""

    best_values: dict[str, Any]
    best_candidate_id: str
    best_score: float
    selection_split: str
    test_score: float | None
    steps: int
    stopped: str | None
    spent: Spent
    history: list[dict[str, Any]]
    seed_score: float
    resumed: bool = False
    store_path: str | None = None

    @property
    def gap(self) -> float | None:
        return None if self.test_score is None else self.best_score - self.test_score

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["gap"] = self.gap
        return d

    def __str__(self) -> str:
        lines = [f"steps: {self.steps}" + (f" (stopped: {self.stopped})" if self.stopped else ""),
                 f"{self.selection_split} score: {self.seed_score:.4g} at the start -> {self.best_score:.4g} best "
                 f"(candidate {self.best_candidate_id})"]
        if self.test_score is not None:
            lines.append(f"held-out test score of the best: {self.test_score:.4g} "
                         f"(gap {self.selection_split} - test = {self.gap:+.4g})")
        s = self.spent
        lines.append(f"spent: {s.proposals} proposals, {s.llm_calls} LLM calls, {s.evaluations} evaluations, "
                     f"{s.tokens} tokens")
        return "\n".join(lines)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainResult:
        fields = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in fields}
        kw["spent"] = Spent.from_dict(d.get("spent"))
        return cls(**kw)
