"""The algorithm contract: selection logic only; the session runs, proposes and records."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from opto.trainer.dataset import Example
from opto.trainer.params import Values
from opto.trainer.session import Session


@dataclasses.dataclass(frozen=True)
class StepCost:
    """Upper bounds for one step, for dry-run planning: proposals and single-instance evaluations."""

    proposals: int
    evaluations: int


class Algorithm:
    """One search strategy over parameter values. Subclasses keep their state JSON-serializable.

    ``start`` receives the seed candidate; ``step`` does one minibatch's worth of search and leaves
    ``current()`` at the candidate training continues from (the trainer validates it and keeps the
    best). ``state_dict``/``load_state_dict`` let a killed run resume with the same state.
    """

    name = "algorithm"

    def start(self, s: Session, seed_id: str, seed_values: Values) -> None:
        self._current = (seed_id, seed_values)

    def step(self, s: Session, batch: Sequence[Example]) -> None:
        raise NotImplementedError

    def current(self) -> tuple[str, Values]:
        return self._current

    def cost(self, batch_size: int, n_val: int) -> StepCost:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        return {"name": self.name}

    def state_dict(self) -> dict[str, Any]:
        cid, values = self._current
        return {"current": [cid, values]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        cid, values = state["current"]
        self._current = (cid, values)
