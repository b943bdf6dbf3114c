"""``opto demo``: the main job, offline -- evolve a bin-packing heuristic, train with OptoPrime, report.

Uses the LLM configured in the environment (OPTO_LLM_MODEL, ...) or else the embedded model, and
the OR3 instances shipped with the package. Same seed, same result (budgets in evaluations and
LLM calls, replies cached). See docs/demo.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--budget", type=int, default=None,
                        help="evaluations for the search (default 640, --quick 12)")
    parser.add_argument("--llm-calls", type=int, default=None,
                        help="cap on the search's LLM calls, cached ones included (default 16, --quick 1)")
    parser.add_argument("--out", default="opto-demo", help="folder for run stores, reports, result.json "
                        "(default ./opto-demo)")
    parser.add_argument("--quick", action="store_true", help="a small run (about a minute) to check the set-up")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no live progress lines")


def plan_of(args: argparse.Namespace) -> Any:
    from opto.demo.run import Plan

    plan = Plan.quick(args.seed) if args.quick else Plan(seed=args.seed)
    budget, calls = args.budget, getattr(args, "llm_calls", None)
    if budget is not None and budget < 2:
        raise ValueError(f"--budget must be at least 2 evaluations, got {budget}")
    if calls is not None and calls < 0:
        raise ValueError(f"--llm-calls must be 0 or more, got {calls}")
    # separate budgets: evaluations are cheap, LLM calls are most of the time
    return dataclasses.replace(plan, budget=plan.budget if budget is None else budget,
                               llm_calls=plan.llm_calls if calls is None else calls)


def run(args: argparse.Namespace) -> int:
    try:
        plan = plan_of(args)
    except ValueError as err:
        print(f"opto demo: {err}", file=sys.stderr)
        return 2
    from opto.demo.run import run_demo
    from opto.llm import LMConfigError, resolve_lm

    try:
        lm = resolve_lm()
    except LMConfigError as err:
        print(f"opto demo: {err}", file=sys.stderr)
        return 2
    progress = None
    if args.progress:
        from opto.cli.evolve_progress import Progress

        def progress(path: Path, budget: int) -> Any:
            return Progress(path, budget, interval_s=2.0)

    run_demo(plan, Path(args.out).resolve(), lm, progress, train_progress=args.progress)
    return 0
