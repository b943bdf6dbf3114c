"""What ``import opto.llm`` (and its protocol module) costs a fresh interpreter.

Each sample is a new ``python -c "import ..."`` process, so nothing is warm but the OS file cache;
the figure is the median of the in-process import times (``time.perf_counter`` around the import,
so interpreter start-up is left out). ``--baseline DIR`` also measures another checkout's opto/ (e.g.
an older commit unpacked with ``git archive <commit> opto | tar -x -C DIR``), its samples interleaved
with this one's so that machine load hits both alike.

    .venv/bin/python bench/llm_import.py [--runs 15] [--baseline DIR] [--save]
    # prints JSON; --save also writes bench/results/llm_import.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "llm_import.json"
PROBE = (
    "import sys, time; t0 = time.perf_counter(); import {module}; dt = time.perf_counter() - t0; "
    "print(dt, 'openai' in sys.modules)"
)


def sample(module: str, root: Path) -> tuple[float, bool]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)], env=env, cwd=root,
        capture_output=True, text=True, check=True,
    ).stdout.split()
    return float(out[0]), out[1] == "True"


def summary(times: list[float], loads_openai: bool) -> dict[str, object]:
    return {
        "median_ms": round(statistics.median(times) * 1e3, 1),
        "min_ms": round(min(times) * 1e3, 1),
        "max_ms": round(max(times) * 1e3, 1),
        "loads_openai": loads_openai,
    }


def measure(module: str, roots: dict[str, Path], runs: int) -> dict[str, dict[str, object]]:
    """Median import time of ``module`` under each root, samples interleaved between roots."""
    roots = {k: r for k, r in roots.items() if (r / (module.replace(".", "/") + ".py")).exists()
             or (r / module.replace(".", "/") / "__init__.py").exists()}
    for root in roots.values():
        sample(module, root)  # warm the OS file cache and write the .pyc files
    times: dict[str, list[float]] = {k: [] for k in roots}
    loaded = dict.fromkeys(roots, False)
    for _ in range(runs):
        for key, root in roots.items():
            dt, openai_loaded = sample(module, root)
            times[key].append(dt)
            loaded[key] = loaded[key] or openai_loaded
    return {key: summary(times[key], loaded[key]) for key in roots}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--baseline", type=Path, help="another checkout to compare with (interleaved)")
    ap.add_argument("--save", action="store_true", help=f"also write {RESULTS.relative_to(REPO)}")
    args = ap.parse_args()
    roots = {"current": REPO}
    if args.baseline is not None:
        roots["baseline"] = args.baseline.resolve()
    modules = ["opto.llm", "opto.llm.protocol", "opto.llm.scripted", "opto.llm.openai_compatible"]
    result: dict[str, object] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "runs": args.runs,
        "roots": {k: str(v) for k, v in roots.items()},
    }
    for module in modules:
        result[module] = measure(module, roots, args.runs)
    text = json.dumps(result, indent=2) + "\n"
    if args.save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
