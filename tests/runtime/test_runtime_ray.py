"""The failure suite over RayExecutor: same interface, same failure semantics, on a local Ray."""

from __future__ import annotations

import time

import psutil
import pytest
from sandbox_cases import (
    BIG_OUTPUT,
    BIG_OUTPUT_TIMEOUT_S,
    CASES,
    HANG_WRITING_PID,
    MEMORY_MB,
    TIMEOUT_S,
    candidate,
    check_result,
    wait_no_strays,
)
from test_runtime_resume import check_resumed, kill_mid_batch

from opto.evaluate import evaluate_pending, run_batch
from opto.runtime import Candidate, ExecutorShutdown, Limits, make_executor
from opto.runtime.limits import default_memory_mb
from opto.store import RunStore

ray = pytest.importorskip("ray", reason="the [ray] extra is not installed")
pytestmark = [pytest.mark.ray, pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def ray_cluster():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def pool(ray_cluster):
    started = time.time()
    ex = make_executor("ray", "sandbox_objectives:run_code", workers=2, timeout_s=TIMEOUT_S, memory_mb=MEMORY_MB)
    yield ex
    ex.shutdown()
    assert wait_no_strays(started) == []


def test_each_misbehaviour_is_reported_with_its_reason(pool):
    """All cases in one batch (Ray start-up is the slow part), then the pool still serves."""
    results = pool.map([candidate(c) for c in CASES])
    for case, result in zip(CASES, results, strict=True):
        check_result(case, result)
    again = pool.map([Candidate({"code": f"def f():\n    return {i}"}) for i in range(4)])
    assert [r.score for r in again] == [0.0, 1.0, 2.0, 3.0]


def test_a_100mb_print_keeps_only_the_tail(ray_cluster):
    # num_cpus=0: the module's pool holds both CPUs of the test cluster
    with make_executor("ray", "sandbox_objectives:run_code", workers=1, timeout_s=BIG_OUTPUT_TIMEOUT_S,
                       memory_mb=MEMORY_MB, actor_options={"num_cpus": 0}) as ex:
        check_result(BIG_OUTPUT, ex.submit(candidate(BIG_OUTPUT)).result(timeout=120))


@pytest.mark.parametrize("name", ["loop_forever", "os_exit", "segfault", "allocate_10gb"])
def test_single_failures_then_pool_keeps_serving(pool, name):
    case = next(c for c in CASES if c.name == name)
    check_result(case, pool.submit(candidate(case)).result(timeout=60))
    assert pool.submit(Candidate({"code": "def f():\n    return 7"})).result(timeout=60).score == 7.0


def test_timeout_within_a_second_and_streaming(pool):
    hang = Candidate({"code": "def f():\n    while True:\n        pass"}, id="hang")
    quick = [Candidate({"code": "def f():\n    return 1"}, id=f"q{i}") for i in range(3)]
    received = [(r, time.time()) for r in pool.as_completed([hang, *quick])]
    last, at = received[-1]
    assert last.candidate_id == "hang" and last.started_at is not None
    assert TIMEOUT_S <= at - last.started_at <= TIMEOUT_S + 1.0  # from when the actor started it


def test_workers_are_sandbox_processes_reused_across_evaluations(pool):
    code = "def f():\n    import os\n    return {'score': 1.0, 'artifacts': {'pid': os.getpid()}}"
    results = pool.map([Candidate({"code": code}) for _ in range(12)])
    pids = {r.artifacts["pid"] for r in results}
    assert len(pids) <= 2 and pids <= set(pool.worker_pids())


def test_run_batch_writes_the_store_the_same_way(pool, tmp_path):
    with RunStore.open(tmp_path / "run.db") as store:
        cands = [Candidate({"code": f"def f():\n    return {i}"}) for i in range(6)]
        cands.append(Candidate({"code": "def f():\n    raise KeyError('k')"}, id="bad"))
        results = run_batch(store, pool, cands)
        assert [r.score for r in results[:6]] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
        assert store.counts()["done"] == 7 and store.counts()["failures"] == {"exception": 1}


def test_shutdown_without_wait_kills_running_work(ray_cluster, tmp_path):
    ex = make_executor("ray", "sandbox_objectives:run_code", workers=1, timeout_s=60,
                       actor_options={"num_cpus": 0})  # the module's pool holds both CPUs
    pid_file = tmp_path / "pid"
    hang = ex.submit(Candidate({"code": HANG_WRITING_PID.replace("PID_FILE", str(pid_file))}))
    queued = ex.submit(Candidate({"code": "def f():\n    return 1"}))
    while not pid_file.exists() or not pid_file.read_text():
        time.sleep(0.05)
    worker = psutil.Process(int(pid_file.read_text()))
    ex.shutdown(wait=False)
    with pytest.raises(ExecutorShutdown):
        hang.result(timeout=30)
    assert queued.cancelled()
    worker.wait(timeout=10)


def test_default_memory_cap_is_computed_as_locally(ray_cluster):
    """80 % of memory over the executor's workers, not over the node's cores."""
    code = "def f():\n    import resource\n    return {'score': 0, 'artifacts': {'cap': resource.getrlimit(resource.RLIMIT_AS)[0]}}"
    with make_executor("ray", "sandbox_objectives:run_code", workers=1, actor_options={"num_cpus": 0}) as ex:
        result = ex.submit(Candidate({"code": code})).result(timeout=120)
    assert ex.memory_mb == Limits().memory_cap_mb(1) == default_memory_mb(1)
    assert result.artifacts["cap"] == ex.memory_mb * 2**20


def test_sigkill_of_a_ray_driver_mid_batch_then_resume(pool, tmp_path):
    """The run (a second Ray driver) is killed; its actors and sandboxes die; we finish the run."""
    store_path, log = tmp_path / "run.db", tmp_path / "ran.log"
    at_kill = kill_mid_batch(store_path, log, ray.get_runtime_context().gcs_address)
    with RunStore.open(store_path) as store, make_executor(
        "ray", "sandbox_objectives:logged_sleep", workers=2, actor_options={"num_cpus": 0}
    ) as ex:
        evaluate_pending(store, ex)
    check_resumed(store_path, log, at_kill)
