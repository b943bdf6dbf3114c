"""The bin-packing example: the task reproduces the published best-fit figure, and `opto evolve` runs on it."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from opto import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "binpacking"


@pytest.fixture
def task(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE))
    import binpacking_task

    if not binpacking_task.data_path().exists():
        pytest.skip(f"bin packing data not found at {binpacking_task.data_path()}")
    return binpacking_task


def test_best_fit_matches_the_published_or3_excess(task) -> None:
    pct, used = task.excess_percent(task.load_sets()["OR3"], lambda item, bins: -(bins - item))
    assert round(pct, 2) == task.REFERENCE["best_fit"]["OR3"] == 5.37
    assert len(used) == 20 and all(u >= task.l1_bound(task.load_sets()["OR3"][n]) for n, u in used.items())


def test_skeleton_and_generated_sets(task) -> None:
    bins = task.online_binpack([60, 50, 40, 30], np.array([100.0] * 4), lambda item, bins: -(bins - item))
    assert sorted(bins.tolist()) == [0.0, 20.0, 100.0, 100.0]  # 60+40, 50+30
    a, b = task.weibull(300, 2, seed=5), task.weibull(300, 2, seed=5)
    assert a == b and all(1 <= s <= 100 for inst in a.values() for s in inst["items"])
    assert all(20 <= s <= 100 for inst in task.or_uniform(50, 3, seed=1).values() for s in inst["items"])
    with pytest.raises(ValueError, match="unknown split"):
        task.evaluate({"priority": task.BEST_FIT}, "nope")


def test_the_objective_returns_scores_feedback_and_a_trace(task) -> None:
    out = task.evaluate({"priority": (EXAMPLE / "heuristic.py").read_text()}, "or3")
    assert round(-out["scores"]["or3_excess"], 2) == 5.37 and "worst" in out["feedback"]
    traced = task.score_sets(task.load_priority({"priority": task.BEST_FIT}), {"OR3": task.load_sets()["OR3"]},
                             trace=True)
    trace = traced["artifacts"]["trace"]
    assert trace["function"] == "priority" and trace["total_calls"] == 500 and len(trace["calls"]) == 6
    assert "L1 lower bound" in trace["outcome"]


@pytest.mark.integration
def test_opto_evolve_on_the_example(task, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(EXAMPLE)
    rc = cli.main(["evolve", str(EXAMPLE / "heuristic.py"), "--function", "priority", "--objective",
                   "binpacking_task:evaluate", "--input", '"or3"', "--budget", "6", "--workers", "2",
                   "--store", str(tmp_path / "bp.db"), "--config", str(EXAMPLE / "evolve.toml"), "--no-progress"])
    assert rc == 0, capsys.readouterr().err
    assert "best score" in capsys.readouterr().out
    assert str(EXAMPLE) in sys.path
