"""The local pool: batch and streaming submission, reuse, inputs, environment, shutdown."""

from __future__ import annotations

import concurrent.futures as cf
import os
import time

import psutil
import pytest
import sandbox_objectives
from sandbox_cases import HANG_WRITING_PID, wait_no_strays

from opto.runtime import (
    Candidate,
    ExecutorShutdown,
    Limits,
    LocalExecutor,
    Objective,
    WorkerStartError,
    make_executor,
)

pytestmark = pytest.mark.integration
PID_CODE = "def f():\n    import os\n    return {'score': 1.0, 'artifacts': {'pid': os.getpid()}}"


@pytest.fixture(scope="module")
def pool():
    started = time.time()
    ex = LocalExecutor("sandbox_objectives:run_code", workers=2, timeout_s=10)
    yield ex
    ex.shutdown()
    assert wait_no_strays(started) == []


def test_map_returns_results_in_order_with_scores_and_feedback():
    with make_executor("local", "sandbox_objectives:square_error", workers=2) as ex:
        results = ex.map([Candidate({"x": x}, id=f"c{x}") for x in (1, 3, 6)])
    assert [r.candidate_id for r in results] == ["c1", "c3", "c6"]
    assert [r.score for r in results] == [-4.0, 0.0, -9.0]
    assert results[1].scores == {"score": 0.0} and "x=3.0" in results[1].feedback


def test_as_completed_streams_results_as_they_finish(pool):
    slow = Candidate({"code": "def f():\n    import time\n    time.sleep(0.8)\n    return 1"}, id="slow")
    fast = [Candidate({"code": "def f():\n    return 2"}, id=f"fast{i}") for i in range(3)]
    order = [r.candidate_id for r in pool.as_completed([slow, *fast])]
    assert order[-1] == "slow" and sorted(order[:-1]) == ["fast0", "fast1", "fast2"]


def test_workers_are_reused_across_evaluations(pool):
    results = pool.map([Candidate({"code": PID_CODE}) for _ in range(20)])
    pids = {r.artifacts["pid"] for r in results}
    assert len(pids) <= 2 and os.getpid() not in pids


def test_two_workers_run_in_parallel(pool):
    nap = Candidate({"code": "def f():\n    import time\n    time.sleep(1.0)\n    return 1"})
    pool.map([Candidate({"code": PID_CODE}) for _ in range(2)])  # both workers warm
    t0 = time.perf_counter()
    a, b = pool.map([nap, Candidate(nap.values)])
    assert time.perf_counter() - t0 < 1.9  # one worker after the other takes over 2 s
    assert a.started_at is not None and b.started_at is not None
    assert max(a.started_at, b.started_at) < min(a.started_at + a.duration_s, b.started_at + b.duration_s)  # overlap


def test_task_input_is_passed_as_second_argument():
    with LocalExecutor(sandbox_objectives.run_code_on, workers=1) as ex:
        result = ex.submit(Candidate({"code": "def f(x):\n    return x * 2"}), input=21).result()
    assert result.ok and result.score == 42.0


def test_output_is_captured_per_evaluation_including_c_level_writes(pool):
    code = "def f():\n    import os, sys\n    print('to stdout')\n    print('to stderr', file=sys.stderr)\n" \
           "    os.write(2, b'raw fd write\\n')\n    return 1"
    first = pool.submit(Candidate({"code": code})).result()
    assert first.stdout_tail == "to stdout\n"
    assert "to stderr" in first.stderr_tail and "raw fd write" in first.stderr_tail
    second = pool.submit(Candidate({"code": "def f():\n    return 1"})).result()
    assert second.stdout_tail == "" and second.stderr_tail == ""


