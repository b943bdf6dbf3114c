"""A number improved by textual feedback: OptoPrime reads the trace of f(x) = (x - 3)^2 and the sentence
"the output is too large", and proposes a new x.

Run:  python examples/02_numeric_feedback.py [--quick] [--steps N]
Uses the LLM from the environment (OPTO_LLM_MODEL, ...) when one is configured, else the embedded
offline model (SmolLM2-135M, which often proposes poor values: the example says what happened).
"""

from __future__ import annotations

import argparse
import os

from opto import trace
from opto.llm import resolve_lm
from opto.optimizers import OptoPrime
from opto.trainer import train


@trace.bundle()
def loss(x):
    """The squared distance of x from 3: (x - 3) ** 2. Its minimum, 0, is at x = 3."""
    return (x - 3) ** 2


@trace.model
class Number:
    def __init__(self, start: float) -> None:
        self.x = trace.node(start, trainable=True, description="a real number to choose")

    def forward(self, _unused):
        return loss(self.x)


def guide(_input, output, _info):
    """Score = -loss; the feedback is a sentence, not a gradient."""
    if output < 1e-6:
        return 0.0, "The output is 0, the minimum. Keep x."
    return -float(output), f"The output is {output:.4g}; it should be as small as possible (the minimum is 0)."


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (also: OPTO_EXAMPLE_QUICK=1)")
    parser.add_argument("--steps", type=int, default=None, help="optimizer steps (default 8, quick 2)")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("OPTO_EXAMPLE_QUICK") == "1"
    steps = args.steps or (2 if quick else 8)

    lm = resolve_lm()
    print(f"LM: {lm.model}")
    model = Number(-7.3)
    reply_tokens = 160 if quick else 300  # the short mode keeps replies short
    optimizer = OptoPrime(model.parameters(), lm=lm, max_tokens=reply_tokens,
                          memory_size=3, temperature=0.0, seed=0)
    result = train(model, [(None, None)], guide, optimizer=optimizer, epochs=steps, batch_size=1, progress=False)

    print("\nstep  candidate         score (= -loss)")
    for entry in result.history:
        print(f"{entry['step']:>4}  {entry['candidate_id']}  {entry['score']:.4g}")
    applied = sum(1 for e in optimizer.log if e.get("applied"))
    rejected = [r["reason"] for e in optimizer.log for r in e.get("rejected", [])]
    print(f"\nx: -7.3 -> {model.x.data} (best kept), loss {(model.x.data - 3) ** 2:.4g} "
          f"(start {(-7.3 - 3) ** 2:.4g})")
    print(f"{len(optimizer.log)} replies, {applied} applied, {len(rejected)} suggestions rejected")
    for reason in rejected[:3]:
        print(f"  rejected: {reason[:120]}")
    if result.best_score > result.seed_score:
        print("The optimizer improved x.")
    else:
        print("No improvement: no proposal was better than the start (common with the embedded 135M model).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
