"""Prompt optimization on a small shipped dataset (examples/data/sentiment.json: train / val / test).

The instruction sent before each review is trainable. Training selects by the validation score; the
held-out test score of the selected prompt is reported apart, with the gap.

Run:  python examples/04_prompt_optimization.py [--quick] [--algorithm minibatch|beam|priority|pareto]
          [--store runs/prompt.db]
With a --store, a killed run continues where it stopped when started again.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path

from opto import trace
from opto.llm import Request, resolve_lm
from opto.optimizers import OptoPrime
from opto.trainer import train

DATA = Path(__file__).parent / "data" / "sentiment.json"
LM = None  # set in main(): the model the program itself calls
_LABEL = re.compile(r"\b(positive|negative)\b", re.IGNORECASE)


@trace.bundle()
def classify(instruction, review):
    """Ask the language model about one review; the first 'positive' or 'negative' in its reply is the label."""
    reply = LM.complete(Request.of(f"{instruction}\n\nReview: {review}\nAnswer:", max_tokens=8,
                                   temperature=0.0, seed=0)).text
    found = _LABEL.search(reply)
    return found.group(1).lower() if found else reply.strip()[:40]


@trace.model
class Classifier:
    def __init__(self) -> None:
        self.instruction = trace.node("Read the review.", trainable=True,
                                      description="the instruction the language model gets before each review")

    def forward(self, review):
        return classify(self.instruction, review)


def guide(review, label, expected):
    if label == expected:
        return 1.0, "Correct."
    return 0.0, f"Wrong: the review is {expected}, but the program answered {label!r}."


def main() -> int:
    global LM
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (also: OPTO_EXAMPLE_QUICK=1)")
    parser.add_argument("--algorithm", default="minibatch", help="minibatch, beam, priority or pareto")
    parser.add_argument("--store", default=None, help="run store file (SQLite); a rerun resumes it")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("OPTO_EXAMPLE_QUICK") == "1"

    LM = resolve_lm()
    print(f"LM: {LM.model}")
    data = json.loads(DATA.read_text())
    if quick:
        data = {k: {"inputs": v["inputs"][:4], "infos": v["infos"][:4]} for k, v in data.items()}
    model = Classifier()
    reply_tokens = 160 if quick else 300  # the short mode keeps replies short
    optimizer = OptoPrime(model.parameters(), lm=LM, max_tokens=reply_tokens,
                          memory_size=2, temperature=0.0, seed=0)
    result = train(model, data["train"], guide, optimizer=optimizer, algorithm=args.algorithm, epochs=1,
                   batch_size=2 if quick else 4, val_set=data["val"], test_set=data["test"], store=args.store,
                   progress=not quick)
    print()
    print(result)
    print(f"\ninstruction: {model.instruction.data!r}")
    if result.best_score > result.seed_score:
        print("The selected instruction scores better on validation than the starting one.")
    else:
        print("No instruction scored better on validation than the starting one (common with the embedded 135M model).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
