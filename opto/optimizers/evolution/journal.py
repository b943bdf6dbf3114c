"""What the search writes to the run store, made safe to replay on resume.

A search is a deterministic function of its seed and its evaluation results, so resuming a
killed run means running it again from the start against the same store: evaluations already
stored are read back instead of re-run (opto.evaluate skips them), and the events and LLM calls
the killed run already wrote are not written twice: the replay produces exactly the same
sequence, so each event that equals the next stored one of its kind (and each of the first n LLM
calls) is skipped.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from opto.evaluate import run_batch
from opto.records import Candidate, EvalResult, to_jsonable
from opto.runtime.executor import NO_INPUT, Executor
from opto.store import RunStore


class Journal:
    def __init__(self, store: RunStore) -> None:
        self.store = store
        self._stored: dict[str, deque[Any]] = defaultdict(deque)
        for e in store.events():
            self._stored[e.kind].append(e.data)
        self._skip_calls = len(store.llm_calls())
        self._calls_lock = threading.Lock()  # LLM proposals run in a thread pool; one writer at a time
        self.replayed_events = 0  # how many events the replay found already written (for diagnostics)
        self._cached = {e.data["key"]: e.data["hashes"] for e in store.events("gate")
                        if e.data.get("gate") == "behaviour" and "hashes" in e.data}

    def event(self, kind: str, data: Mapping[str, Any]) -> None:
        """Write an event unless the run being resumed already wrote it (the next stored one of its kind).

        Matching on the data, not only the count, keeps the end-of-run events right when a finished
        run is continued with a larger budget: its old summary no longer matches, so the new one is
        written.
        """
        stored = self._stored.get(kind)
        if stored:
            if stored[0] == json.loads(json.dumps(to_jsonable(dict(data), "event data"))):
                stored.popleft()
                self.replayed_events += 1
                return
        self.store.add_event(kind, data)

    def behaviour_hashes(self, key: str) -> dict[str, str] | None:
        """Probe hashes the killed run computed for this child (so probes are not run again)."""
        return self._cached.get(key)

    def llm_call(self, record: Any) -> None:
        """Write one LLM call (a UsageTracker record) unless it was written before the kill."""
        with self._calls_lock:
            self._llm_call(record)

    def _llm_call(self, record: Any) -> None:
        if self._skip_calls > 0:
            self._skip_calls -= 1
            return
        from opto.llm.recording import call_usage, request_payload

        request = request_payload(record.request) if record.request is not None else {}
        self.store.record_llm_call(request, record.reply, call_usage(record), model=record.model,
                                   latency_s=record.latency_s, cached=record.cached, call_id=record.call_id or None)

    # -- evaluation stages ------------------------------------------------------------------------
    def evaluate(self, executor: Executor, candidates: Sequence[Candidate], *, stage: int, input: Any = NO_INPUT,
                 input_key: str | None = None) -> list[EvalResult]:
        """The ``stage``-th evaluation of each candidate (0: its first), run only where it is missing.

        Stage 0 goes through opto.evaluate.run_batch; later stages (the full evaluation after a
        cascade, held-out re-evaluation) are the candidate's next evaluation in the store.
        """
        if stage == 0:
            return run_batch(self.store, executor, candidates, input=input, input_key=input_key)
        have = {c.id: self.store.evaluations(c.id) for c in candidates}
        results = {c.id: have[c.id][stage] for c in candidates if len(have[c.id]) > stage}
        todo = [c for c in candidates if c.id not in results]
        for result in executor.as_completed(todo, input):
            results[result.candidate_id] = self._record(result, input_key)
        return [results[c.id] for c in candidates]

    def _record(self, result: EvalResult, input_key: str | None) -> EvalResult:
        try:
            self.store.record_evaluation(result, input_key)
            return result
        except Exception as exc:  # noqa: BLE001 - a result the store refuses must not stop the run
            failed = EvalResult.failed(result.candidate_id, "invalid_return",
                                       f"the result could not be stored ({type(exc).__name__}: {exc})",
                                       duration_s=result.duration_s)
            self.store.record_evaluation(failed, input_key)
            return failed


def excerpt(values: Mapping[str, Any], limit: int = 600) -> str:
    """A short text of a child's values, for "do not repeat" lists in LLM prompts."""
    parts: Iterable[str] = (f"{k} = {v}" if not isinstance(v, str) else f"{k}:\n{v}" for k, v in values.items())
    text = "\n".join(parts)
    return text if len(text) <= limit else text[: limit - 3] + "..."
