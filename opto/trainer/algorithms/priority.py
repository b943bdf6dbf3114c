"""Priority search: an upper-confidence bound picks which candidate to improve next.

Each candidate keeps the scores it got on the minibatches it was run on. The one with the highest
``mean + c * sqrt(ln(total runs) / its runs)`` is run on the next batch (its forward pass both adds
to its statistics and carries the feedback), proposes a child, and the child is scored on the same
batch. Well-scoring candidates are refined; rarely-tried ones get their turn (as OpenTrace's
PrioritySearch, with the UCB rule of multi-armed bandits).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from opto.trainer.algorithms.base import Algorithm, StepCost
from opto.trainer.dataset import Example
from opto.trainer.params import Values
from opto.trainer.session import Session


class PrioritySearch(Algorithm):
    """exploration: the UCB constant c; max_candidates: the pool keeps the best this many by mean."""

    name = "priority"

    def __init__(self, exploration: float = 1.0, max_candidates: int = 20) -> None:
        if exploration < 0 or max_candidates < 1:
            raise ValueError("PrioritySearch needs exploration >= 0 and max_candidates >= 1")
        self.exploration = exploration
        self.max_candidates = max_candidates
        self.pool: dict[str, dict[str, Any]] = {}  # cid -> {"values", "sum", "n"}

    def start(self, s: Session, seed_id: str, seed_values: Values) -> None:
        self.pool = {seed_id: {"values": seed_values, "sum": 0.0, "n": 0}}

    def ucb(self, cid: str) -> float:
        entry = self.pool[cid]
        if entry["n"] == 0:
            return math.inf
        total = sum(e["n"] for e in self.pool.values())
        return entry["sum"] / entry["n"] + self.exploration * math.sqrt(math.log(max(total, 1)) / entry["n"])

    def _mean(self, cid: str) -> float:
        entry = self.pool[cid]
        return entry["sum"] / entry["n"] if entry["n"] else -math.inf

    def step(self, s: Session, batch: Sequence[Example]) -> None:
        cid = max(self.pool, key=self.ucb)  # dicts keep insertion order: ties go to the older
        entry = self.pool[cid]
        s.load(entry["values"])
        runs = s.forward_batch(cid, batch)
        entry["sum"] += sum(r.score for r in runs)
        entry["n"] += len(runs)
        proposal = s.propose(runs, cid)
        if proposal is None:
            return
        child = self.pool.setdefault(proposal.child_id, {"values": proposal.values, "sum": 0.0, "n": 0})
        scored = s.score(proposal.values, s.train, batch)
        child["sum"] += sum(scored.per_instance.values())
        child["n"] += len(scored.per_instance)
        if len(self.pool) > self.max_candidates:
            worst = min(self.pool, key=self._mean)
            del self.pool[worst]

    def current(self) -> tuple[str, Values]:
        cid = max(self.pool, key=self._mean)
        return cid, self.pool[cid]["values"]

    def cost(self, batch_size: int, n_val: int) -> StepCost:
        return StepCost(1, 2 * batch_size)

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "exploration": self.exploration, "max_candidates": self.max_candidates}

    def state_dict(self) -> dict[str, Any]:
        return {"pool": [[cid, e["values"], e["sum"], e["n"]] for cid, e in self.pool.items()]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.pool = {cid: {"values": v, "sum": float(total), "n": int(n)} for cid, v, total, n in state["pool"]}
