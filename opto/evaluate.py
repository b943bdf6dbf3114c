"""The resumable evaluation loop: evaluate candidates, committing each result as it completes.

It joins an executor (opto.runtime) and a run store (opto.store), so it sits above both; neither
of them imports it. A run killed at any point (even SIGKILL) loses no finished evaluation: each is
committed by itself. Reopening the store re-queues what was in flight, and ``evaluate_pending``
finishes the job. The evolutionary backend and the trainer build on these two functions.

    from opto.evaluate import run_batch
    results = run_batch(store, executor, candidates, input_key="train")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from opto.records import Candidate, EvalResult
from opto.runtime.executor import NO_INPUT, Executor
from opto.store import RunStore

__all__ = ["evaluate_pending", "run_batch"]


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
        result = _record(store, result, input_key)
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


def _record(store: RunStore, result: EvalResult, input_key: str | None) -> EvalResult:
    """Commit a result; one the store refuses is committed as a failure saying why.

    Whatever a candidate returns must not stop the run, nor stop it again on every resume (the
    candidate would stay in flight forever). Only a failure to store that failure propagates: then
    the store itself is broken.
    """
    try:
        store.record_evaluation(result, input_key)
        return result
    except Exception as exc:  # noqa: BLE001 - e.g. NaN artifacts from an executor that let them through
        problem = f"the result could not be stored in the run store ({type(exc).__name__}: {exc})"
    failure = result.failure
    stored = EvalResult.failed(
        result.candidate_id,
        failure.reason if failure is not None else "invalid_return",
        _text(problem if failure is None else f"{failure.message}\n{problem}"),
        duration_s=result.duration_s,
        stdout_tail=_text(result.stdout_tail),
        stderr_tail=_text(result.stderr_tail),
        started_at=result.started_at,
    )
    store.record_evaluation(stored, input_key)
    return stored


def _text(value: object) -> str:
    """A str SQLite accepts (no lone surrogates), whatever value is."""
    return str(value).encode("utf-8", "replace").decode("utf-8")
