"""One OptoPrime step() without model latency, opto vs trace-opt 0.1.3.8, on the same workloads.

K = 1/10/50 parameters x a chain of depth 10/100/2000 bundled calls (bench/optimizer_workloads.py).
Reports per configuration: step wall and CPU time, backward time, prompt size (system + user) and
how many of the ``depth`` calls the prompt's #Code shows; plus the (x-3)^2 convergence loop.
Each configuration runs in a fresh interpreter of each library, with a timeout.

    .venv/bin/python bench/optimizer_step.py                     # writes bench/results/local/optimizer_step.json
    .venv/bin/python bench/optimizer_step.py --update-tracked    # ... and bench/results/optimizer_step.json
    .venv/bin/python bench/optimizer_step.py --traceopt-python /tmp/traceopt-venv/bin/python --quick
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import add_arguments, emit  # noqa: E402
from trace_compare import ensure_traceopt_python  # noqa: E402

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORKLOADS = BENCH / "optimizer_workloads.py"
RESULTS = BENCH / "results" / "optimizer_step.json"
KS = (1, 10, 50)
DEPTHS = (10, 100, 2000)


def run(impl: str, python: str, args: list[str], timeout: float) -> dict[str, Any]:
    cmd = [python, str(WORKLOADS), *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    if impl == "ours":
        env["PYTHONPATH"] = str(REPO)
        cwd = str(REPO)
    else:
        cmd.insert(1, "-I")  # trace-opt's own opto, not the repo's
        cwd = tempfile.gettempdir()
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"timeout after {timeout:.0f} s"}
    if proc.returncode != 0:
        return {"ok": False, "error": f"exit {proc.returncode}", "stderr": proc.stderr[-1500:]}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result.pop("opto_file", None)
    result["ok"] = True
    return result


def growth_exponent(points: list[tuple[int, float]]) -> float | None:
    """Slope of log(time) against log(depth) between the two largest depths (1.0 = linear)."""
    good = [(d, t) for d, t in points if t and t > 0]
    if len(good) < 2:
        return None
    (d1, t1), (d2, t2) = good[-2], good[-1]
    return round(math.log(t2 / t1) / math.log(d2 / d1), 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traceopt-python", help="interpreter with trace-opt 0.1.3.8 (default: bench/.venv-traceopt)")
    parser.add_argument("--no-traceopt", action="store_true", help="measure opto only")
    parser.add_argument("--quick", action="store_true", help="trace-opt only at K=1 and K=10 (its depth-2000 steps take minutes)")
    parser.add_argument("--repeats", type=int, default=10, help="opto: best of N steps per configuration")
    parser.add_argument("--traceopt-from", type=Path,
                        help="reuse trace-opt's rows from an earlier result file instead of rerunning them")
    parser.add_argument("--timeout", type=float, default=600)
    add_arguments(parser)
    args = parser.parse_args()
    earlier: dict[tuple[int, int], Any] = {}
    if args.traceopt_from:
        old = json.loads(args.traceopt_from.read_text())
        earlier = {(r["k"], r["depth"]): r["trace_opt"] for r in old["rows"]}
        earlier[(0, 0)] = old["converge_x_minus_3_squared"].get("trace_opt")
    reuse = bool(earlier)
    theirs_python = None if args.no_traceopt or reuse else ensure_traceopt_python(args.traceopt_python)
    rows = []
    for k in KS:
        for depth in DEPTHS:
            step = ["step", "--k", str(k), "--depth", str(depth)]
            ours = run("ours", sys.executable, [*step, "--repeats", str(args.repeats)], args.timeout)
            theirs: dict[str, Any] | None = None
            if reuse:
                theirs = earlier.get((k, depth))
            elif theirs_python and not (args.quick and k == 50):
                theirs = run("trace-opt", theirs_python, [*step, "--repeats", "1"], args.timeout)
            row = {"k": k, "depth": depth, "opto": ours, "trace_opt": theirs}
            if theirs and theirs.get("ok") and ours.get("ok"):
                row["speedup_wall"] = round(theirs["step_s"] / ours["step_s"], 1)
                row["speedup_cpu"] = round(theirs["step_cpu_s"] / max(ours["step_cpu_s"], 1e-6), 1)
                row["prompt_ratio"] = round(ours["prompt_chars"] / theirs["prompt_chars"], 3)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    growth = {}
    for impl in ("opto", "trace_opt"):
        for k in KS:
            pts = [(r["depth"], (r[impl] or {}).get("step_cpu_s")) for r in rows if r["k"] == k]
            growth[f"{impl}_k{k}"] = growth_exponent([(d, t) for d, t in pts if t is not None])
    converge = {"opto": run("ours", sys.executable, ["converge"], args.timeout)}
    if reuse:
        converge["trace_opt"] = earlier[(0, 0)]
    elif theirs_python:
        converge["trace_opt"] = run("trace-opt", theirs_python, ["converge"], args.timeout)
    result = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "note": "model answers instantly (no LLM latency); step = propose + update; CPU time is robust to a "
                "loaded machine, wall time is not",
        "target_ms_at_depth_2000": 50,
        "traceopt_rows_from": str(args.traceopt_from) if reuse else "measured in this run",
        "rows": rows,
        "growth_exponent_cpu_100_to_2000": growth,
        "converge_x_minus_3_squared": converge,
    }
    return emit(RESULTS, result, args.update_tracked)


if __name__ == "__main__":
    raise SystemExit(main())
