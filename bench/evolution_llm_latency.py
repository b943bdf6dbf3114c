"""Seconds per reply of the embedded model for the evolution's LLM operators, before / after compact requests.

Builds the requests the operators M1, E1 and funsearch send for the bin-packing seed (with a
parent's feedback and five remembered rejections, as in a running search), then times LocalLM on
them: "full" is what the operators sent before (the whole prompt, the bench's 200-token cap, no stop
sequence), "compact" what they send to a small local model now (llm_call.compact). Optionally with
``--busy N`` CPU-bound processes running, like the search's sandbox workers.

    .venv/bin/python bench/evolution_llm_latency.py --replies 3 [--busy 2] [--out bench/results/x.json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from opto.llm import LocalLM, Request, Response, ScriptedLM  # noqa: E402
from opto.optimizers.evolution.operators import OPERATORS, OperatorContext, Parent, Rejection  # noqa: E402
from opto.optimizers.evolution.space import ParamSpec, SearchSpace  # noqa: E402

EXAMPLE = ROOT / "examples" / "binpacking"
TASK = "Online bin packing: return a priority score for each open bin; the item goes to the highest."


class Capture(ScriptedLM):
    """Records the request an operator makes; ``compact_prompts`` chooses the request style."""

    def __init__(self, compact: bool) -> None:
        super().__init__(lambda r: "{x}\n```python\ndef priority(item, bins):\n    return bins\n```")
        self.compact_prompts = compact


def _spin(stop: Any) -> None:
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def requests(compact: bool, max_tokens: int) -> dict[str, Request]:
    from opto.cli.evolve import function_source

    code, _ = function_source(EXAMPLE / "heuristic.py", "priority")
    space = SearchSpace((ParamSpec("priority", "code", function_name="priority", signature="(item, bins)"),))
    feedback = "excess over the L1 bound 4.12 % on 5 OR3 instances; worst instance u250_03: 4.9 %"
    parents = [Parent(f"p{i}", {"priority": code}, -4.1 - i, {}, feedback, {"thought": "best fit"}) for i in range(2)]
    rejected = [Rejection("M1", "unparseable", "the reply has no code block", code[:300])] * 5
    out = {}
    for name in ("M1", "E1", "funsearch"):
        lm = Capture(compact)
        ctx = OperatorContext(space, random.Random(0), lm, rejected, TASK)
        OPERATORS[name](max_tokens=max_tokens).propose(parents, ctx)
        out[name] = lm.requests[-1]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replies", type=int, default=3, help="replies timed per operator and style")
    parser.add_argument("--busy", type=int, default=0, help="CPU-bound processes running meanwhile")
    parser.add_argument("--max-tokens", type=int, default=200, help="the operators' configured reply cap")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    lm = LocalLM(cache=False)
    lm.complete(Request.of("hi", max_tokens=4))  # load the model outside the timings
    stop = multiprocessing.Event()
    spinners = [multiprocessing.Process(target=_spin, args=(stop,), daemon=True) for _ in range(args.busy)]
    for p in spinners:
        p.start()
    rows: dict[str, Any] = {}
    try:
        for style in ("full", "compact"):
            for name, req in requests(style == "compact", args.max_tokens).items():
                if style == "full":  # as before: no stop sequence
                    req = req.replace(stop=None)
                times, prompt_toks, reply_toks = [], [], []
                for i in range(args.replies):
                    if hasattr(lm._llama, "reset"):
                        lm._llama.reset()  # no KV-cache prefix reuse: in a search every prompt differs
                    t0 = time.perf_counter()
                    resp: Response = lm.complete(req.replace(seed=i))
                    times.append(time.perf_counter() - t0)
                    prompt_toks.append(resp.usage.prompt_tokens)
                    reply_toks.append(resp.usage.completion_tokens)
                rows[f"{style}/{name}"] = {
                    "max_tokens": req.max_tokens, "stop": list(req.stop or ()),
                    "prompt_chars": sum(len(str(m["content"])) for m in req.messages),
                    "prompt_tokens": statistics.mean(prompt_toks), "reply_tokens": statistics.mean(reply_toks),
                    "seconds_median": round(statistics.median(times), 2), "seconds": [round(t, 2) for t in times]}
                print(f"{style:8s} {name:10s} {rows[f'{style}/{name}']}", file=sys.stderr)
    finally:
        stop.set()
        for p in spinners:
            p.join(timeout=5)
    result = {"bench": "evolution_llm_latency", "busy": args.busy, "cpus": os.cpu_count(),
              "load_avg": os.getloadavg(), "n_threads": lm.n_threads, "rows": rows}
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
