"""A small seeded search over numbers, code-free, run as a subprocess by the resume test.

    python evo_resume_script.py STORE BUDGET  ->  prints the best as JSON on the last line
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from opto.optimizers.evolution.search import Evolution  # noqa: E402
from opto.trace import node  # noqa: E402

CONFIG = {"islands": 2, "batch_size": 4, "seed": 11, "selection": "tournament", "survival": "aging",
          "population_size": 8, "migration_period": 2, "reset_period": 3,
          "space": {"x": {"low": -5, "high": 5}, "n": {"low": 0, "high": 10}, "mode": {"choices": ["a", "b", "c"]}}}


def main(store: str, budget: int) -> dict:
    params = {"x": node(0.0, trainable=True, name="x"), "n": node(1, trainable=True, name="n"),
              "mode": node("a", trainable=True, name="mode")}
    opt = Evolution(params, config=CONFIG)
    result = opt.search("evo_objectives:quadratic_slow", budget=budget, store=store, workers=2)
    return {"id": result.candidate.id, "score": result.score, "values": dict(result.values),
            "evaluations": result.evaluations}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]))), flush=True)
