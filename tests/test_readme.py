"""What README and pyproject tell a newcomer holds from a clone: paths exist, hints work, code runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")

PATH_RE = re.compile(r"(?<![\w./-])((?:scripts|examples|docs|bench)/[\w./-]*\w)")


@pytest.mark.parametrize("source", ["README.md", "pyproject.toml"])
def test_every_named_repo_path_exists(source: str) -> None:
    text = (ROOT / source).read_text(encoding="utf-8")
    named = set(PATH_RE.findall(text))
    assert named, f"{source} names no path?"
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"{source} names paths that do not exist: {missing}"


def test_install_hints_work_from_a_clone() -> None:
    # The distribution is not published: `pip install optokit[...]` fails outside the project venv.
    for source, text in (("README.md", README), ("pyproject.toml", PYPROJECT)):
        assert not re.search(r"pip install [\"']?optokit", text), f"{source} suggests installing from PyPI"
    hints = re.findall(r"pip install [^`\n]*", README)
    assert hints and all(" -e " in f" {h} " for h in hints), hints


def test_readme_says_how_to_reach_the_opto_command() -> None:
    assert ".venv/bin/opto" in README and "source .venv/bin/activate" in README
    assert "opto --version" in README
    bare = [line for line in README.splitlines() if re.match(r"\s*opto ", line)]
    assert not bare, f"README runs `opto` without saying where it is: {bare}"


OPTIMIZER_NAMES = ("OptoPrime", "OptoPrimeMulti", "OPRO", "TextGrad")


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_readme_promises_no_optimizer_that_does_not_import(name: str) -> None:
    """An optimizer that cannot be imported yet may be named only in the Status section."""
    assert "## Status" in README
    body = README.split("## Status", 1)[0]
    if not re.search(rf"\b{name}\b", body):
        return
    code = f"from opto.optimizers import {name}"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"README names {name} outside its Status section, but `{code}` fails"


@pytest.mark.parametrize("index", range(README.count("```python")))
def test_readme_python_blocks_run(index: int, tmp_path) -> None:
    block = re.findall(r"```python\n(.*?)```", README, flags=re.S)[index]
    script = tmp_path / f"readme_block_{index}.py"  # a file: trainable bundles read their source
    script.write_text(block, encoding="utf-8")
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
