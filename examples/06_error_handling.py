"""Errors are feedback: a trainable parser that raises on some inputs, and LLM replies that cannot be used.

- The parser's exception becomes the instance's feedback (with the failing code and message in the
  trace), the instance scores 0, and training goes on.
- A reply the optimizer cannot use (not JSON, code that does not parse or changes the signature) is
  rejected, not applied; the reason is logged and shown to the model on the next step.

Run:  python examples/06_error_handling.py [--quick]
"""

from __future__ import annotations

import argparse
import os

from opto import trace
from opto.llm import resolve_lm
from opto.optimizers import OptoPrime
from opto.trainer import train


@trace.bundle(trainable=True)
def parse_price(text: str) -> float:
    """Return the amount of money in ``text`` as a float, e.g. "$12.50" -> 12.5 and "7 EUR" -> 7.0."""
    return float(text.split("$")[1])


DATA = [("$12.50", 12.5), ("7 EUR", 7.0), ("$3", 3.0), ("price: 40 USD", 40.0), ("$0.99", 0.99)]


def guide(text, output, expected):
    if abs(output - expected) < 1e-9:
        return 1.0, "Correct."
    return 0.0, f"parse_price({text!r}) returned {output!r}, expected {expected!r}."


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (also: OPTO_EXAMPLE_QUICK=1)")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("OPTO_EXAMPLE_QUICK") == "1"

    lm = resolve_lm()
    print(f"LM: {lm.model}")
    reply_tokens = 160 if quick else 400  # the short mode keeps replies short
    optimizer = OptoPrime(parse_price.parameters(), lm=lm, max_tokens=reply_tokens,
                          memory_size=2, temperature=0.0, seed=0)
    result = train(parse_price, DATA, guide, optimizer=optimizer, epochs=1 if quick else 3, batch_size=len(DATA),
                   progress=False)
    print(f"\nparsed correctly: {result.seed_score * len(DATA):.0f}/{len(DATA)} at the start "
          f"(the rest raised) -> {result.best_score * len(DATA):.0f}/{len(DATA)} best")
    first = optimizer.log[0] if optimizer.log else {}
    shown = "IndexError" in str(first.get("prompt", ""))
    print(f"the first prompt showed the exception to the model: {shown}")
    for entry in optimizer.log:
        if entry.get("applied"):
            status = f"applied {sorted(entry['applied'])}"
        elif entry.get("rejected") or entry.get("model_error"):
            status = "nothing applied"
        else:
            status = "nothing applied: the reply suggested no change"
        print(f"step {entry.get('step')}: {status}")
        for r in entry.get("rejected", []):
            print(f"  rejected ({r.get('param')}): {str(r.get('reason'))[:140]}")
        if entry.get("model_error"):
            print(f"  model call failed: {entry['model_error'][:140]}")
    print("Training finished without crashing on the parser's exceptions or on unusable replies.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
