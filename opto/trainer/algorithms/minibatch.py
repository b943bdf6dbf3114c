"""Minibatch descent: each batch's feedback, combined, drives one proposal that is applied."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opto.trainer.algorithms.base import Algorithm, StepCost
from opto.trainer.dataset import Example
from opto.trainer.session import Session


class Minibatch(Algorithm):
    """trace-opt/OpenTrace's basic loop: forward the batch, one backward, one optimizer step.

    ensure_improvement: apply a proposal only when it scores at least the current values on the
    validation set (costs a validation per proposal; off by default, as in OpenTrace).
    """

    name = "minibatch"

    def __init__(self, ensure_improvement: bool = False) -> None:
        self.ensure_improvement = ensure_improvement

    def step(self, s: Session, batch: Sequence[Example]) -> None:
        cid, values = self.current()
        runs = s.forward_batch(cid, batch)
        proposal = s.propose(runs, cid)
        if proposal is None:
            return
        if self.ensure_improvement and s.score(proposal.values).mean < s.score(values).mean:
            s.recorder.event("rejected", {"operator": s.operator, "reason": "no_improvement",
                                          "detail": f"candidate {proposal.child_id} scored below its parent on val"})
            return
        s.apply(proposal)
        self._current = (proposal.child_id, proposal.values)

    def cost(self, batch_size: int, n_val: int) -> StepCost:
        return StepCost(1, batch_size + (2 * n_val if self.ensure_improvement else 0))

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "ensure_improvement": self.ensure_improvement}
