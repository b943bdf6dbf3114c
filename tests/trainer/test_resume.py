"""A training run SIGKILLed mid-epoch resumes from its store and ends as an uninterrupted run does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from opto.store import RunStore

SCRIPT = Path(__file__).parent / "resume_script.py"
ROOT = Path(__file__).resolve().parents[2]


def run_script(store: Path, algorithm: str) -> dict:
    out = subprocess.run([sys.executable, str(SCRIPT), str(store), algorithm], capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def kill_at(store: Path, algorithm: str, call: int) -> None:
    proc = subprocess.Popen([sys.executable, str(SCRIPT), str(store), algorithm, str(call)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    marker = Path(str(store) + ".hang")
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "the run never reached the call to hang at"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    marker.unlink()


SAME = ("best_values", "best_candidate_id", "best_score", "test_score", "steps", "stopped", "history", "final_x",
        "seed_score", "memory")


@pytest.mark.integration
@pytest.mark.parametrize("algorithm", ["minibatch", "pareto"])
def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path, algorithm):
    reference = run_script(tmp_path / "ref.db", algorithm)
    killed = tmp_path / "killed.db"
    kill_at(killed, algorithm, call=6)  # 4 steps per epoch: call 6 is inside the second epoch
    with RunStore.open(killed, readonly=True) as store:
        done = store.events("checkpoint")[-1].data
        assert done["done"] is False and 0 < done["steps_done"] < reference["steps"]
    resumed = run_script(killed, algorithm)
    assert resumed["resumed"] is True
    for key in SAME:
        assert resumed[key] == reference[key], key
    for key in ("proposals", "llm_calls", "evaluations"):
        assert resumed["spent"][key] == reference["spent"][key], key
    with RunStore.open(killed, readonly=True) as store:
        assert [e.data["steps_done"] for e in store.events("resume")] == [done["steps_done"]]
        steps = [e.data["step"] for e in store.events("step")]
        assert sorted(set(steps)) == list(range(1, reference["steps"] + 1))  # no step lost
        assert store.check() == []
