"""Sandbox runtime throughput and per-evaluation overhead, local and (if installed) on Ray.

    python bench/runtime_throughput.py [--quick] [--no-ray]

Prints JSON and writes bench/results/local/runtime_throughput.json (--update-tracked: the tracked
bench/results/ copy). Measures:
- scaling: wall time of N CPU-bound 0.2 s evaluations with 1 and with 2 workers (target >= 1.8x);
- overhead: latency of a trivial objective submitted one at a time (submit -> result), and the
  batch cost per evaluation (map of many trivial candidates on one worker) (target <= 5 ms locally).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from benchlib import add_arguments, emit  # noqa: E402

from opto.runtime import Candidate, make_executor  # noqa: E402

OBJECTIVES = "runtime_objectives"  # bench/runtime_objectives.py, importable by the workers


def scaling(kind: str, n: int, seconds: float, **options: object) -> dict[str, float]:
    walls = {}
    for workers in (1, 2):
        with make_executor(kind, f"{OBJECTIVES}:busy", workers=workers, **options) as ex:
            ex.map([Candidate({"seconds": 0.01}) for _ in range(2 * workers)])  # start and warm the workers
            t0 = time.perf_counter()
            results = ex.map([Candidate({"seconds": seconds}) for _ in range(n)])
            walls[workers] = time.perf_counter() - t0
            assert all(r.ok for r in results), [r.failure for r in results if not r.ok][:1]
    return {"evaluations": n, "eval_seconds": seconds, "wall_1_worker_s": round(walls[1], 3),
            "wall_2_workers_s": round(walls[2], 3), "speedup_2_vs_1": round(walls[1] / walls[2], 3)}


def overhead(kind: str, n: int, **options: object) -> dict[str, float]:
    with make_executor(kind, f"{OBJECTIVES}:trivial", workers=1, **options) as ex:
        ex.map([Candidate({}) for _ in range(20)])
        lat = []
        for _ in range(n):
            t0 = time.perf_counter()
            ex.submit(Candidate({})).result()
            lat.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ex.map([Candidate({}) for _ in range(n)])
        batch = (time.perf_counter() - t0) / n
    with make_executor(kind, f"{OBJECTIVES}:trivial", workers=2, **options) as ex:
        ex.map([Candidate({}) for _ in range(20)])
        t0 = time.perf_counter()
        ex.map([Candidate({}) for _ in range(n)])
        rate2 = n / (time.perf_counter() - t0)
    lat.sort()
    return {"evaluations": n, "latency_median_ms": round(statistics.median(lat) * 1e3, 3),
            "latency_p95_ms": round(lat[int(0.95 * len(lat))] * 1e3, 3),
            "batch_ms_per_eval_1_worker": round(batch * 1e3, 3), "batch_evals_per_s_2_workers": round(rate2, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer evaluations")
    parser.add_argument("--no-ray", action="store_true")
    add_arguments(parser)
    args = parser.parse_args()
    n_busy, n_trivial = (10, 200) if args.quick else (20, 1000)
    out: dict[str, object] = {
        "benchmark": "runtime_throughput",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine()},
        "local": {"scaling": scaling("local", n_busy, 0.2), "overhead": overhead("local", n_trivial)},
    }
    if not args.no_ray:
        try:
            import ray
        except ImportError:
            out["ray"] = "not installed"
        else:
            ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
            out["ray"] = {"version": ray.__version__,
                          "scaling": scaling("ray", n_busy, 0.2),
                          "overhead": overhead("ray", n_trivial // 2)}
            ray.shutdown()
    emit(HERE / "results" / "runtime_throughput.json", out, update_tracked=args.update_tracked)


if __name__ == "__main__":
    main()
