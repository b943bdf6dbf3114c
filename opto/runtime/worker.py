"""The sandbox worker process: runs the objective on candidates it receives over a pipe.

Started by ``WorkerProcess`` as ``python -u -c BOOTSTRAP <fd>`` in its own session (so the parent
can kill it with everything it spawned), with a scrubbed environment, stdout/stderr pointing at
files the parent reads, and an address-space cap. Everything user code does wrong is turned into a
failure record here (exception, invalid return, memory); what cannot be caught here (hang, hard
exit, signal) the parent detects from outside.
"""

from __future__ import annotations

import os
import pickle
import resource
import signal
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

from opto.records import to_jsonable
from opto.runtime.objective import InvalidReturn, Objective, build_program, normalize_return, resolve_ref

# Runs before opto is importable: it receives the run's sys.path first.
BOOTSTRAP = (
    "import sys\n"
    "from multiprocessing.connection import Connection\n"
    "conn = Connection(int(sys.argv[1]))\n"
    "init = conn.recv()\n"
    "sys.path[:0] = [p for p in init['sys_path'] if p not in sys.path]\n"
    "from opto.runtime.worker import serve\n"
    "serve(conn, init)\n"
)
_MESSAGE_LIMIT = 8000
_INTERNAL_FILES = (os.path.join("opto", "runtime", "worker.py"), os.path.join("opto", "runtime", "source.py"))


def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _guard_against_orphaning(libc: Any, parent_pid: int) -> None:
    """Die with the run process; adopt grandchildren so they can be killed after each evaluation."""
    if libc is not None:
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: the kernel kills us if the run dies
        libc.prctl(36, 1)  # PR_SET_CHILD_SUBREAPER: orphans of our children become ours

    def watch() -> None:  # portable fallback, and covers a parent that died before prctl
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch, name="opto-orphan-watch", daemon=True).start()


def _set_limits(memory_mb: int | None) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a segfaulting candidate leaves no core file
    if memory_mb:
        cap = memory_mb * 2**20
        try:
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        except (ValueError, OSError):  # e.g. macOS refuses RLIMIT_AS; the parent still enforces time
            pass


def _children() -> set[int]:
    """Direct children of this process (Linux /proc); empty where unavailable."""
    pids: set[int] = set()
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return pids
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/children") as f:
                pids.update(int(p) for p in f.read().split())
        except (OSError, ValueError):
            continue
    return pids


def _kill_strays(keep: set[int]) -> None:
    """Kill processes the evaluation left behind; being a subreaper, their orphans come to us."""
    for _ in range(20):
        strays = _children() - keep
        if not strays:
            return
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


def _tail(text: str, limit: int = _MESSAGE_LIMIT) -> str:
    return text if len(text) <= limit else "..." + text[-limit:]


def _format_exception(exc: BaseException) -> str:
    """The traceback from the objective down, without the sandbox's own frames."""
    tb_exc = traceback.TracebackException.from_exception(exc)
    for te in (tb_exc, tb_exc.__cause__, tb_exc.__context__):
        if te is not None:
            te.stack = traceback.StackSummary.from_list(
                [f for f in te.stack if not f.filename.endswith(_INTERNAL_FILES)]
            )
    return _tail("".join(tb_exc.format()).rstrip())


def _python_threads() -> set[int]:
    """Idents of the threads that run Python code (threading, _thread, or started from C)."""
    return set(sys._current_frames()) | {t.ident for t in threading.enumerate() if t.ident is not None}


def _os_threads() -> set[int]:
    """Thread ids of this process (Linux /proc); empty where unavailable."""
    try:
        return {int(tid) for tid in os.listdir("/proc/self/task")}
    except (OSError, ValueError):
        return set()


class _Leftovers:
    """What an evaluation left running that could act during the next one (e.g. call os._exit).

    Threads running Python code and pending timer signals count; a worker that has them is
    replaced. New threads that never run Python (a native library's pool, started on first use)
    are let be and join the baseline, or every later evaluation would cost a fresh worker.
    """

    _GRACE_S = 0.2  # a thread just started may not have run any Python yet

    def __init__(self) -> None:
        self.python = _python_threads()
        self.native = _os_threads()

    def find(self) -> str | None:
        deadline = time.monotonic() + self._GRACE_S
        while True:
            python = _python_threads()
            if python - self.python:
                return f"{len(python - self.python)} thread(s) still running"
            native = _os_threads()
            if not native - self.native or time.monotonic() > deadline:
                break
            time.sleep(0.005)
        self.python, self.native = python, native  # forget ended threads: their ids get reused
        for timer in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF):
            if signal.getitimer(timer) != (0.0, 0.0):
                return "a timer signal is pending (signal.alarm/setitimer)"
        return None


