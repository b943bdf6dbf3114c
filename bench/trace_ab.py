"""Did a change slow tracing down? Run the trace workloads on two versions of opto, interleaved.

On a shared machine absolute timings drift by 2x within minutes, so comparing a new run with
numbers measured last week says little. This runs ``bench/trace_workloads.py`` against a base
revision (exported with ``git archive``) and the working tree, alternating them round by round
and keeping each side's best, so both see the same conditions.

    .venv/bin/python bench/trace_ab.py --base-rev HEAD~5 --rounds 5 --clock cpu --markdown /tmp/ab.md
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

from benchlib import add_arguments, output_path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORKLOADS_PY = BENCH / "trace_workloads.py"
RESULTS = BENCH / "results" / "trace_ab.json"
# (workload, metric key in each size entry, lower is better)
METRICS = [("overhead_bundle", "us_per_op"), ("overhead_add", "us_per_op"), ("backward_chain", "seconds"),
           ("backward_shared", "seconds"), ("backward_fanin", "seconds"), ("backward_chain", "peak_mb"),
           ("backward_fanin", "peak_mb")]


def export(rev: str, into: Path) -> Path:
    """The ``opto`` package as of ``rev``, unpacked under ``into``."""
    blob = subprocess.run(["git", "archive", rev, "opto"], cwd=REPO, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")
    return into


def run(tree: Path, workloads: list[str], n: str, clock: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")} | {"PYTHONPATH": str(tree)}
    cmd = [sys.executable, str(WORKLOADS_PY), *workloads, "--n", n, "--backward-n", n, "--clock", clock]
    out = subprocess.run(cmd, env=env, cwd=tempfile.gettempdir(), capture_output=True, text=True, check=True,
                         timeout=900)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    if not str(report["opto_file"]).startswith(str(tree)):
        raise RuntimeError(f"measured {report['opto_file']}, not the tree under {tree}")
    return report["workloads"]


def values(runs: list[dict[str, Any]], workload: str, key: str, n: str) -> list[float]:
    found = [r[workload]["sizes"][n].get(key) for r in runs if workload in r]
    return sorted(v for v in found if v is not None)


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(b / a, 3) if a and b else None


def table(report: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """Rows (best and median of each side) and their markdown."""
    n = report["n"]
    rows = []
    for workload, key in METRICS:
        a, b = values(report["runs"]["base"], workload, key, n), values(report["runs"]["new"], workload, key, n)
        best_a, best_b = (a[0] if a else None), (b[0] if b else None)
        med_a = round(statistics.median(a), 5) if a else None
        med_b = round(statistics.median(b), 5) if b else None
        rows.append({"workload": workload, "n": int(n), "metric": key, "base_best": best_a, "new_best": best_b,
                     "best_ratio": _ratio(best_a, best_b), "base_median": med_a, "new_median": med_b,
                     "median_ratio": _ratio(med_a, med_b)})
    lines = [f"Base {report['base']} vs {report['new']}, {report['rounds']} interleaved rounds, "
             f"{'CPU' if report['clock'] == 'cpu' else 'wall'} time, measured {report['when']}.", "",
             "| workload | N | metric | base best | new best | new / base | base median | new median | new / base |",
             "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['workload']} | {r['n']} | {r['metric']} | {r['base_best']} | {r['new_best']} | "
              f"{r['best_ratio']} | {r['base_median']} | {r['new_median']} | {r['median_ratio']} |" for r in rows]
    return rows, "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-rev", default="HEAD", help="git revision to compare against (e.g. HEAD~3)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n", default="10000", help="size for every workload")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="cpu")
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--out", type=Path)
    add_arguments(parser)
    parser.add_argument("--from-json", type=Path, help="only re-render the table of an earlier run")
    args = parser.parse_args(argv)
    if args.from_json:
        earlier = json.loads(args.from_json.read_text())
        earlier.setdefault("n", args.n)
        print(table(earlier)[1])
        return 0
    workloads = sorted({w for w, _ in METRICS})
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout.strip()
    base_sha = subprocess.run(["git", "rev-parse", "--short", args.base_rev], cwd=REPO, capture_output=True,
                              text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        base = export(args.base_rev, Path(tmp))
        runs: dict[str, list[dict[str, Any]]] = {"base": [], "new": []}
        for i in range(args.rounds):
            for side, tree in (("base", base), ("new", REPO)):
                print(f"round {i + 1}/{args.rounds}: {side}", file=sys.stderr, flush=True)
                runs[side].append(run(tree, workloads, args.n, args.clock))
    report = {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "base": f"{args.base_rev} ({base_sha})",
              "new": f"working tree at {head}", "clock": args.clock, "rounds": args.rounds, "n": args.n,
              "runs": runs}
    rows, text = table(report)
    report["rows"] = rows
    out = args.out or output_path(RESULTS, args.update_tracked)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
