"""What the embedded model's optimizer replies are worth, step by step: for OptoPrime and OPRO (when
opto.optimizers has it), the fraction of replies that were usable, applied, and improved the score.

Tasks (small and bundled): "numeric", f(x) = (x - 3)^2 from x = -7.3 with the feedback sentence of
examples/02; "sentiment", the instruction of examples/04 on 4 training / 4 validation reviews of
examples/data/sentiment.json. Each (optimizer, task) is trained ``--runs`` times with
``trainer.train`` (minibatch, one proposal per step) at temperature 0.7 with seeds 0..runs-1.

- usable: the model call succeeded and the reply could be read (no whole-reply rejection);
- applied: at least one suggested value passed the optimizer's checks and was applied;
- improved: applied, and the validation score after the step beat the score before it.
``outcomes`` counts what became of the replies (applied, the first rejection reason, no suggestion).

    .venv/bin/python bench/trainer_embedded.py [--runs 4 --steps 4 --tasks numeric,sentiment --max-tokens 300]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "examples"))

from opto.llm import LocalLM  # noqa: E402
from opto.trainer import train  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import add_arguments, emit  # noqa: E402

RESULTS = REPO / "bench" / "results" / "trainer_embedded.json"


def numeric_task(lm: Any) -> tuple[Any, list, Any, list | None]:
    ex = importlib.import_module("02_numeric_feedback")
    return ex.Number(-7.3), [(None, None)], ex.guide, None


def sentiment_task(lm: Any) -> tuple[Any, Any, Any, Any]:
    ex = importlib.import_module("04_prompt_optimization")
    ex.LM = lm
    data = json.loads(ex.DATA.read_text())
    cut = {k: {"inputs": v["inputs"][:4], "infos": v["infos"][:4]} for k, v in data.items()}
    return ex.Classifier(), cut["train"], ex.guide, cut["val"]


TASKS = {"numeric": numeric_task, "sentiment": sentiment_task}


def optimizers() -> dict[str, Any]:
    from opto.optimizers import OptoPrime

    found: dict[str, Any] = {"OptoPrime": OptoPrime}
    if importlib.util.find_spec("opto.optimizers.opro") is not None:
        from opto.optimizers import OPRO

        found["OPRO"] = OPRO
    return found


def usable(entry: dict[str, Any]) -> bool:
    if entry.get("model_error") or not entry.get("reply"):
        return False
    return not any(r.get("param") is None for r in entry.get("rejected", []))


def why(entry: dict[str, Any]) -> str:
    """One line on what became of the reply (for the figures' notes)."""
    if entry.get("model_error"):
        return f"model error: {entry['model_error']}"[:160]
    if entry.get("applied"):
        return "applied"
    reasons = [str(r.get("reason", "")) for r in entry.get("rejected", [])]
    if reasons:
        return ("rejected: " + reasons[0])[:160]
    if entry.get("terminate"):
        return "terminate"
    return "no change (every suggested value equals the current one)"


def one_run(name: str, cls: Any, task: str, lm: Any, seed: int, steps: int, max_tokens: int) -> dict[str, Any]:
    model, train_set, guide, val_set = TASKS[task](lm)
    opt = cls(model.parameters(), lm=lm, max_tokens=max_tokens, temperature=0.7, seed=seed)
    t0 = time.perf_counter()
    result = train(model, train_set, guide, optimizer=opt, epochs=steps if val_set is None else 1,
                   batch_size=1 if val_set is None else 1, val_set=val_set, seed=seed, progress=False)
    scores = [h["score"] for h in result.history]
    rows = []
    for i, entry in enumerate(opt.log[: len(scores) - 1]):
        applied = bool(entry.get("applied"))
        rows.append({"usable": usable(entry), "applied": applied,
                     "improved": applied and scores[i + 1] > scores[i], "why": why(entry)})
    return {"optimizer": name, "task": task, "seed": seed, "steps": rows, "scores": scores,
            "seconds": round(time.perf_counter() - t0, 1)}


def per_step(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    longest = max(len(r["steps"]) for r in runs)
    out = []
    for t in range(longest):
        at = [r["steps"][t] for r in runs if len(r["steps"]) > t]
        out.append({"step": t + 1, "runs": len(at),
                    **{k: round(sum(s[k] for s in at) / len(at), 3) for k in ("usable", "applied", "improved")}})
    return out


def outcome_counts(steps: list[dict[str, Any]]) -> dict[str, int]:
    """How often each kind of outcome happened, with rejection reasons cut to their first clause."""
    counts: dict[str, int] = {}
    for step in steps:
        key = step["why"].split(";")[0].split(" (")[0][:90]
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--steps", type=int, default=4, help="steps of the numeric task (sentiment: 4 batches)")
    parser.add_argument("--tasks", default="numeric,sentiment")
    parser.add_argument("--max-tokens", type=int, default=300, help="completion tokens per optimizer reply")
    add_arguments(parser)
    args = parser.parse_args()
    lm = LocalLM(n_ctx=4096, cache=False)
    runs = []
    for task in args.tasks.split(","):
        for name, cls in optimizers().items():
            for seed in range(args.runs):
                run = one_run(name, cls, task, lm, seed, args.steps, args.max_tokens)
                print(f"{name} {task} seed {seed}: {run['scores']} ({run['seconds']} s)", file=sys.stderr)
                runs.append(run)
    summary = {}
    for key in sorted({(r["optimizer"], r["task"]) for r in runs}):
        group = [r for r in runs if (r["optimizer"], r["task"]) == key]
        steps = [s for r in group for s in r["steps"]]
        summary[f"{key[0]}/{key[1]}"] = {
            "per_step": per_step(group),
            "overall": {k: round(sum(s[k] for s in steps) / max(len(steps), 1), 3)
                        for k in ("usable", "applied", "improved")},
            "replies": len(steps),
            "outcomes": outcome_counts(steps),
            "best_over_start": sum(max(r["scores"]) > r["scores"][0] for r in group),
            "runs": len(group),
        }
    result = {"model": lm.model, "runs": args.runs, "numeric_steps": args.steps, "temperature": 0.7,
              "max_tokens": args.max_tokens,
              "reply_schema": "built per step: suggestion first (exactly the prompt's variables, typed, all "
                              "required, no other names), then reasoning (maxLength 400); grammar-constrained",
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "load_avg": os.getloadavg()[0] if hasattr(os, "getloadavg") else None},
              "summary": summary, "raw": runs}
    return emit(RESULTS, result, update_tracked=args.update_tracked)


if __name__ == "__main__":
    raise SystemExit(main())
