"""Every way a candidate can misbehave becomes a failed evaluation with the right reason (local pool)."""

from __future__ import annotations

import time

import pytest
from sandbox_cases import (
    BIG_OUTPUT,
    BIG_OUTPUT_TIMEOUT_S,
    CASES,
    MEMORY_MB,
    TIMEOUT_S,
    candidate,
    check_result,
    wait_no_strays,
)

from opto.runtime import Candidate, LocalExecutor

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pool():
    started = time.time()
    ex = LocalExecutor("sandbox_objectives:run_code", workers=2, timeout_s=TIMEOUT_S, memory_mb=MEMORY_MB)
    yield ex
    ex.shutdown()
    assert wait_no_strays(started) == []


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_each_misbehaviour_is_reported_with_its_reason(pool, case):
    result = pool.submit(candidate(case)).result(timeout=60)
    check_result(case, result)
    after = pool.submit(Candidate({"code": "def f():\n    return 7"})).result(timeout=60)
    assert after.ok and after.score == 7.0, "the pool must keep serving after a bad candidate"


def test_a_100mb_print_keeps_only_the_tail():
    # no stray check here: the module's pool replaces killed workers meanwhile (its teardown checks)
    with LocalExecutor("sandbox_objectives:run_code", workers=1, timeout_s=BIG_OUTPUT_TIMEOUT_S,
                       memory_mb=MEMORY_MB) as ex:
        check_result(BIG_OUTPUT, ex.submit(candidate(BIG_OUTPUT)).result(timeout=120))


def test_all_misbehaviours_at_once_in_a_batch(pool):
    results = pool.map([candidate(c) for c in CASES])
    for case, result in zip(CASES, results, strict=True):
        check_result(case, result)
    again = pool.map([Candidate({"code": f"def f():\n    return {i}"}) for i in range(4)])
    assert [r.score for r in again] == [0.0, 1.0, 2.0, 3.0]
    deadline = time.time() + 10
    while len(pool.worker_pids()) != 2:  # a killed worker is replaced right after its result
        assert time.time() < deadline, pool.worker_pids()
        time.sleep(0.05)


def test_timeout_is_enforced_within_a_second_of_the_limit(pool):
    """Measured from when a worker started the evaluation: time queued for a free worker is not the limit's."""
    result = pool.submit(Candidate({"code": "def f():\n    while True:\n        pass"})).result()
    received = time.time()
    assert result.failure is not None and result.failure.reason == "timeout"
    assert result.started_at is not None
    assert TIMEOUT_S <= received - result.started_at <= TIMEOUT_S + 1.0
