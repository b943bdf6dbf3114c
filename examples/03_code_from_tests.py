"""A function's code fixed by test feedback: the failing tests' messages go backward to the source of a
trainable @bundle, and OptoPrime rewrites it (the rewrite must parse, keep the signature, compile).

Run:  python examples/03_code_from_tests.py [--quick]
With the embedded 135M model the fix is rarely found; with an API model it usually is in one or two steps.
"""

from __future__ import annotations

import argparse
import os

from opto import trace
from opto.llm import resolve_lm
from opto.optimizers import OptoPrime
from opto.trainer import train


@trace.bundle(trainable=True)
def is_leap(year: int) -> bool:
    """Return True when ``year`` is a leap year in the Gregorian calendar."""
    return year % 4 == 0


TESTS = [(2024, True), (2023, False), (1900, False), (2000, True), (2100, False), (1996, True)]


def guide(year, output, expected):
    if output == expected:
        return 1.0, f"is_leap({year}) = {output}: correct."
    return 0.0, f"is_leap({year}) returned {output!r}, expected {expected!r}."


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (also: OPTO_EXAMPLE_QUICK=1)")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("OPTO_EXAMPLE_QUICK") == "1"

    lm = resolve_lm()
    print(f"LM: {lm.model}")
    before = is_leap.parameter.data
    reply_tokens = 160 if quick else 400  # the short mode keeps replies short
    optimizer = OptoPrime(is_leap.parameters(), lm=lm, max_tokens=reply_tokens,
                          memory_size=2, temperature=0.0, seed=0)
    result = train(is_leap, TESTS, guide, optimizer=optimizer, epochs=1 if quick else 3, batch_size=len(TESTS),
                   progress=False)

    print(f"\ntests passed: {result.seed_score * len(TESTS):.0f}/{len(TESTS)} before -> "
          f"{result.best_score * len(TESTS):.0f}/{len(TESTS)} with the best code kept")
    for entry in optimizer.log:
        for r in entry.get("rejected", []):
            print(f"  step {entry.get('step')}: a rewrite was rejected: {str(r['reason'])[:140]}")
    after = is_leap.parameter.data
    print("\ncode now:\n" + after if after != before else "\nThe code is unchanged (no rewrite scored better).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
