"""A TSP constructive heuristic (AEL / EoH): evolve `select_next_node(current, destination, unvisited,
distances)`, which builds a tour one city at a time, on 16 seeded instances of 50 cities.

Run:  python examples/11_tsp_heuristic.py [--quick] [--budget N] [--seed S]
The score is the gap in % of the mean tour length to reference tours computed by elkai (LKH-3) on the
same instances (shipped as data; `python -m opto.demo.make_tsp_reference` recomputes them). Selected on
the first 8 instances, reported on all 16. Nearest neighbour, the start, is about 21 % above.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from opto.demo import tsp
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
    code: ParameterNode[str] = ParameterNode(tsp.NEAREST_NEIGHBOUR, name="__code", trainable=True)
    llm_ops = ("E1", "E2", "M1", "M2", "M3")  # EoH's five strategies
    opt = Evolution({"select_next_node": code}, lm=CappedLM(lm, 1 if quick else budget // 4), task=tsp.TASK,
                    config={"seed": args.seed, "islands": 1, "batch_size": 4, "heldout_top": 2,
                            "operators": ["ast_perturb", "ast_swap", *llm_ops],
                            "operator_options": {op: {"max_tokens": 192 if quick else 384} for op in llm_ops}})
    with tempfile.TemporaryDirectory() as tmp:
        result = opt.search("opto.demo.tsp:evaluate", budget=budget, workers=2, input="first8", heldout="all",
                            store=Path(tmp) / "tsp.db")

    start = tsp.evaluate({"select_next_node": tsp.NEAREST_NEIGHBOUR})["scores"]["gap_percent"]  # our own code
    best = next(r for r in result.heldout if r["candidate_id"] == result.candidate.id)
    print(f"\n{result.evaluations} evaluations (stopped: {result.stopped})")
    for name, s in sorted(result.operators.items()):
        print(f"  {name:12s} {s.get('proposals', 0):3d} proposals {s.get('valid', 0):3d} valid "
              f"{s.get('improved', 0):3d} improved")
    print(f"gap to the LKH-3 reference on all 16 instances: nearest neighbour {start:.2f}% -> "
          f"best {-float(best['heldout_score']):.2f}% (selected on 8: {-result.score:.2f}%)")
    if result.candidate.operator in (None, "seed"):
        print("No child beat nearest neighbour within this budget (try a larger --budget or an API model).")
    print("best heuristic:\n" + str(result.values["select_next_node"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
