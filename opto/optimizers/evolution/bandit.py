"""Which operator to apply next: a UCB1 bandit per island, rewarded when a child beats its parent.

Different islands can find different operators useful (one stuck on a plateau may need big code
changes, another only parameter tuning), so each island keeps its own arm statistics.
Per-operator totals for the report are kept apart in OperatorStats.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class Bandit:
    """UCB1 over operator names; untried arms are tried first, ties broken by the seeded rng."""

    def __init__(self, arms: Sequence[str], exploration: float = 0.5) -> None:
        if not arms:
            raise ValueError("the operator bandit needs at least one operator")
        self.arms = tuple(arms)
        self.exploration = exploration
        self.pulls = dict.fromkeys(self.arms, 0)
        self.rewards = dict.fromkeys(self.arms, 0.0)

    def choose(self, rng: random.Random, allowed: Sequence[str] | None = None) -> str:
        arms = [a for a in self.arms if allowed is None or a in allowed] or list(self.arms)
        untried = [a for a in arms if self.pulls[a] == 0]
        if untried:
            return rng.choice(untried)
        total = sum(self.pulls[a] for a in arms)
        keyed = [(self.rewards[a] / self.pulls[a]
                  + self.exploration * math.sqrt(math.log(total) / self.pulls[a]), rng.random(), a) for a in arms]
        return max(keyed)[2]

    def update(self, arm: str, reward: float) -> None:
        self.pulls[arm] += 1
        self.rewards[arm] += reward

    def state(self) -> dict[str, Any]:
        return {a: {"pulls": self.pulls[a], "mean_reward": self.rewards[a] / self.pulls[a] if self.pulls[a] else None}
                for a in self.arms}


@dataclass
class OperatorStats:
    """What the report shows per operator: proposals, valid (evaluated ok), improved, mean gain, tokens,
    and apply failures (the apply-failure rate is apply_failures / proposals)."""

    proposals: int = 0
    valid: int = 0
    improved: int = 0
    gain_sum: float = 0.0
    gains: int = 0
    llm_tokens: int = 0
    apply_failures: int = 0  # proposals whose edits matched nowhere in the parent (the diff operator)

    @property
    def mean_gain(self) -> float:
        return self.gain_sum / self.gains if self.gains else 0.0

    def record(self, parent_score: float | None, child_score: float | None) -> bool:
        """Count an evaluated child; returns whether it improved on its best parent."""
        if child_score is None:
            return False
        self.valid += 1
        if parent_score is None:
            return False
        gain = child_score - parent_score
        self.gain_sum += gain
        self.gains += 1
        if gain > 0:
            self.improved += 1
            return True
        return False

    def event(self, name: str) -> dict[str, Any]:
        return {"operator": name, "proposals": self.proposals, "valid": self.valid, "improved": self.improved,
                "mean_gain": self.mean_gain, "llm_tokens": self.llm_tokens, "apply_failures": self.apply_failures}
