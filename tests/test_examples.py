"""The README's main job runs and produces real pictures."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


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
