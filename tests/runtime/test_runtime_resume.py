"""A run killed with SIGKILL mid-batch resumes with no completed evaluation lost."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from sandbox_cases import sandbox_processes_under, wait_gone

from opto.store import RunStore, StoreError

pytestmark = pytest.mark.integration
HERE = Path(__file__).parent
N = 20


def run_script(mode: str, store: Path, log: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.Popen([sys.executable, str(HERE / "resume_script.py"), mode, str(store), str(log), str(N), *extra],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _evaluated(store_path: Path) -> dict[str, tuple]:
    with RunStore.open(store_path, readonly=True) as reader:
        return {e.candidate_id: (e.score, e.feedback, e.duration_s) for e in reader.evaluations()}


def test_sigkill_mid_batch_then_resume_loses_nothing(tmp_path):
    store_path, log = tmp_path / "run.db", tmp_path / "ran.log"
    at_kill = kill_mid_batch(store_path, log)
    resume = run_script("resume", store_path, log)
    out, _ = resume.communicate(timeout=120)
    assert resume.returncode == 0, out
    check_resumed(store_path, log, at_kill)


def run_sandboxes(run: subprocess.Popen, log: Path) -> list[psutil.Process]:
    """The run's sandbox workers: below its process (local) or below its Ray actors.

    Only these count: other executors (a test's module-scoped pool, a parallel test session) may
    start sandbox workers at any moment, and they must not be mistaken for the run's.
    """
    pids_file = Path(str(log) + ".pids")
    reported = {int(p) for p in pids_file.read_text().split()} if pids_file.exists() else set()
    actors = set()
    for pid in reported:
        try:
            actors.add(psutil.Process(pid).ppid())
        except psutil.NoSuchProcess:
            pass
    return sandbox_processes_under({run.pid, *reported, *actors})


def kill_mid_batch(store_path: Path, log: Path, *extra: str) -> dict[str, tuple]:
    """Start a run, SIGKILL it once a few evaluations are committed; return what was committed."""
    run = run_script("start", store_path, log, *extra)
    deadline = time.time() + 60
    before: dict[str, tuple] = {}
    while len(before) < 6:  # readers can open the run while it is being written
        assert run.poll() is None, run.communicate()[0]
        assert time.time() < deadline, "the run made no progress"
        time.sleep(0.05)
        if store_path.exists():
            try:
                before = _evaluated(store_path)
            except StoreError:  # the writer is still creating the file
                pass
    sandboxes = run_sandboxes(run, log)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    at_kill = _evaluated(store_path)
    assert before.items() <= at_kill.items() and len(at_kill) < N, "the kill must land mid-batch"
    assert sandboxes, "the run's sandbox workers were not found"
    survivors = wait_gone(sandboxes, timeout_s=15)
    assert survivors == [], f"the killed run's sandbox processes {[p.pid for p in survivors]} outlived it"
    return at_kill


def check_resumed(store_path: Path, log: Path, at_kill: dict[str, tuple]) -> None:
    """Nothing committed was lost or redone; everything else ran; the store is consistent."""
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

