"""``opto report RUN.db``: write the static HTML report of a run store (safe while the run is written)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", type=Path, help="the run store (.db) of an evolution or training run")
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help="the HTML file to write (default: the store's name with .html)")


def run(args: argparse.Namespace) -> int:
    from opto.report import build_report
    from opto.store import StoreError

    if not args.store.exists():
        print(f"opto report: no run store at {args.store}; give the path of a run's .db file", file=sys.stderr)
        return 2
    try:
        out = build_report(args.store, args.output)
    except (StoreError, ValueError, FileNotFoundError) as err:
        print(f"opto report: {err}", file=sys.stderr)
        return 2
    print(f"opto report: wrote {out} (charts also in {out.with_name(out.stem + '_files')})")
    return 0
