"""Shared bits of the benchmark scripts: where results go and how they are printed.

Each script names its tracked result file (``bench/results/<name>.json``, the figures the docs
quote). A plain run writes next to it under ``bench/results/local/`` (ignored by git), so running a
documented command never dirties the checkout; ``--update-tracked`` writes the tracked file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

LOCAL_DIR = "local"  # sub-folder of the tracked results folder, listed in .gitignore


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--update-tracked`` to a benchmark script's parser."""
    parser.add_argument(
        "--update-tracked",
        action="store_true",
        help="overwrite the tracked result in bench/results/ (default: write bench/results/local/)",
    )


def output_path(tracked: Path, update_tracked: bool = False) -> Path:
    """``tracked`` itself when asked to update it, else its untracked twin under ``local/``."""
    return tracked if update_tracked else tracked.parent / LOCAL_DIR / tracked.name


def emit(path: Path, result: dict[str, Any], update_tracked: bool = False) -> int:
    """Print ``result`` as JSON and write it (see :func:`output_path` for where); exit code 0."""
    target = output_path(path, update_tracked)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2) + "\n"
    target.write_text(text)
    print(text, end="")
    note = "" if update_tracked else f" (tracked {path.name} unchanged; --update-tracked writes it)"
    print(f"wrote {target}{note}", file=sys.stderr)
    return 0
