"""Plan a training run before spending anything, stop it at a budget, and resume it from its run store.

1. ``train(..., dry_run=True)`` prints the planned LLM calls, evaluations and cost for the budget
   (and warns when the budget allows fewer than three proposals).
2. A run with a budget of 2 proposals stops cleanly and keeps the best parameters so far.
3. The same call with a larger budget and the same store continues after the last checkpoint
   (the optimizer's memory and the search state come back too) instead of starting over.

Run:  python examples/07_budget_and_resume.py [--quick] [--store runs/budget.db]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from opto import trace
from opto.llm import resolve_lm
from opto.optimizers import OptoPrime
from opto.store import RunStore
from opto.trainer import TrainBudget, train


@trace.bundle()
def distance(x, target):
    """How far x is from the target: abs(x - target)."""
    return abs(x - target)


@trace.model
class Guess:
    def __init__(self) -> None:
        self.x = trace.node(0.0, trainable=True, description="a number that should match every target")

    def forward(self, target):
        return distance(self.x, target)


def guide(target, output, _info):
    if output < 1e-9:
        return 1.0, "Exactly right."
    return -float(output), f"The distance to {target} is {output:.3g}; make it 0."


DATA = [(5.0, None), (5.0, None)]


def run(store: Path, lm, budget: int, quick: bool, dry_run: bool = False):
    model = Guess()
    reply_tokens = 160 if quick else 300  # the short mode keeps replies short
    optimizer = OptoPrime(model.parameters(), lm=lm, max_tokens=reply_tokens, memory_size=2, temperature=0.0,
                          seed=0)
    result = train(model, DATA, guide, optimizer=optimizer, epochs=2 if quick else 3, batch_size=1,
                   budget=TrainBudget(max_proposals=budget), store=store, dry_run=dry_run, progress=False)
    return model, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (also: OPTO_EXAMPLE_QUICK=1)")
    parser.add_argument("--store", default=None, help="run store file (default: a temporary one)")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("OPTO_EXAMPLE_QUICK") == "1"
    store = Path(args.store) if args.store else Path(tempfile.mkdtemp()) / "budget.db"

    lm = resolve_lm()
    print(f"LM: {lm.model}\n")
    run(store, lm, budget=2, quick=quick, dry_run=True)

    print("\n== first run, budget 2 proposals ==")
    model, first = run(store, lm, budget=2, quick=quick)
    print(first)
    print(f"x = {model.x.data}")

    print("\n== same call, budget 4 proposals, same store ==")
    model, second = run(store, lm, budget=4, quick=quick)
    print(second)
    print(f"x = {model.x.data}; resumed from the store: {second.resumed}")
    with RunStore.open(store, readonly=True) as s:
        resumes = [e.data["steps_done"] for e in s.events("resume")]
        print(f"store {store}: {s.counts()['llm_calls']} LLM calls recorded, resumed after step(s) {resumes}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
