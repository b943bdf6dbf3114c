"""An AutoML-Zero / Lion-style symbolic search: evolve the code of an optimizer's update rule
`update(w, g, m, v, t) -> (w, m, v)`, scored by how low it drives seeded toy losses in 100 steps.

Run:  python examples/12_update_rule_search.py [--quick] [--budget N] [--seed S]
The start is SGD with momentum (it diverges on Rosenbrock at its learning rate). Operators: literal
perturbation and operator swaps (no LLM), EoH's M1/M2/E1 with the configured LLM (the embedded model
when none is), FunSearch best-shot prompting. Prints the best rule and its loss per problem.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from opto.demo import update_rule
from opto.demo.run import CappedLM
from opto.llm import resolve_lm
from opto.optimizers.evolution import Evolution
from opto.trace.nodes import ParameterNode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (also: OPTO_EXAMPLE_QUICK=1)")
    parser.add_argument("--budget", type=int, default=None, help="evaluations (default 64, quick 10)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    quick = args.quick or os.environ.get("OPTO_EXAMPLE_QUICK") == "1"
    budget = args.budget or (10 if quick else 64)

    lm = resolve_lm()
    print(f"LM: {lm.model}")
    rule: ParameterNode[str] = ParameterNode(update_rule.SGD_MOMENTUM, name="__code", trainable=True)
    llm_ops = ("M1", "M2", "E1", "funsearch")
    opt = Evolution({"update": rule}, lm=CappedLM(lm, 1 if quick else budget // 8), task=update_rule.TASK,
                    config={"seed": args.seed, "islands": 2, "batch_size": 4, "survival": "aging",
                            "population_size": 16,  # regularized evolution: the oldest leave the island
                            "operators": ["ast_perturb", "ast_swap", *llm_ops],
                            "operator_options": {op: {"max_tokens": 192 if quick else 384} for op in llm_ops}})
    with tempfile.TemporaryDirectory() as tmp:
        result = opt.search("opto.demo.update_rule:evaluate", budget=budget, workers=2,
                            store=Path(tmp) / "update_rule.db")

    start = update_rule.evaluate({"update": update_rule.SGD_MOMENTUM})  # our own code: safe in-process
    print(f"\n{result.evaluations} evaluations (stopped: {result.stopped})")
    for name, s in sorted(result.operators.items()):
        print(f"  {name:12s} {s.get('proposals', 0):3d} proposals {s.get('valid', 0):3d} valid "
              f"{s.get('improved', 0):3d} improved")
    print(f"mean log10 final loss: SGD+momentum {-start['score']:.3f} -> best {-result.score:.3f}")
    print("  start: " + start["feedback"])
    print("best rule (by " + (result.candidate.operator or "seed") + "):\n" + str(result.values["update"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
