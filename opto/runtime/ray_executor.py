"""RayExecutor: the local sandbox, one per Ray actor, so a search moves to a cluster unchanged.

Each actor holds one sandbox worker process (the same ``LocalSlot`` the local executor uses), so
timeouts, memory caps, output capture, environment scrubbing and failure reasons are identical
by construction; Ray only places the actors and carries candidates and results. An actor that
dies (its node lost) turns the evaluation into a "crash" failure and is replaced.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Mapping
from typing import Any

from opto.records import Candidate, EvalResult
from opto.runtime.executor import Executor
from opto.runtime.limits import Limits, worker_env
from opto.runtime.local import LocalSlot
from opto.runtime.objective import Objective, Ref

_GRACE_S = 30.0  # how much longer than the sandbox timeout the driver waits for an actor


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ImportError('RayExecutor needs Ray: from the opto clone run pip install -e ".[ray]" '
                          '(or bash scripts/setup.sh --ray)') from None
    return ray


class SandboxActor:
    """Ray actor body: one sandbox worker on whichever node Ray placed the actor."""

    def __init__(self, payload: bytes, limits: Limits, memory_mb: int | None, extra_sys_path: list[str]) -> None:
        self.slot = LocalSlot(payload, limits, memory_mb, worker_env(limits), extra_sys_path)

    def ready(self) -> int:
        return os.getpid()

    def evaluate(self, candidate: Candidate, input: Any, has_input: bool) -> tuple[EvalResult, bool]:
        """The result, and whether the worker is still alive (else the driver asks for prepare())."""
        result = self.slot.evaluate(candidate, input, has_input)
        worker = self.slot.worker
        return result, worker is not None and worker.alive

    def prepare(self) -> None:
        """Replace a killed worker; called after the result went back, so that is not delayed."""
        self.slot.prepare()

    def worker_pid(self) -> int | None:
        worker = self.slot.worker
        return worker.pid if worker is not None and worker.alive else None

    def close(self) -> None:
        self.slot.close()


class RaySlot:
    """The driver-side handle of one actor; recreated when the actor dies."""

    def __init__(self, executor: RayExecutor) -> None:
        self._ex = executor
        self.actor: Any = None
        self._worker_alive = True
        self.prepare()

    def _start_actor(self) -> None:
        ex = self._ex
        self.actor = ex._actor_cls.options(**ex._actor_options).remote(ex._payload, ex.limits, ex.memory_mb,
                                                                       ex._sys_path)
        ex._ray.get(self.actor.ready.remote(), timeout=ex._startup_timeout_s)
        self._worker_alive = True

    def prepare(self) -> None:
        if self.actor is None:
            self._start_actor()
        elif not self._worker_alive:  # not waited for: actor calls run in order, so the next evaluation
            self.actor.prepare.remote()  # starts after it (and retries the start itself if it failed)
            self._worker_alive = True

    def evaluate(self, candidate: Candidate, input: Any, has_input: bool) -> EvalResult:
        ray = self._ex._ray
        if self.actor is None:
            self._start_actor()
        start, started_at = time.perf_counter(), time.time()
        ref = self.actor.evaluate.remote(candidate, input, has_input)
        timeout = self._ex.limits.timeout_s
        try:
            result, self._worker_alive = ray.get(ref, timeout=timeout + _GRACE_S)
            return dataclasses.replace(result, duration_s=time.perf_counter() - start)
        except ray.exceptions.GetTimeoutError:
            self.kill()
            return EvalResult.failed(candidate.id, "timeout", f"the Ray actor did not answer within {timeout + _GRACE_S:g} s "
                                     "and was killed", duration_s=timeout + _GRACE_S, started_at=started_at)
        except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError) as exc:
            self.actor = None
            return EvalResult.failed(candidate.id, "crash", f"the Ray actor running the sandbox died: {exc}",
                                     duration_s=time.perf_counter() - start, started_at=started_at)

    def kill(self) -> None:
        if self.actor is not None:
            self._ex._ray.kill(self.actor)
            self.actor = None

    def close(self) -> None:
        if self.actor is not None:
            try:
                self._ex._ray.get(self.actor.close.remote(), timeout=10)
            except Exception:  # noqa: BLE001 - the actor is killed below either way
                pass
            self.kill()


class RayExecutor(Executor):
    """Evaluate candidates in ``workers`` Ray actors, each with one sandbox worker process.

    Same interface, sandbox options (``limits=Limits(...)`` or its fields as keywords) and failure
    semantics as LocalExecutor. Connects to Ray with
    ``ray.init(address, **init_kwargs)`` unless Ray is already initialized (a Ray it started itself
    is shut down by ``shutdown()``, leaving the process as it found it); ``workers`` defaults
    to the cluster's CPU count; ``actor_options`` go to ``.options()`` (e.g. resources, runtime_env).
    """

    def __init__(
        self,
        objective: Objective | Ref,
        workers: int | None = None,
        *,
        limits: Limits | None = None,
        address: str | None = None,
        init_kwargs: Mapping[str, Any] | None = None,
        actor_options: Mapping[str, Any] | None = None,
        startup_timeout_s: float = 120.0,
        **options: Any,
    ) -> None:
        Limits.merged(limits, **options)  # bad options fail before Ray starts
        ray = self._ray = _ray()
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            ray.init(address=address, **dict(init_kwargs or {}))
        if workers is None:
            workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        super().__init__(objective, workers)
        self._configure(limits, options)
        self._sys_path = [os.path.abspath(p) if p else os.getcwd() for p in [*self.limits.extra_sys_path, *sys.path]]
        self._actor_cls = ray.remote(SandboxActor)
        self._actor_options = {"num_cpus": 1, "max_restarts": 0, **dict(actor_options or {})}
        self._startup_timeout_s = startup_timeout_s
        self._start_threads()

    def _open_slot(self, index: int) -> RaySlot:
        return RaySlot(self)

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)
        if self._owns_ray and self._ray.is_initialized():
            self._owns_ray = False
            self._ray.shutdown()

    def worker_pids(self) -> list[int]:
        """Pids of the sandbox worker processes (on their nodes)."""
        actors = [s.actor for s in self._slots if isinstance(s, RaySlot) and s.actor is not None]
        return [p for p in self._ray.get([a.worker_pid.remote() for a in actors]) if p is not None]
