"""What the trainer writes to the run store, and what it reads back to resume.

Candidates are content-addressed (the id is a digest of the parameter values), so the same
parameters proposed again, or re-proposed after a resume, are one candidate whose stored
evaluations are reused instead of paid for twice. Each evaluation row repeats its ``input_key`` in
``artifacts`` so a resumed run can rebuild its index from ``RunStore.evaluations()``.

Without a store the recorder keeps the same index in memory: training works the same, it just
cannot resume.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from opto.records import Candidate, EvalResult, dumps

CHECKPOINT = "checkpoint"
VALIDATION = "validation"


def candidate_id(values: Mapping[str, Any]) -> str:
    return hashlib.sha256(dumps(dict(values), "parameter values").encode()).hexdigest()[:16]


class Recorder:
    """The trainer's view of a RunStore (or of nothing, when ``store`` is None)."""

    def __init__(self, store: Any = None) -> None:
        self.store = store
        self._known: set[str] = set()
        self._evals: dict[tuple[str, str], EvalResult] = {}
        self._events: list[tuple[str, dict[str, Any]]] = []
        if store is not None:
            self._known = {c.id for c in store.candidates()}
            for result in store.evaluations():
                key = result.artifacts.get("input_key") if isinstance(result.artifacts, Mapping) else None
                if isinstance(key, str):
                    self._evals[(result.candidate_id, key)] = result

    def candidate(self, values: Mapping[str, Any], parents: Sequence[str] = (), operator: str = "seed",
                  generation: int = 0, meta: Mapping[str, Any] | None = None,
                  llm_call_id: str | None = None) -> str:
        """The id of the candidate with these values, adding it to the store when it is new."""
        cid = candidate_id(values)
        if cid not in self._known:
            self._known.add(cid)
            if self.store is not None:
                self.store.add_candidates(
                    [Candidate(dict(values), id=cid, parent_ids=tuple(parents), operator=operator,
                               generation=generation, meta=dict(meta or {}), llm_call_id=llm_call_id)],
                    skip_existing=True,
                )
        return cid

    def cached(self, cid: str, input_key: str) -> EvalResult | None:
        return self._evals.get((cid, input_key))

    def record(self, result: EvalResult, input_key: str) -> None:
        self._evals[(result.candidate_id, input_key)] = result
        if self.store is not None:
            self.store.record_evaluation(result, input_key)

    def event(self, kind: str, data: Mapping[str, Any]) -> None:
        if self.store is not None:
            self.store.add_event(kind, data)
        else:
            self._events.append((kind, dict(data)))

    def events(self, kind: str) -> list[dict[str, Any]]:
        if self.store is not None:
            return [e.data for e in self.store.events(kind)]
        return [d for k, d in self._events if k == kind]

    def latest_checkpoint(self) -> dict[str, Any] | None:
        found = self.events(CHECKPOINT)
        return found[-1] if found else None
