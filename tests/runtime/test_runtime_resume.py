"""A run killed with SIGKILL mid-batch resumes with no completed evaluation lost."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sandbox_cases import wait_no_strays

from opto.store import RunStore

pytestmark = pytest.mark.integration
HERE = Path(__file__).parent
N = 20


def _run(mode: str, store: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.Popen([sys.executable, str(HERE / "resume_script.py"), mode, str(store), str(log), str(N)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _evaluated(store_path: Path) -> dict[str, tuple]:
    with RunStore.open(store_path, readonly=True) as reader:
        return {e.candidate_id: (e.score, e.feedback, e.duration_s) for e in reader.evaluations()}


def test_sigkill_mid_batch_then_resume_loses_nothing(tmp_path):
    started = time.time()
    store_path, log = tmp_path / "run.db", tmp_path / "ran.log"
    run = _run("start", store_path, log)
    deadline = time.time() + 60
    before: dict[str, tuple] = {}
    while len(before) < 6:  # readers can open the run while it is being written
        assert run.poll() is None, run.communicate()[0]
        assert time.time() < deadline, "the run made no progress"
        time.sleep(0.05)
        if store_path.exists():
            before = _evaluated(store_path)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    at_kill = _evaluated(store_path)
    assert before.items() <= at_kill.items() and len(at_kill) < N, "the kill must land mid-batch"
    assert wait_no_strays(started) == [], "the killed run's workers must die with it"

    resume = _run("resume", store_path, log)
    out, _ = resume.communicate(timeout=120)
    assert resume.returncode == 0, out

    with RunStore.open(store_path, readonly=True) as store:
        after = {e.candidate_id: (e.score, e.feedback, e.duration_s) for e in store.evaluations()}
        counts = store.counts()
        assert store.check() == []
        requeued = store.events("resume")
    assert at_kill.items() <= after.items(), "a completed evaluation was lost or redone"
    assert counts["candidates"] == counts["done"] == counts["evaluations"] == N, counts
    assert sorted(after) == [f"c{i:02d}" for i in range(N)]
    assert all(score == int(cid[1:]) for cid, (score, _, _) in after.items())
    assert requeued and requeued[0].data["requeued"] == N - len(at_kill)
    runs = collections.Counter(log.read_text().split())
    assert all(runs[cid] == 1 for cid in at_kill), "completed candidates must not be evaluated again"
    assert all(runs[f"c{i:02d}"] >= 1 for i in range(N))
    assert wait_no_strays(started) == []
