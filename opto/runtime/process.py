"""Parent side of one sandbox worker: start it, hand it a candidate, watch the clock, kill it.

The worker runs in its own session, so killing its process group also kills whatever the candidate
spawned. Its stdout/stderr go to unlinked temp files opened O_APPEND: the parent truncates them
before each evaluation and reads only the tail afterwards, so a candidate that prints 100 MB costs
neither memory nor (thanks to periodic truncation while it runs) unbounded disk.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import time
from multiprocessing import Pipe
from typing import Any

from opto.records import EvalResult
from opto.runtime.worker import BOOTSTRAP

_POLL_S = 0.25
_EXIT_GRACE_S = 1.0  # after the pipe closes: how long a worker that is exiting gets to report its exit code
_SPILL_BYTES = 8 * 2**20  # truncate a capture file mid-evaluation once it grows past this


class WorkerStartError(RuntimeError):
    """A worker process could not start (broken interpreter, opto not importable, ...)."""


class _Capture:
    """One captured stream: an unlinked O_APPEND temp file plus what was spilled from it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.fd, path = tempfile.mkstemp(prefix="opto-out-")
        os.unlink(path)
        fcntl.fcntl(self.fd, fcntl.F_SETFL, fcntl.fcntl(self.fd, fcntl.F_GETFL) | os.O_APPEND)
        self.saved = b""
        self.dropped = 0

    def reset(self) -> None:
        os.ftruncate(self.fd, 0)
        self.saved, self.dropped = b"", 0

    def spill(self) -> None:
        """Keep the tail in memory and empty the file, so a print loop cannot fill the disk."""
        size = os.fstat(self.fd).st_size
        if size > max(_SPILL_BYTES, 4 * self.limit):
            self.saved = os.pread(self.fd, self.limit, size - self.limit) if self.limit else b""
            self.dropped += size - len(self.saved)
            os.ftruncate(self.fd, 0)

    def tail(self) -> str:
        size = os.fstat(self.fd).st_size
        start = max(0, size - self.limit)
        data = (self.saved + os.pread(self.fd, size - start, start))[-self.limit :] if self.limit else b""
        total = self.dropped + len(self.saved) + size
        text = data.decode("utf-8", "replace")
        if total > len(data):
            text = f"[... {total - len(data)} earlier bytes dropped ...]\n" + text
        return text

    def close(self) -> None:
        os.close(self.fd)


