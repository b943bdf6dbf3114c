"""A member of the population: an evaluated candidate as the population layers see it."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from opto.optimizers.evolution.operators.base import Parent


@dataclass(frozen=True)
class Member:
    """A successfully evaluated candidate; ``birth`` orders members for aging (regularized evolution)."""

    id: str
    values: Mapping[str, Any]
    score: float
    scores: Mapping[str, float] = field(default_factory=dict)
    feedback: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)
    parent_ids: tuple[str, ...] = ()
    operator: str = ""
    generation: int = 0
    island: int = 0
    birth: int = 0
    artifacts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def signature(self) -> tuple[float, ...]:
        """The score signature clusters group by: all named scores (or the score), rounded."""
        if self.scores:
            return tuple(round(float(self.scores[k]), 9) for k in sorted(self.scores))
        return (round(self.score, 9),)

    @property
    def size(self) -> int:
        """Length of the member's values as text; FunSearch prefers shorter programs within a cluster."""
        return sum(len(v) if isinstance(v, str) else len(json.dumps(v, default=str)) for v in self.values.values())

    def as_parent(self) -> Parent:
        meta = dict(self.meta)
        if "trace" in self.artifacts:  # a recorded execution trace, read by trace-guided mutation
            meta.setdefault("trace", self.artifacts["trace"])
        score = self.score if math.isfinite(self.score) else None  # the unscored start of ask/tell
        return Parent(self.id, dict(self.values), score, dict(self.scores), self.feedback, meta)

    def moved_to(self, island: int, birth: int) -> Member:
        """The same program registered on another island (reset or migration)."""
        return Member(self.id, self.values, self.score, self.scores, self.feedback, self.meta, self.parent_ids,
                      self.operator, self.generation, island, birth, self.artifacts)
