"""Measure opto's trace against trace-opt 0.1.3.8 side by side and report the ratios.

Each workload runs in a fresh subprocess of each interpreter (so one workload's leftovers or crash
cannot touch the next), with a timeout and an address-space cap. trace-opt runs isolated (``-I``,
cwd outside the repo) so it imports its own ``opto``; ours runs with the repo on ``sys.path``.

    .venv/bin/python bench/trace_compare.py            # full run, writes bench/results/local/trace_compare.json
    .venv/bin/python bench/trace_compare.py --update-tracked   # ... and the tracked bench/results/ copy
    .venv/bin/python bench/trace_compare.py --quick --traceopt-python /tmp/traceopt-venv/bin/python
    .venv/bin/python bench/trace_compare.py --traceopt-from-json bench/results/trace_compare.json  # ours only
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import add_arguments, output_path  # noqa: E402

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORKLOADS_PY = BENCH / "trace_workloads.py"
TRACEOPT_VENV = BENCH / ".venv-traceopt"
RESULTS = BENCH / "results" / "trace_compare.json"
TRACEOPT_REQ = "trace-opt==0.1.3.8"

WORKLOADS = [
    "overhead_bundle",
    "overhead_add",
    "backward_chain",
    "backward_shared",
    "backward_fanin",
    "deep_backward",
    "deep_deepcopy",
    "deep_pickle",
    "build_drop",
]
FULL = {"n": "100,1000,10000", "backward_n": "1000,2000,5000,10000"}
QUICK = {"n": "100,1000", "backward_n": "500,1000,2000"}


def ensure_traceopt_python(explicit: str | None) -> str:
    """An interpreter with trace-opt installed: the given one, or bench/.venv-traceopt (made once)."""
    if explicit:
        return explicit
    python = TRACEOPT_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {TRACEOPT_VENV} with {TRACEOPT_REQ} ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(TRACEOPT_VENV)
        subprocess.run([str(python), "-m", "pip", "install", "-q", TRACEOPT_REQ], check=True)
    return str(python)


def run_workload(
    impl: str, python: str, workload: str, sizes: dict[str, str], timeout: float, mem_limit_mb: int,
    clock: str = "wall",
) -> dict[str, Any]:
    """One workload in a fresh interpreter; a timeout or crash becomes the recorded result."""
    cmd = [python, "-I", str(WORKLOADS_PY), workload, "--n", sizes["n"], "--backward-n", sizes["backward_n"],
           "--clock", clock]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    if impl == "ours":
        cmd.remove("-I")  # -I would drop PYTHONPATH; cwd and the path below make the repo importable
        env["PYTHONPATH"] = str(REPO)
        cwd = str(REPO)
    else:
        cwd = tempfile.gettempdir()  # nothing named opto here: trace-opt's own package is imported

    def cap_memory() -> None:
        limit = mem_limit_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    start = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=cap_memory if mem_limit_mb > 0 else None,
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": "Timeout", "seconds_until_error": timeout}
    wall = round(time.perf_counter() - start, 2)
    if proc.returncode != 0:
        return {
            "ok": False,
            "error": f"exit {proc.returncode}",
            "stderr": proc.stderr[-2000:],
            "wall_s": wall,
        }
    try:
        report = json.loads(proc.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        return {"ok": False, "error": "bad output", "stdout": proc.stdout[-2000:], "wall_s": wall}
    result = report["workloads"][workload]
    result["_meta"] = {k: report.get(k) for k in ("python", "opto_file", "recursion_limit", "clock")} | {"wall_s": wall}
    return result


def _best_of(previous: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """Merge two overhead results, keeping the lower microseconds per op for each N."""
    if previous is None:
        return new
    if not new.get("ok", True):
        return previous if previous.get("ok", True) else new
    if not previous.get("ok", True):
        return new
    merged = dict(new)
    for key, value in previous.items():
        if isinstance(value, dict) and "us_per_op" in value and isinstance(merged.get(key), dict):
            if value["us_per_op"] < merged[key]["us_per_op"]:
                merged[key] = value
    return merged


# ---- comparison rows ------------------------------------------------------------------------------


def _ratio(theirs: float | None, ours: float | None) -> float | None:
    if theirs is None or ours is None or ours <= 0:
        return None
    return round(theirs / ours, 1)


def _size(res: dict[str, Any], n: str, key: str) -> float | None:
    entry = res.get("sizes", {}).get(n, {}) if isinstance(res, dict) else {}
    return entry.get(key)


def growth_exponent(res: dict[str, Any], key: str = "seconds") -> float | None:
    """Slope of log(time) vs log(n): 1 is linear, 2 quadratic."""
    points = [(int(n), e[key]) for n, e in res.get("sizes", {}).items() if e.get(key)]
    if len(points) < 2:
        return None
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return round(sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den, 2) if den else None


def _outcome(res: dict[str, Any]) -> str:
    if not res:
        return "not run"
    if res.get("ok"):
        return f"ok ({res.get('seconds', '?')} s)"
    return f"{res.get('error')} ({res.get('stage', 'run')})"


def compare(ours: dict[str, Any], theirs: dict[str, Any], sizes: dict[str, str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    big = sizes["backward_n"].split(",")[-1]
    for wl in ("overhead_bundle", "overhead_add"):
        for n in sizes["n"].split(","):
            a, b = _size(ours.get(wl, {}), n, "us_per_op"), _size(theirs.get(wl, {}), n, "us_per_op")
            r = _ratio(b, a)
            rows.append(
                {
                    "workload": wl,
                    "n": int(n),
                    "metric": "us/op",
                    "ours": a,
                    "traceopt": b,
                    "ratio": r,
                    "target": ">= 10x less",
                    "met": r is not None and r >= 10,
                }
            )
    for wl in ("backward_chain", "backward_shared", "backward_fanin"):
        o, t = ours.get(wl, {}), theirs.get(wl, {})
        a, b = _size(o, big, "seconds"), _size(t, big, "seconds")
        r = _ratio(b, a)
        rows.append(
            {
                "workload": wl,
                "n": int(big),
                "metric": "backward s",
                "ours": a,
                "traceopt": b,
                "ratio": r,
                "target": ">= 100x faster",
                "met": r is not None and r >= 100,
            }
        )
        a, b = _size(o, big, "peak_mb"), _size(t, big, "peak_mb")
        rows.append(
            {
                "workload": wl,
                "n": int(big),
                "metric": "peak MB",
                "ours": a,
                "traceopt": b,
                "ratio": _ratio(b, a),
                "target": "<= 10 MB",
                "met": a is not None and a <= 10,
            }
        )
        ea, eb = growth_exponent(o), growth_exponent(t)
        rows.append(
            {
                "workload": wl,
                "n": sizes["backward_n"],
                "metric": "growth exponent",
                "ours": ea,
                "traceopt": eb,
                "ratio": None,
                "target": "linear (<= 1.2)",
                "met": ea is not None and ea <= 1.2,
            }
        )
    for wl in ("deep_backward", "deep_deepcopy", "deep_pickle"):
        o, t = ours.get(wl, {}), theirs.get(wl, {})
        rows.append(
            {
                "workload": wl,
                "n": 100_000,
                "metric": "outcome",
                "ours": _outcome(o),
                "traceopt": _outcome(t),
                "ratio": None,
                "target": "works, no RecursionError",
                "met": bool(o.get("ok")),
            }
        )
    o, t = ours.get("build_drop", {}), theirs.get("build_drop", {})
    ga, gb = o.get("growth_mb_1k_to_10k"), t.get("growth_mb_1k_to_10k")
    rows.append(
        {
            "workload": "build_drop",
            "n": 10_000,
            "metric": "tracemalloc growth MB (1k->10k)",
            "ours": ga,
            "traceopt": gb,
            "ratio": None,
            "target": "flat (< 0.5 MB)",
            "met": ga is not None and ga < 0.5,
        }
    )
    return rows


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        (line.split()[1] for line in _read("/proc/meminfo").splitlines() if line.startswith("MemTotal")), None
    )
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "mem_gb": round(int(mem) / 2**20, 1) if mem else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def to_markdown(report: dict[str, Any]) -> str:
    """The comparison table for docs/benchmarks/trace.md."""
    m = report["machine"]
    lines = [
        f"Measured {report['when']} on {m['cpus']} CPUs ({m['cpu']}), {m['mem_gb']} GB RAM, "
        f"Python {m['python']}, {m['platform']}.",
        "",
        f"Command: `{report['command']}`",
        "",
    ]
    if report.get("clock") == "cpu":
        lines += ["Times are each run's CPU time (`--clock cpu`: `time.process_time`), not wall time.", ""]
    reused = report.get("traceopt_reused_from")
    if reused:
        lines += [f"trace-opt's figures are reused from `{reused['file']}` (measured {reused['when']}), "
                  "not re-measured in this run.", ""]
    lines += [
        "| workload | N | metric | ours | trace-opt 0.1.3.8 | trace-opt / ours | target | met? |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report["rows"]:
        ratio = "" if r["ratio"] is None else f"{r['ratio']}x"
        lines.append(
            f"| {r['workload']} | {r['n']} | {r['metric']} | {_cell(r['ours'])} | "
            f"{_cell(r['traceopt'])} | {ratio} | {r['target']} | {'yes' if r['met'] else '**no**'} |"
        )
    lines += [
        "",
        "Backward seconds and tracemalloc peak per N (ours / trace-opt):",
        "",
        "| workload | N | ours s | trace-opt s | ours peak MB | trace-opt peak MB |",
        "|---|---|---|---|---|---|",
    ]
    for wl in ("backward_chain", "backward_shared", "backward_fanin"):
        for n in report["sizes"]["backward_n"].split(","):
            o, t = report["ours"].get(wl, {}), report["traceopt"].get(wl, {})
            lines.append(
                f"| {wl} | {n} | {_cell(_size(o, n, 'seconds'))} | {_cell(_size(t, n, 'seconds'))} | "
                f"{_cell(_size(o, n, 'peak_mb'))} | {_cell(_size(t, n, 'peak_mb'))} |"
            )
    lines += [
        "",
        "Build-and-drop loop, tracemalloc current MB / RSS MB at iteration:",
        "",
        "| side | 0 | 1,000 | 5,000 | 10,000 |",
        "|---|---|---|---|---|",
    ]
    for side in ("ours", "traceopt"):
        marks = report[side].get("build_drop", {}).get("marks", {})
        cells = [f"{v['tracemalloc_mb']} / {v['rss_mb']}" for v in marks.values()] or ["not run"]
        lines.append(f"| {side} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _shown(path: str) -> str:
    """Paths inside the repo relative to it, so the recorded command can be pasted."""
    p = Path(path)
    return os.path.relpath(p, REPO) if p.is_absolute() and REPO in p.parents else path


def _cell(value: Any) -> str:
    return "–" if value is None else str(value).replace("|", "/")


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller N (minutes less); deep runs unchanged")
    parser.add_argument("--only", choices=["ours", "traceopt"], help="run one side only")
    parser.add_argument("--ours-python", default=str(REPO / ".venv" / "bin" / "python"))
    parser.add_argument("--traceopt-python", help="reuse an interpreter with trace-opt installed")
    parser.add_argument("--traceopt-from-json", type=Path,
                        help="take trace-opt's raw results from an earlier run's JSON instead of re-running "
                             "them (trace-opt is pinned, and its side takes most of the time)")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated subset")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per workload per side")
    parser.add_argument("--mem-limit-mb", type=int, default=6144, help="address-space cap per run (0: none)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="overhead workloads: alternate the two sides this many times, keep each side's best")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="time with wall time, or with each run's CPU time (when other processes load the machine)")
    parser.add_argument("--out", type=Path, help="result JSON (default: see --update-tracked)")
    add_arguments(parser)
    parser.add_argument("--markdown", type=Path, help="also write the table (markdown) here")
    parser.add_argument("--from-json", type=Path, help="only render --markdown from an earlier run's JSON")
    args = parser.parse_args(argv)
    if args.from_json:
        text = to_markdown(json.loads(args.from_json.read_text()))
        if args.markdown:
            args.markdown.write_text(text)
        print(text)
        return 0

    sizes = QUICK if args.quick else FULL
    sides = {"ours": args.ours_python}
    if args.only != "ours" and not args.traceopt_from_json:
        sides["traceopt"] = ensure_traceopt_python(args.traceopt_python)
    if args.only == "traceopt":
        del sides["ours"]
    results: dict[str, dict[str, Any]] = {side: {} for side in ("ours", "traceopt")}
    reused = None
    if args.traceopt_from_json:
        earlier = json.loads(args.traceopt_from_json.read_text())
        if earlier.get("sizes") != sizes:
            parser.error(f"{args.traceopt_from_json} was measured with sizes {earlier.get('sizes')}, not {sizes}")
        results["traceopt"] = earlier["traceopt"]
        reused = {"file": _shown(str(args.traceopt_from_json.resolve())), "when": earlier.get("when")}
    for workload in [w for w in args.workloads.split(",") if w]:
        # Timing noise on a shared machine comes in bursts: alternating the sides and keeping the
        # best round of each compares them under the same conditions.
        rounds = max(1, args.rounds) if workload.startswith("overhead") else 1
        for _ in range(rounds):
            for side, python in sides.items():
                print(f"[{side}] {workload} ...", file=sys.stderr, flush=True)
                res = run_workload(side, python, workload, sizes, args.timeout, args.mem_limit_mb, args.clock)
                results[side][workload] = _best_of(results[side].get(workload), res)
    rows = compare(results["ours"], results["traceopt"], sizes)
    report = {
        "command": " ".join([_shown(sys.executable), *map(_shown, sys.argv)]),
        "machine": machine(),
        "sizes": sizes,
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "clock": args.clock,
        "rows": rows,
        "traceopt_reused_from": reused,
        "ours": results["ours"],
        "traceopt": results["traceopt"],
    }
    args.out = args.out or output_path(RESULTS, args.update_tracked)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    for row in rows:
        print(
            f"{row['workload']:16} {row['n']!s:>22} {row['metric']:>30}  ours={row['ours']!s:<18} "
            f"trace-opt={row['traceopt']!s:<28} ratio={row['ratio']!s:<8} met={row['met']}"
        )
    print(f"wrote {args.out}")
    if args.markdown:
        args.markdown.write_text(to_markdown(report))
        print(f"wrote {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