def test_output_tail_limit_is_configurable():
    code = "def f():\n    print('a' * 5000 + 'END')\n    return 1"
    with LocalExecutor("sandbox_objectives:run_code", workers=1) as ex:  # default tail: 16 KiB
        full = ex.submit(Candidate({"code": code})).result()
    assert full.stdout_tail.startswith("aaa") and full.stdout_tail.endswith("END\n")
    with LocalExecutor("sandbox_objectives:run_code", workers=1, limits=Limits(output_bytes=100)) as ex:
        short = ex.submit(Candidate({"code": code})).result()
    assert short.stdout_tail.endswith("END\n") and "earlier bytes dropped" in short.stdout_tail
    assert len(short.stdout_tail) < 200


def test_secrets_are_scrubbed_from_the_worker_environment(monkeypatch):
    names = ["OPENAI_API_KEY", "HF_TOKEN", "MY_SERVICE_SECRET", "DB_PASSWORD", "OPTO_PLAIN_SETTING", "TOKENIZERS_PARALLELISM",
             "PGPASSWORD", "MYSQL_PWD", "GITHUB_PAT", "MYSECRET", "OPTO_TEST_DB_URL"]
    for name in names:
        monkeypatch.setenv(name, "value-" + name)
    monkeypatch.setenv("OPTO_TEST_DB_URL", "postgres://app:hunter2@db/main")
    cand = Candidate({"names": names})
    with LocalExecutor(sandbox_objectives.env_probe, workers=1) as ex:
        seen = ex.submit(cand).result().artifacts
    assert {k for k, v in seen.items() if v} == {"OPTO_PLAIN_SETTING", "TOKENIZERS_PARALLELISM"}
    with LocalExecutor(sandbox_objectives.env_probe, workers=1, scrub_env=False, env={"EXTRA": "1"}) as ex:
        seen = ex.submit(Candidate({"names": [*names, "EXTRA"]})).result().artifacts
    assert all(seen.values())


def test_shutdown_without_wait_kills_running_and_cancels_queued(tmp_path):
    ex = LocalExecutor("sandbox_objectives:run_code", workers=1, timeout_s=60)
    pid_file = tmp_path / "pid"
    hang = ex.submit(Candidate({"code": HANG_WRITING_PID.replace("PID_FILE", str(pid_file))}))
    queued = ex.submit(Candidate({"code": "def f():\n    return 1"}))
    while not pid_file.exists() or not pid_file.read_text():
        time.sleep(0.05)
    worker = psutil.Process(int(pid_file.read_text()))
    t0 = time.perf_counter()
    ex.shutdown(wait=False)
    assert time.perf_counter() - t0 < 5
    with pytest.raises(ExecutorShutdown):
        hang.result(timeout=5)
    assert queued.cancelled()
    with pytest.raises(ExecutorShutdown):
        ex.submit(Candidate({"code": ""}))
    worker.wait(timeout=10)


def test_leaving_as_completed_early_cancels_the_rest(pool, tmp_path):
    log = tmp_path / "ran"
    code = f"def f():\n    import time\n    time.sleep(0.3)\n    open({str(log)!r}, 'a').write('x')\n    return 1"
    for _ in pool.as_completed([Candidate({"code": code}) for _ in range(8)]):
        break
    after = pool.map([Candidate({"code": "def f():\n    return 1"})])  # served right after the running ones
    assert after[0].ok
    assert len(log.read_text()) <= 4  # the first, the one on the other worker, at most one picked up in between


def test_objective_that_cannot_be_set_up_fails_each_evaluation_clearly():
    bad = Objective(sandbox_objectives.trivial, program="sandbox_objectives:not_a_program")
    with LocalExecutor(bad, workers=1) as ex:
        r = ex.submit(Candidate({})).result()
    assert r.failure is not None and r.failure.reason == "exception"
    assert "could not be set up" in r.failure.message and "set_parameter_values" in r.failure.message


def test_bad_objective_reference_is_one_clear_error():
    with pytest.raises(ValueError, match="no_such_module"):
        LocalExecutor("no_such_module:fn", workers=1)
    with pytest.raises(ValueError, match="has no attribute 'nope'"):
        LocalExecutor("sandbox_objectives:nope", workers=1)
    with pytest.raises(ValueError, match="module:attribute"):
        LocalExecutor("just_a_name", workers=1)
    with pytest.raises(ValueError, match="'local' or 'ray'"):
        make_executor("dask", "sandbox_objectives:trivial")


