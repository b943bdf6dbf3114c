"""``opto demo``: the main job, offline -- evolve a bin-packing heuristic, train with OptoPrime, report.

Uses the LLM configured in the environment (OPTO_LLM_MODEL, ...) or else the embedded model, and
the OR3 instances shipped with the package. Same seed, same result (budgets in evaluations and
LLM calls, replies cached). See docs/demo.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--budget", type=int, default=None,
                        help="evaluations for the search (default 64, --quick 12); the LLM call cap scales with it")
    parser.add_argument("--out", default="opto-demo", help="folder for run stores, reports, result.json "
                        "(default ./opto-demo)")
    parser.add_argument("--quick", action="store_true", help="a small run (about a minute) to check the set-up")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no live progress lines")


def plan_of(args: argparse.Namespace) -> Any:
    from opto.demo.run import Plan

    plan = Plan.quick(args.seed) if args.quick else Plan(seed=args.seed)
    if args.budget is not None:
        if args.budget < 2:
            raise ValueError(f"--budget must be at least 2 evaluations, got {args.budget}")
        # keep the LLM share of the search: the default allows 16 calls in 64 evaluations
        calls = max(1, round(args.budget * plan.llm_calls / plan.budget))
        plan = type(plan)(**{**plan.__dict__, "budget": args.budget, "llm_calls": calls})
    return plan


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