class WorkerProcess:
    """A live sandbox worker; after a timeout, crash or signal it is dead and must be replaced."""

    def __init__(
        self,
        objective_payload: bytes,
        *,
        env: dict[str, str],
        memory_mb: int | None,
        output_bytes: int,
        startup_timeout_s: float = 120.0,
        extra_sys_path: list[str] | None = None,
    ) -> None:
        self.stdout = _Capture(output_bytes)
        self.stderr = _Capture(output_bytes)
        parent_conn, child_conn = Pipe()
        self.conn = parent_conn
        cwd = os.getcwd()
        sys_path = [os.path.abspath(p) if p else cwd for p in [*(extra_sys_path or []), *sys.path]]
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-c", BOOTSTRAP, str(child_conn.fileno())],
            pass_fds=(child_conn.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=self.stdout.fd,
            stderr=self.stderr.fd,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        child_conn.close()
        self.pid = self.proc.pid
        self.alive = True
        self._started_at: float | None = None
        init = {
            "sys_path": [p for p in dict.fromkeys(sys_path) if os.path.isdir(p)],
            "objective": objective_payload,
            "memory_mb": memory_mb,
            "parent_pid": os.getpid(),
            "cwd": cwd,
        }
        try:
            self.conn.send(init)
            if not self.conn.poll(startup_timeout_s):
                raise WorkerStartError(f"the worker did not start within {startup_timeout_s:.0f} s")
            _, _, self.setup_error = self.conn.recv()
        except (EOFError, OSError, WorkerStartError) as exc:
            self.kill()
            out = (self.stdout.tail() + self.stderr.tail())[-4000:]
            self.close()
            raise WorkerStartError(f"sandbox worker failed to start ({exc}); its output:\n{out}") from None

    def evaluate(self, candidate_id: str, values: Any, input: Any, has_input: bool, timeout_s: float) -> EvalResult:
        """Run one evaluation; every outcome, including the worker dying, is an EvalResult."""
        task = pickle.dumps({"id": candidate_id, "values": values, "input": input, "has_input": has_input})
        self.stdout.reset()
        self.stderr.reset()
        self._started_at = time.time()
        start = time.perf_counter()
        deadline = start + timeout_s
        try:
            self.conn.send_bytes(task)
            while True:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    self.kill()
                    return self._failed(
                        candidate_id, "timeout",
                        f"exceeded the {timeout_s:g} s wall-clock limit; the worker and its children were killed",
                        start,
                    )
                if self.conn.poll(min(remaining, _POLL_S)):
                    reply = pickle.loads(self.conn.recv_bytes())
                    break
                self.stdout.spill()
                self.stderr.spill()
                if self.proc.poll() is not None:
                    raise EOFError
        except (EOFError, OSError):
            return self._died(candidate_id, start, deadline, timeout_s)
        duration = time.perf_counter() - start
        if reply.get("recycle"):  # hit its memory cap, or an evaluation left threads or timers behind
            self.kill()
        if not reply["ok"]:
            return self._failed(candidate_id, reply["reason"], reply["message"], start)
        return EvalResult(
            candidate_id=candidate_id,
            ok=True,
            score=reply["score"],
            scores=reply["scores"],
            feedback=reply["feedback"],
            artifacts=reply["artifacts"],
            duration_s=duration,
            started_at=self._started_at,
            stdout_tail=self.stdout.tail(),
            stderr_tail=self.stderr.tail(),
        )

    def _died(self, candidate_id: str, start: float, deadline: float, timeout_s: float) -> EvalResult:
        """The pipe closed: the worker exited, or its code closed the pipe (os.closerange) and runs on.

        An exiting worker is given a moment to report its exit code; the wait never runs past the
        evaluation's own deadline, so the result comes within the wall-clock limit either way.
        """
        grace_end = min(deadline, time.perf_counter() + _EXIT_GRACE_S)
        code = self.proc.poll()
        while code is None and (left := grace_end - time.perf_counter()) > 0:
            try:
                code = self.proc.wait(timeout=min(left, _POLL_S))
            except subprocess.TimeoutExpired:
                self.stdout.spill()
                self.stderr.spill()
        self.kill()
        if code is None and time.perf_counter() >= deadline:
            return self._failed(
                candidate_id, "timeout",
                f"exceeded the {timeout_s:g} s wall-clock limit (after closing its pipe to the run); "
                "the worker and its children were killed",
                start,
            )
        if code is None:
            return self._failed(
                candidate_id, "crash",
                "the worker closed its pipe to the run but kept running (did the candidate close file "
                "descriptors it does not own, e.g. os.closerange?); it was killed",
                start,
            )
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            hint = " (sent by the OOM killer when the machine runs out of memory)" if -code == signal.SIGKILL else ""
            return self._failed(candidate_id, "signal", f"the worker was killed by {name}{hint}", start)
        return self._failed(candidate_id, "crash", f"the worker exited with code {code} (e.g. os._exit)", start)

    def _failed(self, candidate_id: str, reason: Any, message: str, start: float) -> EvalResult:
        return EvalResult.failed(
            candidate_id, reason, message,
            duration_s=time.perf_counter() - start,
            started_at=self._started_at,
            stdout_tail=self.stdout.tail(),
            stderr_tail=self.stderr.tail(),
        )

    def kill(self) -> None:
        """Kill the worker's whole process group (and any descendant that left it); reap it."""
        self.alive = False
        for pid in _descendants(self.pid):
            _kill_group_of(pid)
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def close(self, graceful: bool = False) -> None:
        """Stop the worker (politely first if graceful) and release its files."""
        if self.alive and graceful:
            try:
                self.conn.send_bytes(pickle.dumps(None))
                self.proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()
        self.conn.close()
        self.stdout.close()
        self.stderr.close()


def _descendants(pid: int) -> list[int]:
    """All descendants of pid (Linux /proc children lists), deepest last."""
    found: list[int] = []
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{current}/task/{tid}/children") as f:
                    kids = [int(p) for p in f.read().split()]
            except (OSError, ValueError):
                continue
            found.extend(kids)
            stack.extend(kids)
    return found


def _kill_group_of(pid: int) -> None:
    """Kill a descendant and, if it started its own session/group, that group too."""
    try:
        pgid = os.getpgid(pid)
        if pgid == pid:
            os.killpg(pgid, signal.SIGKILL)
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
