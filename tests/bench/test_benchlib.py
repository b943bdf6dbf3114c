"""Benchmark results: a plain run leaves the tracked files alone; --update-tracked rewrites them."""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_benchlib():
    spec = importlib.util.spec_from_file_location("benchlib", ROOT / "bench" / "benchlib.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


benchlib = _load_benchlib()


def test_default_run_writes_the_untracked_local_copy(tmp_path, capsys) -> None:
    tracked = tmp_path / "results" / "thing.json"
    tracked.parent.mkdir()
    tracked.write_text('{"old": true}\n')
    assert benchlib.emit(tracked, {"figure": 1.5}) == 0
    local = tmp_path / "results" / "local" / "thing.json"
    assert json.loads(local.read_text()) == {"figure": 1.5}
    assert tracked.read_text() == '{"old": true}\n'
    out = capsys.readouterr()
    assert json.loads(out.out) == {"figure": 1.5}
    assert str(local) in out.err and "--update-tracked" in out.err


def test_update_tracked_writes_the_tracked_file(tmp_path) -> None:
    tracked = tmp_path / "results" / "thing.json"
    benchlib.emit(tracked, {"figure": 2}, update_tracked=True)
    assert json.loads(tracked.read_text()) == {"figure": 2}
    assert not (tmp_path / "results" / "local").exists()


def test_the_flag_defaults_to_off() -> None:
    parser = argparse.ArgumentParser()
    benchlib.add_arguments(parser)
    assert parser.parse_args([]).update_tracked is False
    assert parser.parse_args(["--update-tracked"]).update_tracked is True


SCRIPTS = ["llm_concurrency", "llm_offline", "llm_overhead", "runtime_throughput", "store_throughput",
           "trace_compare"]


@pytest.mark.parametrize("name", SCRIPTS)
def test_bench_scripts_write_through_benchlib(name: str) -> None:
    text = (ROOT / "bench" / f"{name}.py").read_text()
    assert "add_arguments(" in text, f"{name}.py does not offer --update-tracked"
    assert ".write_text(" not in text or "output_path(" in text, f"{name}.py writes its results itself"


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs a git checkout")
def test_local_results_are_ignored_by_git() -> None:
    probe = "bench/results/" + benchlib.LOCAL_DIR + "/anything.json"
    result = subprocess.run(["git", "check-ignore", "-q", probe], cwd=ROOT, timeout=30)
    assert result.returncode == 0, f"{probe} is not ignored: add bench/results/local/ to .gitignore"
    tracked = subprocess.run(["git", "check-ignore", "-q", "bench/results/trace_compare.json"], cwd=ROOT, timeout=30)
    assert tracked.returncode == 1


def test_a_documented_command_leaves_tracked_results_untouched(tmp_path) -> None:
    tracked = ROOT / "bench" / "results" / "store_throughput.json"
    before = tracked.read_bytes() if tracked.exists() else None
    subprocess.run([sys.executable, str(ROOT / "bench" / "store_throughput.py"), "--n", "50"],
                   capture_output=True, timeout=120, check=True)
    after = tracked.read_bytes() if tracked.exists() else None
    assert after == before
    assert (ROOT / "bench" / "results" / "local" / "store_throughput.json").exists()
