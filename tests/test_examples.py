"""Every example runs in CI in a short mode: 01 and the embedded-model runs of 02 and 03 here.

Examples 02-08 also run against a stub API server (tests/trainer/test_examples_smoke.py) and 10-15 on
the embedded model (tests/demo/test_examples.py); the guard at the end fails when an example is added
that no test runs.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# Where each example is run (a test file that names the example's file in the list it runs).
RUNNERS = ("tests/test_examples.py", "tests/trainer/test_examples_smoke.py", "tests/demo/test_examples.py")
# Quick mode on the real embedded model, and the line each prints about what it achieved. Measured on
# this loaded 2-core machine: 02 8-18 s, 03 34-42 s (a quick mode over 90 s gets shortened).
EMBEDDED = {"02_numeric_feedback.py": "x: -7.3 -> ", "03_code_from_tests.py": "tests passed: 4/6 before -> "}
needs_local = pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                                 reason="llama_cpp is not importable: install the [local] extra")


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz 'dot' not installed (scripts/setup.sh installs it)")
def test_trace_basics_example(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "01_trace_basics.py"), "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=120, check=True)
    assert "== trace" in result.stdout and "user feedback" in result.stdout
    png = (tmp_path / "trace_basics.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "trace_basics.svg").read_text().lstrip().startswith(("<?xml", "<svg", "<!--"))
    dot = (tmp_path / "trace_basics.dot").read_text()
    assert dot.startswith("digraph")
    # The first picture explains itself: a legend, the scoring function by name, code as lines.
    assert "subgraph cluster_legend" in dot and "trainable parameter" in dot
    assert "<B>score_answer</B> <I>(eval:0)</I>" in dot
    code = next(line for line in dot.splitlines() if "source of score_answer" in line)
    assert "\\n" not in code and code.count('<BR ALIGN="LEFT"/>') == 3


@pytest.mark.integration
@needs_local
@pytest.mark.parametrize("example", sorted(EMBEDDED))
def test_example_on_the_embedded_model(example, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPTO_", "TRACE_", "OPENAI_"))}
    env.update(OPTO_EXAMPLE_QUICK="1", OPTO_CACHE_DIR=str(tmp_path / "cache"))
    start = time.monotonic()
    out = subprocess.run([sys.executable, str(EXAMPLES / example)], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path, env=env)
    took = time.monotonic() - start
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    assert "LM: SmolLM2-135M-Instruct" in out.stdout and EMBEDDED[example] in out.stdout, out.stdout[-3000:]
    print(f"{example} quick mode on the embedded model: {took:.1f} s")


def test_dataset_generator_reproduces_the_shipped_data(tmp_path):
    script = tmp_path / "make_datasets.py"
    shutil.copy(EXAMPLES / "data" / "make_datasets.py", script)  # it writes beside itself
    subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=True)
    for name in ("sentiment.json", "capitals.json"):
        assert json.loads((tmp_path / name).read_text()) == json.loads((EXAMPLES / "data" / name).read_text())


def test_every_example_is_run_by_a_test():
    runners = "\n".join((ROOT / r).read_text() for r in RUNNERS if (ROOT / r).exists())
    missing = [p.name for p in sorted(EXAMPLES.glob("[0-9]*.py")) if f'"{p.name}"' not in runners]
    assert not missing, f"examples no test runs (add them to one of {RUNNERS}): {missing}"
