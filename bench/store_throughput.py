"""Run-store write rate and size: evaluations committed one by one, as a search writes them.

    python bench/store_throughput.py [--n 10000]

Prints JSON and writes bench/results/local/store_throughput.json (--update-tracked: the tracked
bench/results/ copy). Each evaluation is its own committed transaction (as the driver writes
them), with a realistic payload: a ~1 KB code candidate, two named scores, ~200 characters of
feedback and, for failures (1 in 10), a 2 KB output tail.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from benchlib import add_arguments, emit  # noqa: E402

from opto.runtime import Candidate, EvalResult  # noqa: E402
from opto.store import RunStore  # noqa: E402

CODE = "def priority(item, bins):\n" + "".join(f"    score_{i} = bins - item * {i} / (1 + {i})\n" for i in range(30))


def payload(i: int) -> tuple[Candidate, EvalResult]:
    c = Candidate({"priority": CODE + f"    return score_{i % 30}\n", "temperature": 0.7}, id=f"c{i:07d}",
                  parent_ids=(f"c{max(0, i - 1):07d}",), operator="llm_mutation", generation=i // 100, island=i % 4)
    if i % 10 == 9:
        r = EvalResult.failed(c.id, "exception", "ZeroDivisionError: division by zero", duration_s=0.05,
                              stderr_tail="Traceback (most recent call last):\n" + "  line\n" * 300)
    else:
        r = EvalResult(c.id, True, score=-0.01 * i, scores={"score": -0.01 * i, "excess": 0.03}, duration_s=0.2,
                       feedback="excess over the L1 bound: 3.1 % on OR3, 0.9 % on Weibull 5k; " * 3)
    return c, r


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    add_arguments(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "run.db"
        items = [payload(i) for i in range(args.n)]
        with RunStore.open(path, config={"bench": "store"}) as store:
            t0 = time.perf_counter()
            for c, _ in items:
                store.add_candidates([c])
            t_cand = time.perf_counter() - t0
            t0 = time.perf_counter()
            for _, r in items:
                store.record_evaluation(r)
            t_eval = time.perf_counter() - t0
            t0 = time.perf_counter()
            best = store.best(10)
            counts = store.counts()
            t_query = time.perf_counter() - t0
        size = path.stat().st_size + sum(p.stat().st_size for p in Path(tmp).glob("run.db-*"))
        with RunStore.open(path) as store:
            t0 = time.perf_counter()
            pending = store.pending()
            t_resume = time.perf_counter() - t0
    assert counts["evaluations"] == args.n and len(best) == 10 and not pending
    out = {
        "benchmark": "store_throughput",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "evaluations": args.n,
        "candidates_added_per_s": round(args.n / t_cand),
        "evaluations_written_per_s": round(args.n / t_eval),
        "ms_per_evaluation_commit": round(t_eval / args.n * 1e3, 3),
        "file_mb": round(size / 2**20, 2),
        "mb_per_10k_evaluations": round(size / 2**20 * 10_000 / args.n, 2),
        "best10_and_counts_ms": round(t_query * 1e3, 2),
        "reopen_pending_scan_ms": round(t_resume * 1e3, 2),
        "payload": "1 KB code candidate; 2 scores; ~200 char feedback; 10 % failures with a 2 KB stderr tail",
    }
    emit(HERE / "results" / "store_throughput.json", out, update_tracked=args.update_tracked)


if __name__ == "__main__":
    main()
