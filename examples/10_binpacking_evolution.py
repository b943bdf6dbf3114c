"""Online bin packing heuristic evolution (FunSearch / EoH): a population of `priority(item, bins)`
functions is mutated by LLM operators (EoH's M1/M2/E1, FunSearch best-shot) and by operators that need
no LLM (literal perturbation, operator swaps), evaluated in 2 sandboxed workers and selected on islands.

Run:  python examples/10_binpacking_evolution.py [--quick] [--budget N] [--seed S]
It selects on seeded OR3-like training instances and reports the best on OR3 (held out) against best
fit (5.37 %) and FunSearch (3.11 %). Uses the LLM from the environment (OPTO_LLM_MODEL, ...) when one is
configured, else the embedded SmolLM2-135M, whose rewrites rarely help: gains then come from the
non-LLM operators, and the example says which operator produced them.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from opto.demo import binpacking as bp
from opto.demo.run import CappedLM
from opto.llm import resolve_lm
from opto.optimizers.evolution import Evolution
from opto.trace.nodes import ParameterNode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (also: OPTO_EXAMPLE_QUICK=1)")
    parser.add_argument("--budget", type=int, default=None, help="evaluations (default 48, quick 8)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    quick = args.quick or os.environ.get("OPTO_EXAMPLE_QUICK") == "1"
    budget = args.budget or (8 if quick else 48)

    lm = resolve_lm()
    print(f"LM: {lm.model}")
    code: ParameterNode[str] = ParameterNode(bp.SEED, name="__code", trainable=True)
    opt = Evolution({"priority": code}, lm=CappedLM(lm, 1 if quick else budget // 4), task=bp.TASK,
                    config={"seed": args.seed, "islands": 2, "batch_size": 4, "heldout_top": 2,
                            "operators": ["ast_perturb", "ast_swap", "M1", "M2", "E1", "funsearch"],
                            "operator_options": {"ast_perturb": {"zero_scale": 3.0},  # zero weights -> item units
                                                 **{op: {"max_tokens": 192 if quick else 384}
                                                    for op in ("M1", "M2", "E1", "funsearch")}}})
    with tempfile.TemporaryDirectory() as tmp:
        result = opt.search("opto.demo.binpacking:evaluate", budget=budget, workers=2, input="train",
                            heldout="or3", store=Path(tmp) / "binpacking.db")

    best = next(r for r in result.heldout if r["candidate_id"] == result.candidate.id)
    or3 = -float(best["heldout_score"])
    print(f"\n{result.evaluations} evaluations, {result.generations} generations (stopped: {result.stopped})")
    for name, s in sorted(result.operators.items()):
        print(f"  {name:12s} {s.get('proposals', 0):3d} proposals {s.get('valid', 0):3d} valid "
              f"{s.get('improved', 0):3d} improved")
    start = bp.evaluate({"priority": bp.SEED})["scores"]["excess_percent"]  # the seed is our own code
    print(f"training instances: excess {start:.2f}% at the start (best fit) -> {-result.score:.2f}% best")
    print(f"OR3 (held out): best {or3:.2f}%, best fit {bp.BEST_FIT_OR3}%, FunSearch {bp.FUNSEARCH_OR3}%")
    if result.candidate.operator in (None, "seed"):
        print("No child beat the start within this budget (try a larger --budget or an API model).")
    print("best heuristic (by " + (result.candidate.operator or "seed") + "):\n" + str(result.values["priority"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