def _fail(reason: str, message: str, recycle: bool = False) -> dict[str, Any]:
    return {"ok": False, "reason": reason, "message": message, "recycle": recycle}


class _Runner:
    """Holds the objective (and program) for the life of the worker process."""

    def __init__(self, payload: bytes) -> None:
        self.setup_error: str | None = None
        self.fn: Any = None
        self.program: Any = None
        try:
            objective: Objective = pickle.loads(payload)
            self.fn = resolve_ref(objective.fn)
            if objective.program is not None:
                self.program = build_program(objective.program)
        except BaseException as exc:  # noqa: BLE001 - reported on every evaluation instead
            self.setup_error = "the objective could not be set up in the worker:\n" + _format_exception(exc)

    def run(self, task: dict[str, Any]) -> dict[str, Any]:
        if self.setup_error is not None:
            return _fail("exception", self.setup_error)
        try:
            if self.program is not None:
                self.program.set_parameter_values(dict(task["values"]))
                arg = self.program
            else:
                arg = dict(task["values"])
            value = self.fn(arg, task["input"]) if task["has_input"] else self.fn(arg)
        except MemoryError as exc:
            return _fail("memory", "MemoryError (the worker's memory cap was hit):\n" + _format_exception(exc), True)
        except SystemExit as exc:
            return _fail("crash", f"the objective called sys.exit({exc.code!r})")
        except BaseException as exc:  # noqa: BLE001 - every error in user code is a result
            return _fail("exception", _format_exception(exc))
        try:
            score, scores, feedback, artifacts = normalize_return(value)
        except InvalidReturn as exc:
            return _fail("invalid_return", str(exc))
        except Exception as exc:  # noqa: BLE001 - garbage whose methods raise
            return _fail("invalid_return", "the returned value could not be read:\n" + _format_exception(exc))
        try:  # numpy values become numbers and lists; NaN/inf are refused here rather than by the store
            artifacts = to_jsonable(artifacts, "artifacts")
        except TypeError as exc:  # its message names the entry
            return _fail("invalid_return", str(exc))
        except Exception as exc:  # noqa: BLE001 - e.g. a tolist() that raises, absurd nesting
            return _fail("invalid_return", "artifacts must be JSON data:\n" + _format_exception(exc))
        return {"ok": True, "score": score, "scores": scores, "feedback": feedback, "artifacts": artifacts}


def serve(conn: Connection, init: dict[str, Any]) -> None:
    """Main loop: one task in, one result out, until the parent sends None or goes away."""
    libc = _libc()
    _guard_against_orphaning(libc, init["parent_pid"])
    _set_limits(init.get("memory_mb"))
    runner = _Runner(init["objective"])
    keep = _children()  # processes the program started at setup are its own business
    leftovers = _Leftovers()  # likewise its threads
    cwd = init["cwd"]
    conn.send(("ready", os.getpid(), runner.setup_error))
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        task = pickle.loads(data)
        if task is None:
            return
        result = runner.run(task)
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                if stream is not None:
                    stream.flush()
            except Exception:  # noqa: BLE001 - user code may have closed or replaced it
                pass
        if libc is not None:
            libc.fflush(None)  # output printed by C extensions
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        _kill_strays(keep)
        try:
            if os.getcwd() != cwd:
                os.chdir(cwd)
        except OSError:  # the candidate removed or left the directory
            pass
        leftover = leftovers.find()
        if leftover is not None:  # the parent kills this worker once it has the result
            result["recycle"] = True
            try:
                print(f"[opto: {leftover} after the evaluation; the worker is replaced]", file=sys.stderr, flush=True)
            except Exception:  # noqa: BLE001 - the candidate may have closed stderr
                pass
        try:
            payload = pickle.dumps(result)
        except Exception as exc:  # noqa: BLE001 - e.g. a score object that cannot be pickled
            payload = pickle.dumps(_fail("invalid_return", f"the result cannot be sent back: {exc!r}",
                                         result.get("recycle", False)))
        conn.send_bytes(payload)
