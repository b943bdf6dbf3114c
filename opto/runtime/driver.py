"""The resumable evaluation loop: evaluate candidates, committing each result as it completes.

A run killed at any point (even SIGKILL) loses no finished evaluation: each is committed by itself.
Reopening the store re-queues what was in flight, and ``evaluate_pending`` finishes the job. The
evolutionary backend and the trainer build on these two functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from opto.runtime.executor import NO_INPUT, Executor
from opto.runtime.types import Candidate, EvalResult

if TYPE_CHECKING:  # the store imports opto.runtime.types; avoid a runtime import cycle
    from opto.store import RunStore


def run_batch(
    store: RunStore,
    executor: Executor,
    candidates: Iterable[Candidate],
    *,
    input: Any = NO_INPUT,
    input_key: str | None = None,
    on_result: Callable[[EvalResult], None] | None = None,
) -> list[EvalResult]:
    """Evaluate ``candidates`` (adding new ones to the store) and return results in their order.

    Candidates the store already holds an evaluation for are not re-run: their stored result is
    returned, so calling this again after a crash does only the missing work. on_result is called
    in completion order, after the result is committed.
    """
    candidates = list(candidates)
    store.add_candidates(candidates, skip_existing=True)
    results = store.latest_evaluations([c.id for c in candidates])
    todo = list({c.id: c for c in candidates if c.id not in results}.values())  # each id once
    store.mark_in_flight([c.id for c in todo])
    for result in executor.as_completed(todo, input):
        store.record_evaluation(result, input_key)
        results[result.candidate_id] = result
        if on_result is not None:
            on_result(result)
    return [results[c.id] for c in candidates]


def evaluate_pending(
    store: RunStore,
    executor: Executor,
    *,
    input: Any = NO_INPUT,
    input_key: str | None = None,
    on_result: Callable[[EvalResult], None] | None = None,
) -> list[EvalResult]:
    """Evaluate every stored candidate without an evaluation (what a killed run left in flight)."""
    return run_batch(store, executor, store.pending(), input=input, input_key=input_key, on_result=on_result)
