"""Evolving an online bin-packing heuristic offline: evolution with and without the LLM vs best-of-N.

    python bench/evolution_binpacking.py --quick            # ~2 minutes per arm
    python bench/evolution_binpacking.py --minutes 20       # the documented figure's budget
    python bench/evolution_binpacking.py --lm gpt-4o-mini   # the same search with an API model

FunSearch's skeleton evolves ``priority(item, bins)`` (examples/binpacking/); the search selects on
OR3 + a seeded Weibull training set and every arm's best is then scored on OR3 and Weibull 5k
(excess % over the L1 bound; published: best fit 5.37 / 3.98, FunSearch 3.11 / 0.68) and on
generated sets of other sizes, next to best fit. Arms, each with the same wall-clock budget and
``--workers`` sandboxed workers:

- evolution: islands + bandit over AST operators and the LLM operators (embedded SmolLM2 by default);
- evolution without LLM: the AST operators only;
- best-of-N controls: the same operators (with / without the LLM) applied to the seed only, no
  evolution (independent samples; openevolve#100 found the two close).

Prints JSON and writes bench/results/local/evolution_binpacking.json (--update-tracked: the tracked copy).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent / "examples" / "binpacking"
sys.path[:0] = [str(HERE.parent), str(HERE), str(EXAMPLE)]

import binpacking_task as task  # noqa: E402
from benchlib import add_arguments, emit  # noqa: E402

from opto.cli.evolve import function_source, make_lm  # noqa: E402
from opto.optimizers.evolution import Evolution  # noqa: E402
from opto.optimizers.evolution.gates import Gates, values_key  # noqa: E402
from opto.optimizers.evolution.operators import OPERATORS, OperatorContext, Parent, Proposal  # noqa: E402
from opto.optimizers.evolution.space import SearchSpace  # noqa: E402
from opto.records import Candidate  # noqa: E402
from opto.runtime import make_executor  # noqa: E402
from opto.trace.nodes import ParameterNode  # noqa: E402

OBJECTIVE = "binpacking_task:evaluate"
ARMS = "evolution,evolution_no_llm,best_of_n,best_of_n_no_llm"
AST_OPS = ("ast_perturb", "ast_swap")
LLM_OPS = ("M1", "E1", "funsearch", "trace_guided")
TASK = ("Online bin packing: each arriving item goes to the feasible bin with the highest priority; "
        "priority(item, bins) gets the item size and a numpy array of the remaining capacities of the "
        "bins it fits in and returns one priority per bin. Fewer bins used is better.")


def executor(workers: int) -> Any:
    return make_executor("local", OBJECTIVE, workers=workers, timeout_s=60, extra_sys_path=(str(EXAMPLE),))


def llm_options(operators: tuple[str, ...], max_tokens: int) -> dict[str, dict[str, Any]]:
    return {name: {"max_tokens": max_tokens} for name in operators if name in LLM_OPS}


def run_evolution(operators: tuple[str, ...], lm: Any, seconds: float, workers: int, seed: int, code: str,
                  store: Path, max_tokens: int) -> dict[str, Any]:
    param: ParameterNode[str] = ParameterNode(code, name="__code", trainable=True)
    opt = Evolution({"priority": param}, lm=lm, task=TASK,
                    config={"seed": seed, "islands": 2, "batch_size": 2 * workers, "operators": list(operators),
                            "operator_options": llm_options(operators, max_tokens), "heldout_top": 0,
                            # a slow local LLM: give up on a child slot after 2 failed proposals, so one
                            # generation cannot run far past the time limit (checked between generations)
                            "max_attempts": 2})
    t0 = time.monotonic()
    with executor(workers) as ex:
        result = opt.search(executor=ex, budget=1_000_000, time_limit=seconds, store=store)
    elapsed = time.monotonic() - t0
    tokens = sum(int(s.get("llm_tokens", 0)) for s in result.operators.values())
    return {"best_code": result.values["priority"], "selection_score": result.score,
            "evaluations": result.evaluations, "elapsed_s": round(elapsed, 1),
            "evaluations_per_minute": round(result.evaluations / elapsed * 60, 1), "llm_tokens": tokens,
            "operators": result.operators, "gates": result.gates, "failures": result.failures}


def run_best_of_n(operators: tuple[str, ...], lm: Any, seconds: float, workers: int, seed: int, code: str,
                  max_tokens: int) -> dict[str, Any]:
    """Independent samples: every child is made from the seed, none from an evaluated child."""
    space = SearchSpace.from_values({"priority": code})
    gates = Gates(space)
    gates.seen.add(values_key(space, {"priority": code}))
    rng = random.Random(seed)
    ops = {n: OPERATORS[n](**llm_options(operators, max_tokens).get(n, {})) for n in operators
           if lm is not None or n not in LLM_OPS}
    t0 = time.monotonic()
    with executor(workers) as ex:
        first = ex.map([Candidate({"priority": code})])[0]
        seed_parent = Parent("seed", {"priority": code}, first.score, dict(first.scores), first.feedback,
                             {"trace": first.artifacts.get("trace")} if first.artifacts.get("trace") else {})
        best = (first.score if first.ok else float("-inf"), code)
        evaluations, tokens, rejected = 1, 0, 0
        while time.monotonic() - t0 < seconds:
            batch: list[Candidate] = []
            for _ in range(4 * workers):  # 2 attempts per child slot, as the search arms (max_attempts=2)
                if len(batch) == 2 * workers or time.monotonic() - t0 >= seconds:
                    break
                ctx = OperatorContext(space, rng, lm, (), TASK)
                out = ops[rng.choice(sorted(ops))].propose([seed_parent, seed_parent], ctx)
                tokens += out.llm_tokens
                if not isinstance(out, Proposal):
                    rejected += 1
                    continue
                if not (gates.duplicate(values_key(space, out.values)).passed and gates.structure(out.values).passed):
                    rejected += 1
                    continue
                batch.append(Candidate(out.values))
            for cand, r in zip(batch, ex.map(batch)):
                evaluations += 1
                if r.ok and r.score is not None and r.score > best[0]:
                    best = (r.score, str(cand.values["priority"]))
            if not batch and not ops:
                break
    elapsed = time.monotonic() - t0
    return {"best_code": best[1], "selection_score": best[0], "evaluations": evaluations,
            "elapsed_s": round(elapsed, 1), "evaluations_per_minute": round(evaluations / elapsed * 60, 1),
            "llm_tokens": tokens, "rejected_proposals": rejected}


def score_code(code: str, workers: int) -> dict[str, Any]:
    """Excess % on the test sets and the generated sets (in sandbox workers)."""
    with executor(workers) as ex:
        test = ex.map([Candidate({"priority": code})], input="test")[0]
        gen = ex.map([Candidate({"priority": code})], input="generalization")[0]
    if not (test.ok and gen.ok):
        return {"failure": test.feedback if not test.ok else gen.feedback}
    return {"test_excess_pct": {k: round(-v, 3) for k, v in test.scores.items() if k != "score"},
            "generalization_excess_pct": {k: round(-v, 3) for k, v in gen.scores.items() if k != "score"}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=20.0, help="wall-clock budget per arm (default 20)")
    parser.add_argument("--quick", action="store_true", help="2 minutes per arm")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lm", default="local", help="local (embedded SmolLM2), none, or an API model name")
    parser.add_argument("--lm-base-url", default=None, help="OpenAI-compatible server for --lm MODEL")
    parser.add_argument("--max-tokens", type=int, default=200, help="reply cap for the LLM operators")
    parser.add_argument("--arms", default=ARMS, help=f"comma-separated subset of {ARMS}")
    add_arguments(parser)
    args = parser.parse_args()
    seconds = 120.0 if args.quick else args.minutes * 60
    code, _ = function_source(EXAMPLE / "heuristic.py", "priority")
    lm_note = ""
    try:
        lm = make_lm(args.lm, args.lm_base_url)
    except Exception as err:  # noqa: BLE001 - no model installed: the LLM arm runs without it, said so
        lm, lm_note = None, f"no LM ({err}); LLM operators were skipped"
    arms: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-evolution-") as tmp:
        for arm in args.arms.split(","):
            print(f"[{arm}] {seconds:.0f} s ...", file=sys.stderr)
            if arm == "evolution":
                out = run_evolution(AST_OPS + LLM_OPS, lm, seconds, args.workers, args.seed, code,
                                    Path(tmp) / "evolution.db", args.max_tokens)
            elif arm == "evolution_no_llm":
                out = run_evolution(AST_OPS, None, seconds, args.workers, args.seed, code,
                                    Path(tmp) / "no_llm.db", args.max_tokens)
            elif arm == "best_of_n":
                out = run_best_of_n(AST_OPS + LLM_OPS, lm, seconds, args.workers, args.seed, code, args.max_tokens)
            elif arm == "best_of_n_no_llm":
                out = run_best_of_n(AST_OPS, None, seconds, args.workers, args.seed, code, args.max_tokens)
            else:
                raise SystemExit(f"unknown arm {arm!r}; use {ARMS}")
            out.update(score_code(out["best_code"], args.workers))
            arms[arm] = out
            print(f"[{arm}] {out.get('test_excess_pct')} after {out['evaluations']} evaluations", file=sys.stderr)
    reference = {"seed (best fit)": score_code(task.BEST_FIT, args.workers), "published": task.REFERENCE}
    result = {
        "benchmark": "evolution_binpacking",
        "budget_s_per_arm": seconds, "workers": args.workers, "seed": args.seed,
        "lm": getattr(lm, "model", None) if lm is not None else None, "lm_note": lm_note,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "arms": arms, "reference": reference,
    }
    return emit(HERE / "results" / "evolution_binpacking.json", result, args.update_tracked)


if __name__ == "__main__":
    raise SystemExit(main())
