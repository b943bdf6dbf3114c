"""Algorithm configuration: tune a simulated-annealing TSP solver's numeric settings (start
temperature, cooling, iterations) and categorical ones (move type, start tour) with the evolutionary
backend's non-LLM operators: Optuna's sampler, Gaussian mutation and crossover of the numeric vector.

Run:  python examples/13_solver_configuration.py [--quick] [--budget N] [--seed S]
No LLM is used. Selected on 8 TSP instances, reported on the 8 others (held out) as the gap in % to
LKH-3 reference tours.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from opto import trace
from opto.demo import solver_config
from opto.optimizers.evolution import Evolution


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (also: OPTO_EXAMPLE_QUICK=1)")
    parser.add_argument("--budget", type=int, default=None, help="evaluations (default 48, quick 8)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    quick = args.quick or os.environ.get("OPTO_EXAMPLE_QUICK") == "1"
    budget = args.budget or (8 if quick else 48)

    # One trainable node per setting; the space says which are categorical and the numeric ranges.
    params = {name: trace.node(value, trainable=True, name=name) for name, value in solver_config.DEFAULTS.items()}
    opt = Evolution(params, config={"seed": args.seed, "islands": 1, "batch_size": 4, "heldout_top": 2,
                                    "selection": "tournament", "space": solver_config.SPACE,
                                    "operators": ["optuna", "numeric_mutate", "numeric_crossover"]})
    with tempfile.TemporaryDirectory() as tmp:
        result = opt.search("opto.demo.solver_config:evaluate", budget=budget, workers=2, input="first8",
                            heldout="last8", store=Path(tmp) / "solver.db")

    start = solver_config.evaluate(solver_config.DEFAULTS, "last8")["scores"]["gap_percent"]
    best = next(r for r in result.heldout if r["candidate_id"] == result.candidate.id)
    print(f"{result.evaluations} evaluations (stopped: {result.stopped})")
    for name, s in sorted(result.operators.items()):
        print(f"  {name:18s} {s.get('proposals', 0):3d} proposals {s.get('improved', 0):3d} improved")
    print("best settings: " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                        for k, v in result.values.items()))
    print(f"gap to LKH-3 on the 8 held-out instances: defaults {start:.2f}% -> best {-float(best['heldout_score']):.2f}% "
          f"(selection instances: {-result.score:.2f}%)")
    print("the parameters now hold the best values: " + ", ".join(f"{k}={p.data}" for k, p in params.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
