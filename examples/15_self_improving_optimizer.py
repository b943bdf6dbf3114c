"""A self-improving optimizer (STOP): the instruction text the inner optimizer gives its LLM is itself a
trainable parameter. An outer OptoPrime loop improves it, scored by how well the inner OptoPrime does
with it on a task (minimize (x - 3)^2 from x = -7.3 in a few steps).

Run:  python examples/15_self_improving_optimizer.py [--quick] [--outer N] [--inner K]
Each outer evaluation runs a whole inner optimization, so the LLM is called K times per score. With
the embedded 135M model neither loop is expected to gain much; the example prints what happened.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import opto
from opto import trace
from opto.llm import resolve_lm
from opto.optimizers import OptoPrime
from opto.trainer import train

START = ("You're tasked to solve a coding/algorithm problem. You will see the instruction, the code, the "
         "documentation of each function used in the code, and the feedback about the execution result.")
SETTINGS: dict[str, Any] = {"lm": None, "inner_steps": 2, "max_tokens": 200}


@trace.bundle()
def loss(x):
    """The squared distance of x from 3: (x - 3) ** 2. Its minimum, 0, is at x = 3."""
    return (x - 3) ** 2


def inner_optimization(instruction: str) -> float:
    """Run the inner OptoPrime (its LLM sees `instruction` as the task statement) for a few steps on
    minimizing (x - 3) ** 2 from x = -7.3; return the best loss reached. Plain Python: the inner loop
    traces its own graph, apart from the outer one."""
    x = trace.node(-7.3, trainable=True, name="x", description="a real number to choose")
    inner = OptoPrime([x], lm=SETTINGS["lm"], objective=instruction, max_tokens=SETTINGS["max_tokens"], memory_size=2,
                      temperature=0.0, seed=0)
    best = float((x.data - 3) ** 2)
    for _ in range(int(SETTINGS["inner_steps"])):
        with opto.context(tracing=True):  # the trainer may score the outer model with tracing off
            out = loss(x)
        inner.zero_feedback()
        inner.backward(out, f"The output is {out.data:.4g}; it should be as small as possible (the minimum is 0).")
        inner.step()
        try:
            best = min(best, float((float(x.data) - 3) ** 2))
        except (TypeError, ValueError):  # an odd value: the best so far stands
            pass
    return best


@trace.bundle()
def inner_result(instruction: str, best_loss: float) -> float:
    """The best loss the inner optimizer reached in a few steps on minimizing (x - 3) ** 2 from x = -7.3
    when its LLM was given `instruction` as the task statement; lower is better."""
    return best_loss


@trace.model
class SelfImprovingOptimizer:
    def __init__(self) -> None:
        self.instruction = trace.node(START, trainable=True, name="instruction",
                                      description="the task statement the inner optimizer shows its LLM")

    def forward(self, _input: Any) -> Any:
        return inner_result(self.instruction, inner_optimization(str(self.instruction.data)))


def guide(_input: Any, output: Any, _info: Any) -> tuple[float, str]:
    value = float(output)
    return -value, (f"With this instruction the inner optimizer reached a loss of {value:.4g} (0 is perfect). "
                    "Rewrite the instruction so the inner optimizer moves x to the minimum in fewer steps.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (also: OPTO_EXAMPLE_QUICK=1)")
    parser.add_argument("--outer", type=int, default=None, help="outer steps (default 3, quick 1)")
    parser.add_argument("--inner", type=int, default=None, help="inner steps per evaluation (default 3, quick 1)")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("OPTO_EXAMPLE_QUICK") == "1"
    SETTINGS["lm"] = lm = resolve_lm()
    SETTINGS["inner_steps"] = args.inner or (1 if quick else 3)
    SETTINGS["max_tokens"] = 150 if quick else 300
    print(f"LM: {lm.model}")

    model: Any = SelfImprovingOptimizer()  # @trace.model adds parameters()
    outer = OptoPrime(model.parameters(), lm=lm, max_tokens=300 if quick else 600, memory_size=2, temperature=0.0, seed=1)
    result: Any = train(model, [(None, None)], guide, optimizer=outer, epochs=args.outer or (1 if quick else 3),
                        batch_size=1, progress=False, failure_score=-1e9)

    print(f"\nouter steps: {result.steps}; inner loss with the start instruction {0.0 - result.seed_score:.4g}, "
          f"with the best instruction {0.0 - result.best_score:.4g}")
    changed = model.instruction.data != START
    print("instruction now:\n  " + str(model.instruction.data) if changed else
          "The instruction is unchanged (no rewrite scored better).")
    for entry in outer.log:
        for r in entry.get("rejected", []):
            print(f"  outer step {entry.get('step')}: a rewrite was rejected: {str(r['reason'])[:140]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