def test_submit_needs_a_candidate(pool):
    with pytest.raises(TypeError, match="Candidate"):
        pool.submit({"code": "def f(): return 1"})  # type: ignore[arg-type]


def test_futures_work_with_concurrent_futures(pool):
    futures = [pool.submit(Candidate({"code": f"def f():\n    return {i}"})) for i in range(4)]
    done, _ = cf.wait(futures, timeout=30)
    assert sorted(f.result().score for f in done) == [0.0, 1.0, 2.0, 3.0]


def test_a_worker_that_cannot_start_fails_the_future_with_its_output(monkeypatch):
    import opto.runtime.process as process

    monkeypatch.setattr(process.sys, "executable", "/bin/false")
    with LocalExecutor("sandbox_objectives:trivial", workers=1) as ex:
        future = ex.submit(Candidate({}))
        with pytest.raises(WorkerStartError, match="failed to start"):
            future.result(timeout=30)
    monkeypatch.undo()


LEAVE_BEHIND = {
    "thread": "    import threading\n    threading.Thread(target=lambda: (time.sleep(0.5), os._exit(7))).start()",
    "raw_thread": "    import _thread\n    _thread.start_new_thread(lambda: (time.sleep(0.5), os._exit(7)), ())",
    "alarm": "    import signal\n    signal.alarm(1)",
}


@pytest.mark.parametrize("kind", sorted(LEAVE_BEHIND))
def test_what_a_candidate_leaves_running_cannot_hit_the_next_one(kind):
    """A thread or timer left by one evaluation would fail the next one on a reused worker."""
    leave = Candidate({"code": "def f():\n    import os, time\n" + LEAVE_BEHIND[kind] + "\n"
                       "    return {'score': 1.0, 'artifacts': {'pid': os.getpid()}}"})
    wait = Candidate({"code": "def f():\n    import os, time\n    time.sleep(1.5)\n"
                      "    return {'score': 2.0, 'artifacts': {'pid': os.getpid()}}"})
    with LocalExecutor("sandbox_objectives:run_code", workers=1, timeout_s=30) as ex:
        first, second = ex.map([leave, wait])
    assert first.ok and first.score == 1.0
    assert second.ok and second.score == 2.0, second.failure
    assert second.artifacts["pid"] != first.artifacts["pid"], "the worker must be replaced"
    assert "the worker is replaced" in first.stderr_tail


def test_a_worker_is_kept_when_an_evaluation_leaves_nothing_running():
    code = "def f():\n    import os, threading\n    t = threading.Thread(target=print)\n    t.start()\n    t.join()\n" \
           "    return {'score': 1.0, 'artifacts': {'pid': os.getpid()}}"
    with LocalExecutor("sandbox_objectives:run_code", workers=1) as ex:
        results = ex.map([Candidate({"code": code}) for _ in range(3)])
    assert len({r.artifacts["pid"] for r in results}) == 1


NATIVE_THREAD = """def f():
    import ctypes, os
    libc = ctypes.CDLL(None)
    tid = ctypes.c_ulong()
    # a thread that never runs Python, like a native library's pool: sleep(1) as its start routine
    assert libc.pthread_create(ctypes.byref(tid), None, libc.sleep, ctypes.c_void_p(1)) == 0
    return {'score': 1.0, 'artifacts': {'pid': os.getpid()}}"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="thread ids come from /proc")
def test_native_threads_do_not_cost_a_fresh_worker():
    with LocalExecutor("sandbox_objectives:run_code", workers=1) as ex:
        results = ex.map([Candidate({"code": NATIVE_THREAD}), Candidate({"code": PID_CODE})])
    assert all(r.ok for r in results), results
    assert results[0].artifacts["pid"] == results[1].artifacts["pid"]
