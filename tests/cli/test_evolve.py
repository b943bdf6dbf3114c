"""``opto evolve`` and ``opto resume`` end to end on a tiny objective (sandboxed workers, real store)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from opto import cli
from opto.cli.evolve_progress import render
from opto.store import RunStore

HEURISTIC = '''
"""Return a number close to ten for x = 3."""
import math


def f(x):
    """Make f(3) equal 10."""
    return 1.5 * x + 0.5
'''

OBJECTIVE = '''
import time

from opto.runtime import load_function


def score(values, pause=0.0):
    f = load_function(values["f"], "f")
    time.sleep(float(pause or 0))
    y = f(3.0)
    return {"score": -abs(y - 10.0), "feedback": f"f(3) = {y}, wanted 10"}
'''

M1_REPLY = "{Scale x by three.}\n```python\ndef f(x):\n    return 3.0 * x + 1.0\n```"


@pytest.fixture
def task(tmp_path: Path) -> Path:
    (tmp_path / "heuristic.py").write_text(HEURISTIC)
    (tmp_path / "tiny_objective.py").write_text(OBJECTIVE)
    (tmp_path / "replies.json").write_text(json.dumps([M1_REPLY, "no code, sorry"]))
    return tmp_path


def evolve_args(task: Path, store: str, *extra: str, budget: int = 12) -> list[str]:
    return ["evolve", str(task / "heuristic.py"), "--function", "f", "--objective", "tiny_objective:score",
            "--budget", str(budget), "--workers", "2", "--store", str(task / store), "--seed", "3",
            "--no-progress", *extra]


def best_of(path: Path) -> tuple[float, str]:
    with RunStore.open(path, readonly=True) as store:
        last = store.events("best")[-1].data
        return float(last["score"]), store.candidate(last["candidate_id"]).values["f"]


def test_evolve_improves_and_writes_the_store(task: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(task)
    out = task / "best.py"
    rc = cli.main(evolve_args(task, "run.db", "--operators", "ast_perturb,ast_swap", "--output", str(out)))
    assert rc == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "best score" in printed and "operator ast_perturb" in printed
    score, code = best_of(task / "run.db")
    assert score > -5.0  # improved on the seed, which scores -5.0 (f(3) = 5)
    assert out.read_text() == code and "def f(x):" in code and "import math" in code
    with RunStore.open(task / "run.db", readonly=True) as store:
        config = store.info().config
        assert config["kind"] == "evolution" and config["cli"]["function"] == "f"
        assert config["task"] == "Make f(3) equal 10."


def test_scripted_lm_operator_through_the_cli(task: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(task)
    rc = cli.main(evolve_args(task, "lm.db", "--operators", "M1", "--lm", f"scripted:{task / 'replies.json'}",
                              budget=4))
    assert rc == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "rejected children: " in printed and "M1 unparseable" in printed
    with RunStore.open(task / "lm.db", readonly=True) as store:
        thoughts = [c.meta.get("thought") for c in store.candidates() if c.operator == "M1"]
        assert "Scale x by three." in thoughts
        assert store.llm_calls()
        assert any(e.data["reason"] == "unparseable" for e in store.events("rejected"))
    assert best_of(task / "lm.db")[0] == 0.0  # 3 * 3 + 1 = 10


def test_bad_settings_exit_2_naming_the_fix(task: Path, capsys) -> None:
    (task / "evolve.toml").write_text("islands = 0\nbogus = 1\n")
    assert cli.main(evolve_args(task, "x.db", "--config", str(task / "evolve.toml"))) == 2
    err = capsys.readouterr().err
    assert "islands" in err and "bogus: unknown field" in err
    wrong_function = evolve_args(task, "x.db")
    wrong_function[wrong_function.index("f")] = "g"
    assert cli.main(wrong_function) == 2
    assert "no top-level function 'g'" in capsys.readouterr().err
    bad_objective = evolve_args(task, "x.db")
    bad_objective[bad_objective.index("tiny_objective:score")] = "nowhere_module:score"
    assert cli.main(bad_objective) == 2
    assert "cannot import module 'nowhere_module'" in capsys.readouterr().err
    no_folder = evolve_args(task, "x.db")
    no_folder[no_folder.index(str(task / "x.db"))] = str(task / "nowhere" / "x.db")
    assert cli.main(no_folder) == 2
    assert "does not exist; create it first" in capsys.readouterr().err
    assert cli.main(["resume", str(task / "missing.db")]) == 2
    assert "no run store" in capsys.readouterr().err


def test_progress_line() -> None:
    snap = {"evaluations": 5, "best": -1.25, "failures": {"timeout": 2}, "rejected": {"duplicate": 3},
            "llm_calls": 4, "llm_tokens": 900}
    line = render(snap, 10, 30.0)
    assert line.startswith("[##########..........] 5/10 | best -1.25 | 10/min")
    assert "failed: timeout 2" in line and "rejected: duplicate 3" in line and "LLM: 4 calls, 900 tokens" in line


@pytest.mark.integration
def test_sigkilled_run_resumes_to_the_uninterrupted_best(task: Path) -> None:
    """A real SIGKILL mid-run; `opto resume` finishes with the same best as a run never killed."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(cli.__file__).parents[2]), str(task)])}
    common = ["--operators", "ast_perturb,ast_swap,M1", "--lm", f"scripted:{task / 'replies.json'}",
              "--input", "0.15"]
    budget = 24

    def opto(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "opto.cli", *args], cwd=task, env=env, text=True,
                              capture_output=True, timeout=300)

    whole = opto(*evolve_args(task, "whole.db", *common, budget=budget))
    assert whole.returncode == 0, whole.stderr

    proc = subprocess.Popen([sys.executable, "-m", "opto.cli", *evolve_args(task, "killed.db", *common,
                                                                             budget=budget)],
                            cwd=task, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        if (task / "killed.db").exists():
            try:
                with RunStore.open(task / "killed.db", readonly=True) as store:
                    done = store.counts()["evaluations"]
            except Exception:
                continue
            if done >= 8:
                break
    assert proc.poll() is None, "the run finished before it could be killed; make evaluations slower"
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its sandbox workers, as a crash would
    proc.wait(timeout=30)
    assert 8 <= done < budget

    resumed = opto("resume", str(task / "killed.db"), "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    assert best_of(task / "killed.db") == best_of(task / "whole.db")
    with RunStore.open(task / "killed.db", readonly=True) as a, RunStore.open(task / "whole.db", readonly=True) as b:
        assert a.check() == []
        ids = lambda s: [c.id for c in s.candidates()]  # noqa: E731
        assert ids(a) == ids(b)


def test_resume_refuses_a_foreign_store(tmp_path: Path, capsys) -> None:
    with RunStore.open(tmp_path / "t.db", config={"kind": "training"}):
        pass
    assert cli.main(["resume", str(tmp_path / "t.db")]) == 2
    assert "was not written by `opto evolve`" in capsys.readouterr().err


def test_help_lists_evolve_and_resume(capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main(["evolve", "--help"])
    out = capsys.readouterr().out
    assert "--objective" in out and "--lm" in out and textwrap.dedent("--executor") in out


@pytest.mark.integration
def test_evolve_on_the_ray_executor(task: Path, capsys, monkeypatch) -> None:
    pytest.importorskip("ray")
    monkeypatch.chdir(task)
    rc = cli.main(evolve_args(task, "ray.db", "--operators", "ast_perturb", "--executor", "ray", budget=6))
    assert rc == 0, capsys.readouterr().err
    assert best_of(task / "ray.db")[0] > -5.0  # the seed's f(3) = 5 scores -5
    with RunStore.open(task / "ray.db", readonly=True) as store:
        assert store.info().config["cli"]["executor"] == "ray"
