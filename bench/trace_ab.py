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


def best(runs: list[dict[str, Any]], workload: str, key: str, n: str) -> float | None:
    values = [r[workload]["sizes"][n].get(key) for r in runs if workload in r]
    values = [v for v in values if v is not None]
    return min(values) if values else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-rev", required=True, help="git revision to compare against (e.g. HEAD~3)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n", default="10000", help="size for every workload")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="cpu")
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--out", type=Path)
    add_arguments(parser)
    args = parser.parse_args(argv)
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
    rows = []
    for workload, key in METRICS:
        a, b = best(runs["base"], workload, key, args.n), best(runs["new"], workload, key, args.n)
        ratio = round(b / a, 3) if a and b else None
        rows.append({"workload": workload, "n": int(args.n), "metric": key, "base": a, "new": b, "new_over_base": ratio})
    report = {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "base": f"{args.base_rev} ({base_sha})",
              "new": f"working tree at {head}", "clock": args.clock, "rounds": args.rounds, "rows": rows,
              "runs": runs}
    out = args.out or output_path(RESULTS, args.update_tracked)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    lines = [f"Base {report['base']} vs {report['new']}, best of {args.rounds} interleaved rounds, "
             f"{'CPU' if args.clock == 'cpu' else 'wall'} time, measured {report['when']}.", "",
             "| workload | N | metric | base | new | new / base |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['workload']} | {r['n']} | {r['metric']} | {r['base']} | {r['new']} | {r['new_over_base']} |"
              for r in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
