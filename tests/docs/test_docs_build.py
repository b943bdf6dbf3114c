"""The documentation site builds with no warning (mkdocs --strict), API reference included.

A broken link or anchor, a page left out of the nav, or a reference page naming an API that no
longer exists fails this test, so the docs cannot drift from the code unnoticed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytest.importorskip("mkdocs", reason="the docs tools come with the [dev] extra: bash scripts/setup.sh --dev")
pytest.importorskip("mkdocstrings")
pytest.importorskip("material")


def _build(site: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_site_builds_without_warnings(tmp_path: Path) -> None:
    site = tmp_path / "site"
    proc = _build(site)
    log = proc.stdout + proc.stderr
    warnings = [line for line in log.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert proc.returncode == 0 and not warnings, f"mkdocs build --strict failed:\n{log[-6000:]}"
    # The API reference is generated from docstrings, not left empty.
    trace_ref = (site / "reference" / "trace.html").read_text(encoding="utf-8")
    assert "opto.trace.nodes.ParameterNode" in trace_ref and "A value the optimizer may rewrite" in trace_ref
    for page in ["index.html", "migrating.html", "backends.html", "ray.html", "concepts/node.html",
                 "benchmarks/index.html"]:
        assert (site / page).is_file(), f"{page} is missing from the site"
    # Nothing in the built pages points at a web font or script host: the site works offline.
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "fonts.googleapis.com" not in index


def test_docs_script_is_strict_and_part_of_the_suite() -> None:
    """scripts/docs.sh installs nothing; it is one line in scripts/test.sh."""
    script = (ROOT / "scripts" / "docs.sh").read_text(encoding="utf-8")
    assert "--strict" in script and "pip install" not in script
    assert "bash scripts/docs.sh" in (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")


def test_docstring_field_lines_become_list_items() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("griffe_docstring_fields",
                                                  ROOT / "scripts" / "griffe_docstring_fields.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    doc = "Why it exists.\nmodel: the callable,\n  called per input.\nlm, llm: the model.\n\n    code = 1\nOrder: kept."
    assert module.fields_as_list(doc).splitlines() == [
        "Why it exists.", "", "- `model`: the callable,", "    called per input.", "- `lm, llm`: the model.",
        "", "    code = 1", "Order: kept."]
