"""Beam search: every beam member proposes children on the batch; the best ``width`` survive.

Survivors are chosen by validation score (each candidate is scored once: scores are cached by
candidate), so the beam never keeps a child that looked good on one minibatch only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opto.trainer.algorithms.base import Algorithm, StepCost
from opto.trainer.dataset import Example
from opto.trainer.params import Values
from opto.trainer.session import Session


class BeamSearch(Algorithm):
    """width: candidates kept; branch: proposals per member per step (same feedback, retained graph)."""

    name = "beam"

    def __init__(self, width: int = 3, branch: int = 2) -> None:
        if width < 1 or branch < 1:
            raise ValueError(f"BeamSearch needs width >= 1 and branch >= 1, got width={width}, branch={branch}")
        self.width = width
        self.branch = branch
        self.beam: list[tuple[str, Values, float]] = []

    def start(self, s: Session, seed_id: str, seed_values: Values) -> None:
        self.beam = [(seed_id, seed_values, s.score(seed_values).mean)]

    def step(self, s: Session, batch: Sequence[Example]) -> None:
        pool = {cid: (values, score) for cid, values, score in self.beam}
        for cid, values, _ in list(self.beam):
            s.load(values)
            runs = s.forward_batch(cid, batch)
            for b in range(self.branch):
                proposal = s.propose(runs, cid, retain_graph=b < self.branch - 1)
                if proposal is not None and proposal.child_id not in pool:
                    pool[proposal.child_id] = (proposal.values, s.score(proposal.values).mean)
        ranked = sorted(pool.items(), key=lambda kv: -kv[1][1])  # stable: older first on ties
        self.beam = [(cid, values, score) for cid, (values, score) in ranked[: self.width]]

    def current(self) -> tuple[str, Values]:
        cid, values, _ = self.beam[0]
        return cid, values

    def cost(self, batch_size: int, n_val: int) -> StepCost:
        return StepCost(self.width * self.branch, self.width * (batch_size + self.branch * n_val))

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "width": self.width, "branch": self.branch}

    def state_dict(self) -> dict[str, Any]:
        return {"beam": [[cid, values, score] for cid, values, score in self.beam]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.beam = [(cid, values, float(score)) for cid, values, score in state["beam"]]
