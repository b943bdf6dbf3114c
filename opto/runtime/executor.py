"""The executor interface shared by the local and Ray pools, and ``make_executor``.

An executor owns N slots (a sandbox worker process each, locally; a Ray actor each, on a cluster)
and one thread per slot that feeds it candidates from a shared queue. Submission returns
``concurrent.futures.Future[EvalResult]``; a failed candidate is a result, never an exception, so
``future.result()`` raises only for misuse (an unpicklable input) or a shut-down executor.
"""

from __future__ import annotations

import abc
import concurrent.futures as cf
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any, Literal, Protocol

from opto.records import Candidate, EvalResult
from opto.runtime.limits import Limits
from opto.runtime.objective import Objective, Ref


class ExecutorShutdown(RuntimeError):
    """The executor was shut down before this evaluation finished."""


class Slot(Protocol):
    """One place an evaluation runs; created and used by a single slot thread."""

    def evaluate(self, candidate: Candidate, input: Any, has_input: bool) -> EvalResult: ...

    def prepare(self) -> None:
        """Get ready for the next evaluation (start a fresh worker if the last one died)."""

    def kill(self) -> None:
        """Stop now, from any thread (used by shutdown(wait=False))."""

    def close(self) -> None: ...


NO_INPUT = object()
_STOP = object()


class Executor(abc.ABC):
    """Evaluate candidates with an objective in N parallel slots; see LocalExecutor, RayExecutor."""

    def __init__(self, objective: Objective | Ref, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.objective = Objective.coerce(objective)
        self.workers = workers
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._slots: list[Slot | None] = [None] * workers
        self._lock = threading.Lock()
        self._closed = False
        self._killed = False
        self._threads: list[threading.Thread] = []

    def _configure(self, limits: Limits | None, options: dict[str, Any]) -> None:
        """Check the objective and fix the sandbox options every slot uses (keywords override ``limits``)."""
        self.limits = Limits.merged(limits, **options)
        self.objective.validate()
        self.memory_mb = self.limits.memory_cap_mb(self.workers)  # the same rule for every executor
        self._payload = self.objective.dumps()

    def _start_threads(self) -> None:
        """Subclasses call this at the end of __init__, once _open_slot can work."""
        for i in range(self.workers):
            t = threading.Thread(target=self._slot_loop, args=(i,), name=f"opto-slot-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    @abc.abstractmethod
    def _open_slot(self, index: int) -> Slot:
        """Create slot ``index``; runs in that slot's thread (worker processes die with it)."""

    def _slot_loop(self, index: int) -> None:
        slot: Slot | None = None
        try:
            try:
                slot = self._slots[index] = self._open_slot(index)  # warm up before the first task
            except Exception:  # noqa: BLE001 - retried, and then reported, on the first task
                pass
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                future, candidate, input = item
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    if slot is None:
                        slot = self._slots[index] = self._open_slot(index)
                    result = slot.evaluate(candidate, None if input is NO_INPUT else input, input is not NO_INPUT)
                except Exception as exc:  # noqa: BLE001 - infrastructure, not candidate, errors
                    future.set_exception(exc)
                    continue
                if self._killed:
                    future.set_exception(ExecutorShutdown("the executor was shut down during this evaluation"))
                    return
                future.set_result(result)
                try:
                    slot.prepare()
                except Exception:  # noqa: BLE001 - retried, and then reported, on the next task
                    slot.close()
                    slot = self._slots[index] = None
        finally:
            if slot is not None:
                slot.close()

    def submit(self, candidate: Candidate, input: Any = NO_INPUT) -> cf.Future[EvalResult]:
        """Queue one evaluation; the objective gets ``input`` as its second argument if given."""
        if not isinstance(candidate, Candidate):
            raise TypeError(f"submit() takes a Candidate, got {type(candidate).__name__}; wrap values in Candidate(values)")
        future: cf.Future[EvalResult] = cf.Future()
        with self._lock:
            if self._closed:
                raise ExecutorShutdown("cannot submit to an executor that was shut down")
            self._queue.put((future, candidate, input))
        return future

    def map(self, candidates: Iterable[Candidate], input: Any = NO_INPUT) -> list[EvalResult]:
        """Evaluate a batch in parallel; results in the order of ``candidates``."""
        futures = [self.submit(c, input) for c in candidates]
        return [f.result() for f in futures]

    def as_completed(self, candidates: Iterable[Candidate], input: Any = NO_INPUT) -> Iterator[EvalResult]:
        """Yield results as they finish (streaming); leaving the loop early cancels queued ones."""
        futures = [self.submit(c, input) for c in candidates]
        try:
            for future in cf.as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()

    def shutdown(self, wait: bool = True) -> None:
        """Stop: queued evaluations are cancelled; running ones finish (wait=True) or are killed."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            item[0].cancel()
        if not wait:
            self._killed = True
            for slot in list(self._slots):
                if slot is not None:
                    slot.kill()
        for _ in self._threads:
            self._queue.put(_STOP)
        for t in self._threads:
            t.join()

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown(wait=exc[0] is None)


def make_executor(kind: Literal["local", "ray"], objective: Objective | Ref, **kwargs: Any) -> Executor:
    """The executor for ``kind``; the same search moves to a Ray cluster by changing this argument."""
    if kind == "local":
        from opto.runtime.local import LocalExecutor

        return LocalExecutor(objective, **kwargs)
    if kind == "ray":
        from opto.runtime.ray_executor import RayExecutor

        return RayExecutor(objective, **kwargs)
    raise ValueError(f"unknown executor kind {kind!r}; use 'local' or 'ray'")
