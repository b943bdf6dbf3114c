"""Trace-guided evolution: the mutation is an OptoPrime step on the candidate's own execution trace --
the recorded calls of `priority(item, bins)` on the instance it packs worst (inputs and outputs of the
first and last calls) plus the evaluation's feedback -- rather than on its score alone.

Run:  python examples/14_trace_guided_evolution.py [--quick] [--budget N]
Prints the trace the first mutation read (as the evaluation recorded it in the sandbox and as it
appeared in the prompt), then what the search made of it. The LLM is the configured one, else the
embedded model.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

from opto.demo import binpacking as bp
from opto.llm import resolve_lm
from opto.optimizers.evolution import Evolution
from opto.optimizers.evolution.operators.trace_guided import render_trace
from opto.store import RunStore
from opto.trace.nodes import ParameterNode


class PromptLog:
    """Passes calls to an LM and keeps the prompts, to show what the mutation read (at most ``cap`` calls)."""

    def __init__(self, lm: Any, cap: int) -> None:
        self.lm, self.cap = lm, cap
        self.prompts: list[str] = []
        self.model = lm.model

    @property
    def usage(self) -> Any:
        return getattr(self.lm, "usage", None)

    def complete(self, request: Any) -> Any:
        if len(self.prompts) >= self.cap:
            raise RuntimeError(f"the example's cap of {self.cap} LLM calls is reached")
        self.prompts.append("\n".join(str(m["content"]) for m in request.messages))
        return self.lm.complete(request)

    async def acomplete(self, request: Any) -> Any:
        return self.complete(request)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (also: OPTO_EXAMPLE_QUICK=1)")
    parser.add_argument("--budget", type=int, default=None, help="evaluations (default 24, quick 4)")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("OPTO_EXAMPLE_QUICK") == "1"
    budget = args.budget or (4 if quick else 24)

    lm = PromptLog(resolve_lm(), 1 if quick else budget // 2)
    print(f"LM: {lm.model}")
    code: ParameterNode[str] = ParameterNode(bp.SEED, name="__code", trainable=True)
    opt = Evolution({"priority": code}, lm=lm, task=bp.TASK,
                    config={"seed": 0, "islands": 1, "batch_size": 2, "heldout_top": 0,
                            "operators": ["trace_guided", "ast_perturb"],
                            "operator_options": {"trace_guided": {"max_tokens": 256 if quick else 768}}})
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "trace_guided.db"
        result = opt.search("opto.demo.binpacking:evaluate", budget=budget, workers=2, input="train", store=store)
        with RunStore.open(store, readonly=True) as s:
            seed_eval = next(e for e in s.evaluations() if e.ok)

    trace = seed_eval.artifacts.get("trace")
    print("\n== the trace recorded in the sandbox for the start heuristic (its worst instance)")
    print(render_trace(trace) if trace else "(none recorded)")
    if lm.prompts:
        prompt = lm.prompts[0]
        start = prompt.rfind("\n#Code")  # the section itself, not the legend that names it
        end = prompt.rfind("\n#Feedback")
        print("\n== the same trace in the mutation's OptoPrime prompt (#Code ... #Outputs)")
        print(prompt[start:end if end > start else start + 3000][:3000] if start >= 0 else prompt[:3000])
    print(f"\n{result.evaluations} evaluations (stopped: {result.stopped})")
    for name, st in sorted(result.operators.items()):
        print(f"  {name:12s} {st.get('proposals', 0):3d} proposals {st.get('valid', 0):3d} valid "
              f"{st.get('improved', 0):3d} improved")
    print(f"training excess: best {-result.score:.2f}% (start {seed_eval.scores.get('excess_percent', 0):.2f}%), "
          f"best by {result.candidate.operator or 'seed'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
