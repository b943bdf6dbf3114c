"""LocalExecutor: a pool of sandbox worker processes on this machine."""

from __future__ import annotations

import threading
from typing import Any

from opto.records import Candidate, EvalResult
from opto.runtime.executor import Executor
from opto.runtime.limits import Limits, default_workers, worker_env
from opto.runtime.objective import Objective, Ref
from opto.runtime.process import WorkerProcess


class LocalSlot:
    """One worker process, replaced by a fresh one whenever it is killed or dies."""

    def __init__(self, payload: bytes, limits: Limits, memory_mb: int | None, env: dict[str, str],
                 extra_sys_path: list[str] | None) -> None:
        self._payload, self._limits, self._memory_mb = payload, limits, memory_mb
        self._env, self._extra_sys_path = env, extra_sys_path
        self._lock = threading.Lock()
        self._killed = False
        self.worker: WorkerProcess | None = None
        self.starts = 0
        self.prepare()

    def prepare(self) -> None:
        with self._lock:
            if self._killed or (self.worker is not None and self.worker.alive):
                return
            if self.worker is not None:
                self.worker.close()
            self.worker = WorkerProcess(
                self._payload,
                env=self._env,
                memory_mb=self._memory_mb,
                output_bytes=self._limits.output_bytes,
                extra_sys_path=self._extra_sys_path,
            )
            self.starts += 1

    def evaluate(self, candidate: Candidate, input: Any, has_input: bool) -> EvalResult:
        self.prepare()
        assert self.worker is not None
        return self.worker.evaluate(candidate.id, dict(candidate.values), input, has_input, self._limits.timeout_s)

    def kill(self) -> None:
        with self._lock:
            self._killed = True
            if self.worker is not None:
                self.worker.kill()

    def close(self) -> None:
        with self._lock:
            if self.worker is not None:
                self.worker.close(graceful=not self._killed)
                self.worker = None


class LocalExecutor(Executor):
    """Evaluate candidates in ``workers`` sandboxed processes on this machine.

    Each worker is reused across evaluations and replaced after a timeout, crash, signal or memory
    failure. The sandbox options (timeout, memory cap, output tail, environment, sys.path) are one
    ``Limits``: pass ``limits=Limits(...)``, or any of its fields as a keyword (``timeout_s=10``).
    """

    def __init__(
        self,
        objective: Objective | Ref,
        workers: int | None = None,
        *,
        limits: Limits | None = None,
        **options: Any,
    ) -> None:
        super().__init__(objective, workers or default_workers())
        self._configure(limits, options)
        self._env = worker_env(self.limits)
        self._start_threads()

    def _open_slot(self, index: int) -> LocalSlot:
        return LocalSlot(self._payload, self.limits, self.memory_mb, self._env, list(self.limits.extra_sys_path))

    def worker_pids(self) -> list[int]:
        """Pids of the live worker processes (for monitoring and tests)."""
        return [s.worker.pid for s in self._slots if isinstance(s, LocalSlot) and s.worker and s.worker.alive]
