"""The python snippets of the concept pages, the migration guide and the home page run as written (offline).

Each page runs as one script in a fresh interpreter, in a temporary directory, with no model
configured and the LLM cache off, so a snippet that would need a real model fails here instead of
silently reaching the network. Where a page needs a model it uses ScriptedLM.

Convention for these pages: every ```python block runs, top to bottom, as one script (later
blocks see earlier blocks' names). A block with a ``title="name.py"`` attribute is a file the page
asks the reader to create: it is written into the working directory instead of run. Code shown but
not meant to run uses another fence (```text, ```bash).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
                    re.MULTILINE | re.DOTALL)
_TITLE = re.compile(r'title="(?P<title>[^"]+)"')


@dataclass(frozen=True)
class Snippet:
    """One ```python block: its code, the line it starts on, and the file name it asks for (if any)."""

    code: str
    line: int
    title: str | None


def python_snippets(page: Path) -> list[Snippet]:
    """The ```python blocks of ``page``, in order."""
    text = page.read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        info = match["info"].strip()
        if info.split(" ", 1)[0] != "python":
            continue
        indent = len(match["indent"])
        body = "".join(line[indent:] for line in match["body"].splitlines(keepends=True))
        title = _TITLE.search(info)
        line = text.count("\n", 0, match.start()) + 2
        found.append(Snippet(body, line, title["title"] if title else None))
    return found


def page_script(page: Path, workdir: Path) -> Path:
    """Write the page's files into ``workdir`` and its runnable blocks as one script; return the script.

    Each block is preceded by a comment naming its source line, so a traceback points at the page.
    """
    parts = [f"# generated from {page}\n"]
    for snippet in python_snippets(page):
        if snippet.title:
            (workdir / snippet.title).write_text(snippet.code, encoding="utf-8")
            continue
        parts.append(f"# --- {page.name} line {snippet.line}\n{snippet.code}\n")
    script = workdir / f"doc_{page.stem}.py"
    script.write_text("".join(parts), encoding="utf-8")
    return script


ROOT = Path(__file__).resolve().parents[2]
PAGES = [*sorted((ROOT / "docs" / "concepts").glob("*.md")), ROOT / "docs" / "migrating.md", ROOT / "docs" / "index.md"]


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPTO_", "TRACE_", "OPENAI_"))}
    env.update(OPTO_LLM_CACHE="off", OPTO_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(ROOT),
               MPLBACKEND="Agg")
    return env


def test_every_page_has_snippets() -> None:
    assert len(PAGES) >= 10, [p.name for p in PAGES]
    empty = [p.name for p in PAGES if not python_snippets(p)]
    assert not empty, f"pages without a runnable ```python block: {empty}"


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_page_snippets_run(page: Path, tmp_path: Path) -> None:
    script = page_script(page, tmp_path)
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=_clean_env(tmp_path),
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, (
        f"{page.relative_to(ROOT)}: its snippets failed (script {script}):\n"
        f"--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-6000:]}"
    )


def test_extraction_reads_fences_and_titles(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text('text\n```python\nx = 1\n```\n\n```python title="m.py"\nY = 2\n```\n'
                    "```bash\nexit 1\n```\n  ```python\n  assert x == 1\n  ```\n", encoding="utf-8")
    snippets = python_snippets(page)
    assert [(s.code, s.title) for s in snippets] == [("x = 1\n", None), ("Y = 2\n", "m.py"),
                                                     ("assert x == 1\n", None)]
    script = page_script(page, tmp_path)
    assert (tmp_path / "m.py").read_text() == "Y = 2\n"
    assert subprocess.run([sys.executable, str(script)], cwd=tmp_path).returncode == 0


if __name__ == "__main__":  # write a page's script to look at: python tests/docs/test_docs_snippets.py PAGE DIR
    print(page_script(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()))
