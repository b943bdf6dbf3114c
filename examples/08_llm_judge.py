"""An LLM judge as the guide: no reference answers, a model grades each output against criteria.

The judge must return a structured verdict (JSON validated against ``Verdict``: a score in [0, 1] and
feedback); a reply that is not a valid verdict scores 0 with feedback saying so, so prose such as
"this is perfect" never counts as a pass. The program writes a one-line slogan for a product, with a
trainable instruction.

Run:  python examples/08_llm_judge.py [--quick]
With the embedded 135M model both the writer and the judge are weak: the judge's replies are often not
valid verdicts even after the repair turn, so they score 0 and say why; the example prints the verdicts.
"""

from __future__ import annotations

import argparse
import os

from opto import trace
from opto.llm import Request, resolve_lm
from opto.optimizers import OptoPrime
from opto.trainer import LLMJudge, train

LM = None
PRODUCTS = ["a solar lamp", "a steel water bottle", "a wool hat", "a folding bike", "a tea kettle", "a notebook"]
CRITERIA = "A good slogan is one short sentence, names the product, and says one concrete benefit."


@trace.bundle()
def write_slogan(instruction, product):
    """The language model writes a slogan for the product, following the instruction."""
    return LM.complete(Request.of(f"{instruction}\nProduct: {product}\nSlogan:", max_tokens=24,
                                  temperature=0.0, seed=0)).text.strip()


@trace.model
class SloganWriter:
    def __init__(self) -> None:
        self.instruction = trace.node("Write something.", trainable=True,
                                      description="the instruction the language model gets before each product")

    def forward(self, product):
        return write_slogan(self.instruction, product)


def main() -> int:
    global LM
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (also: OPTO_EXAMPLE_QUICK=1)")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("OPTO_EXAMPLE_QUICK") == "1"

    LM = resolve_lm()
    print(f"LM: {LM.model}")
    judge = LLMJudge(LM, criteria=CRITERIA, max_tokens=96)
    n = 2 if quick else 3
    train_set = [(p, None) for p in PRODUCTS[:n]]
    val_set = [(p, None) for p in PRODUCTS[3 : 3 + n]]
    model = SloganWriter()
    reply_tokens = 160 if quick else 300  # the short mode keeps replies short
    optimizer = OptoPrime(model.parameters(), lm=LM, max_tokens=reply_tokens, memory_size=2, temperature=0.0,
                          seed=0)
    result = train(model, train_set, judge, optimizer=optimizer, epochs=1, batch_size=n, val_set=val_set,
                   progress=False)
    print()
    print(result)
    print(f"\ninstruction: {model.instruction.data!r}")
    for product, _ in val_set:
        slogan = model(product).data
        verdict = judge(product, slogan, None)
        print(f"  {product}: {slogan!r} -> judge score {verdict.score:.2f}: {verdict.feedback[:100]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
