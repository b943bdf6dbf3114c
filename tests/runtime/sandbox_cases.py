"""Misbehaving candidates and what the sandbox must report for each (shared by local and Ray tests)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable

import psutil

from opto.runtime import Candidate, EvalResult

TIMEOUT_S = 2.0
MEMORY_MB = 1024
SLEEP_MARK = "987"
HANG_WRITING_PID = ("def f():\n    import os\n    with open('PID_FILE', 'w') as fh:\n        fh.write(str(os.getpid()))\n"
                    "    while True:\n        pass")  # `sleep 987`: easy to find if a child survives


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    code: str
    reason: str | None  # None: the evaluation succeeds
    check: Callable[[EvalResult], None] | None = None


def _in_time(r: EvalResult) -> None:
    assert TIMEOUT_S <= r.duration_s <= TIMEOUT_S + 1.0, r.duration_s


def _soon_after_closing(r: EvalResult) -> None:
    """The pipe closed at once: a worker that runs on is killed after the 1 s exit grace, not at the limit."""
    assert r.duration_s <= 1.0 + 0.5 < TIMEOUT_S, r.duration_s
    assert "closed its pipe" in r.failure.message and "os.closerange" in r.failure.message, r.failure.message


def _child_gone(r: EvalResult) -> None:
    pid = r.artifacts["child"]
    deadline = time.time() + 2
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        assert time.time() < deadline, f"child {pid} outlived its evaluation"
        time.sleep(0.05)


def _has(*texts: str) -> Callable[[EvalResult], None]:
    def check(r: EvalResult) -> None:
        blob = (r.failure.message if r.failure else "") + r.stdout_tail + r.stderr_tail
        for text in texts:
            assert text in blob, f"{text!r} not in {blob[-600:]!r}"

    return check


def _numpy_converted(r: EvalResult) -> None:
    assert r.score == 1.5 and r.artifacts == {"a": [0, 1, 2], "b": 2.5, "m": [[1, 0], [0, 1]]}, r.artifacts


def _big_print(r: EvalResult) -> None:
    assert r.score == 1.0
    assert "earlier bytes dropped" in r.stdout_tail
    assert 16_000 <= len(r.stdout_tail) <= 17_000  # the default 16 KiB tail plus its header


CASES = [
    Case("ok", "def f():\n    return 2.5", None),
    Case("loop_forever", "def f():\n    while True:\n        pass", "timeout", _in_time),
    Case("sleep_forever", "def f():\n    import time\n    time.sleep(10_000)", "timeout", _in_time),
    Case("allocate_10gb", "def f():\n    x = bytearray(10 * 2**30)\n    return len(x)", "memory", _has("MemoryError")),
    Case("os_exit", "def f():\n    import os\n    print('about to exit', flush=True)\n    os._exit(3)", "crash",
         _has("code 3", "about to exit")),
    Case("close_fds_and_loop", "def f():\n    import os\n    os.closerange(0, 65536)\n    while True:\n        pass",
         "crash", _soon_after_closing),
    Case("close_fds_near_the_limit", f"def f():\n    import os, time\n    time.sleep({TIMEOUT_S - 0.5})\n"
         "    os.closerange(0, 65536)\n    while True:\n        pass", "timeout", _in_time),
    Case("close_fds_and_exit", "def f():\n    import os\n    os.closerange(0, 65536)\n    os._exit(5)", "crash",
         _has("code 5")),
    Case("sys_exit", "def f():\n    raise SystemExit(4)", "crash", _has("sys.exit(4)")),
    Case("raise", "def f():\n    raise ValueError('boom from candidate')", "exception",
         _has("ValueError: boom from candidate", "<candidate-")),
    Case("syntax_error", "def f(:\n    return 1", "exception", _has("does not compile", "line 1")),
    Case("garbage", "def f():\n    return object()", "invalid_return", _has("must be a number")),
    Case("nan", "def f():\n    return float('nan')", "invalid_return", _has("NaN")),
    Case("minus_inf", "def f():\n    return -float('inf')", "invalid_return", _has("score is infinite (-inf)")),
    Case("nan_artifact", "def f():\n    return {'score': 1, 'artifacts': {'loss': float('nan')}}", "invalid_return",
         _has("artifacts['loss'] is nan")),
    Case("numpy_artifacts", "def f():\n    import numpy as np\n    return {'score': np.float32(1.5), "
         "'artifacts': {'a': np.arange(3), 'b': np.float32(2.5), 'm': np.eye(2, dtype=int)}}", None, _numpy_converted),
    Case("bad_dict", "def f():\n    return {'colour': 'red'}", "invalid_return", _has("keys among")),
    Case("segfault", "def f():\n    import ctypes\n    ctypes.string_at(0)", "signal", _has("SIGSEGV")),
    Case("child_sleeps", f"def f():\n    import subprocess\n    p = subprocess.Popen(['sleep', '{SLEEP_MARK}'])\n"
         "    return {'score': 1.0, 'artifacts': {'child': p.pid}}", None, _child_gone),
    Case("child_sleeps_and_hang", f"def f():\n    import subprocess, time\n    subprocess.Popen(['sleep', '{SLEEP_MARK}'])\n"
         "    time.sleep(10_000)", "timeout", _in_time),
    Case("daemon_child_and_hang", f"def f():\n    import subprocess\n    subprocess.Popen(['sleep', '{SLEEP_MARK}'], "
         "start_new_session=True)\n    while True:\n        pass", "timeout", _in_time),
]

# Writing 100 MB through the captured stdout takes seconds on a busy 2-core machine, so this case runs
# in its own pool with a generous limit (BIG_OUTPUT_TIMEOUT_S) instead of the 2 s one above.
BIG_OUTPUT_TIMEOUT_S = 60.0
BIG_OUTPUT = Case("print_100mb", "def f():\n    print('x' * 100_000_000)\n    return 1.0", None, _big_print)


def candidate(case: Case) -> Candidate:
    return Candidate({"code": case.code}, id=case.name)


def check_result(case: Case, r: EvalResult) -> None:
    assert r.candidate_id == case.name
    if case.reason is None:
        assert r.ok and r.failure is None, r.failure
    else:
        assert not r.ok and r.failure is not None, r
        assert r.failure.reason == case.reason, (r.failure.reason, r.failure.message[-800:])
        assert r.score is None
    if case.check is not None:
        case.check(r)


def _is_sandbox(p: psutil.Process) -> bool:
    """A sandbox worker, or the `sleep 987` child a candidate started."""
    try:
        cmd = " ".join(p.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    return "from opto.runtime.worker import serve" in cmd or cmd == f"sleep {SLEEP_MARK}"


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE  # is_running() guards pid reuse
    except psutil.NoSuchProcess:
        return False


def stray_processes(since: float = 0.0) -> list[psutil.Process]:
    """Sandbox workers or candidate children started after ``since`` and still alive."""
    found = []
    for p in psutil.process_iter(["status", "create_time"]):
        if p.info["status"] == psutil.STATUS_ZOMBIE or p.info["create_time"] < since - 1:
            continue
        if _is_sandbox(p):
            found.append(p)
    return found


def wait_no_strays(since: float, timeout_s: float = 5.0) -> list[psutil.Process]:
    deadline = time.time() + timeout_s
    while (strays := stray_processes(since)) and time.time() < deadline:
        time.sleep(0.1)
    return strays


def sandbox_processes_under(pids: Iterable[int]) -> list[psutil.Process]:
    """The sandbox workers and candidate children among these processes and their descendants."""
    found: dict[int, psutil.Process] = {}
    for pid in pids:
        try:
            root = psutil.Process(pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        found.update((p.pid, p) for p in tree if _is_sandbox(p))
    return list(found.values())


def wait_gone(procs: Iterable[psutil.Process], timeout_s: float = 5.0) -> list[psutil.Process]:
    """Those of ``procs`` still alive after waiting up to timeout_s for them to die."""
    deadline = time.time() + timeout_s
    while (alive := [p for p in procs if _alive(p)]) and time.time() < deadline:
        time.sleep(0.1)
    return alive
