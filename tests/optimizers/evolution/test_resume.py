"""Kill a search with SIGKILL mid-run, run it again on the same store: it ends with the same best.

The resumed run replays the search from its seed, reading committed evaluations back instead of
re-running them, so it must reach exactly the state of an uninterrupted run (same candidates, same
events, same best) without evaluating anything twice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from opto.store import RunStore, StoreError

HERE = Path(__file__).parent
SCRIPT = HERE / "evo_resume_script.py"
BUDGET = 40

pytestmark = pytest.mark.integration


def run(store: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(SCRIPT), str(store), str(BUDGET)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=HERE)


def finish(proc: subprocess.Popen) -> dict:
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    return json.loads(out.strip().splitlines()[-1])


def evaluated(store: Path) -> dict[str, tuple]:
    with RunStore.open(store, readonly=True) as s:
        return {e.candidate_id: (e.score, e.duration_s) for e in s.evaluations()}


def test_sigkill_then_resume_gives_the_uninterrupted_best(tmp_path):
    whole = finish(run(tmp_path / "whole.db"))

    killed = tmp_path / "killed.db"
    proc = run(killed)
    deadline = time.time() + 60
    before: dict[str, tuple] = {}
    while len(before) < 12:
        assert proc.poll() is None, proc.communicate()[0]
        assert time.time() < deadline, "the run made no progress"
        time.sleep(0.05)
        if killed.exists():
            try:
                before = evaluated(killed)
            except StoreError:
                pass
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    at_kill = evaluated(killed)
    assert len(at_kill) < BUDGET, "the kill must land mid-run"

    resumed = finish(run(killed))
    assert resumed == whole

    with RunStore.open(killed, readonly=True) as a, RunStore.open(tmp_path / "whole.db", readonly=True) as b:
        assert a.check() == []
        after = {e.candidate_id: (e.score, e.duration_s) for e in a.evaluations()}
        assert at_kill.items() <= after.items(), "a committed evaluation was lost or redone"
        assert len(a.evaluations()) == BUDGET, "nothing is evaluated twice"
        assert [c.id for c in a.candidates()] == [c.id for c in b.candidates()]
        assert [(e.kind, e.data) for e in a.events() if e.kind != "resume"] == [(e.kind, e.data) for e in b.events()]
        kinds = Counter(e.kind for e in a.events())
        assert kinds["operator"] == 3 and kinds["stopped"] == 1  # written once, not once per run


def test_rerunning_a_finished_run_changes_nothing(tmp_path):
    store = tmp_path / "done.db"
    first = finish(run(store))
    with RunStore.open(store, readonly=True) as s:
        events = len(s.events())
    assert finish(run(store)) == first
    with RunStore.open(store, readonly=True) as s:
        assert len(s.evaluations()) == BUDGET and len(s.events()) == events


def test_a_finished_run_continued_with_a_larger_budget(tmp_path):
    """The replayed prefix writes nothing; the continuation writes its own end-of-run summary."""
    sys.path.insert(0, str(HERE))
    from evo_resume_script import main

    store = tmp_path / "more.db"
    short = main(str(store), 12)
    longer = main(str(store), 24)
    fresh = main(str(tmp_path / "fresh.db"), 24)
    assert longer == fresh and longer["score"] >= short["score"]
    with RunStore.open(store, readonly=True) as s:
        kinds = Counter(e.kind for e in s.events())
        assert len(s.evaluations()) == 24
        assert kinds["stopped"] == 2
        # each operator's summary is written again unless it is unchanged (an operator not picked after
        # evaluation 12 has the same summary, which the replay finds already written)
        ops = s.events("operator")
        last = {e.data["operator"]: e.data["proposals"] for e in ops}  # the latest summary per operator
        assert 3 < len(ops) <= 6 and len(last) == 3
        assert sum(e.data["proposals"] for e in ops[:3]) < sum(last.values())
        assert [e.data["evaluations"] for e in s.events("stopped")] == [12, 24]
