"""``opto resume run.db``: continue a run that ``opto evolve`` started (killed, or out of budget).

The run store's config holds every setting the run was started with; the search replays from
its seed against the stored evaluations, so a killed run ends with the same best as one that was
never interrupted. ``--budget`` may raise the budget of a finished run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", help="the run store file an `opto evolve` run wrote")
    parser.add_argument("--budget", type=int, default=None, help="total evaluations (default: the run's own)")
    parser.add_argument("--time-limit", type=float, default=None, help="stop after this many seconds")
    parser.add_argument("--output", default=None, help="write the best function's source to this file")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no live progress line")


def stored_settings(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(resumable settings, last run-only settings) of an `opto evolve` run store."""
    from opto.store import RunStore

    with RunStore.open(path, readonly=True) as store:
        config = store.info().config
        starts = store.events("cli")
    settings = config.get("cli")
    if config.get("kind") != "evolution" or not isinstance(settings, dict):
        raise ValueError(f"{path} was not written by `opto evolve`; resume a Python search by calling "
                         "Evolution.search(store=...) again with the same arguments")
    return settings, dict(starts[-1].data) if starts else {}


def run(args: argparse.Namespace) -> int:
    from opto.cli.evolve import execute

    path = Path(args.store)
    if not path.exists():
        print(f"opto resume: no run store at {path}; start a run with `opto evolve ... --store {path}`",
              file=sys.stderr)
        return 2
    try:
        settings, last = stored_settings(path)
    except Exception as err:  # noqa: BLE001 - a broken or foreign file: say so, exit 2
        print(f"opto resume: {err}", file=sys.stderr)
        return 2
    settings = {**settings, "store": str(path.resolve())}
    run_only = {
        "budget": args.budget if args.budget is not None else last.get("budget", 100),
        "time_limit": args.time_limit if args.time_limit is not None else last.get("time_limit"),
        "output": args.output if args.output is not None else last.get("output"),
        "progress": args.progress,
    }
    return execute(settings, run_only)
