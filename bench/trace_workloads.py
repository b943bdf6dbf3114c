"""Trace workloads measured the same way under any implementation of ``from opto import trace``.

Run inside one interpreter (ours or trace-opt's virtualenv); prints one JSON object. Uses the
public API only, so the same file measures both. The recursion limit is left as users have it.

    python bench/trace_workloads.py overhead_add backward_chain --n 1000,10000
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import os
import pickle
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from opto import trace

# Wall time by default; ``--clock cpu`` times with this process's CPU time instead, so that other
# processes on a shared machine do not inflate the figures (on an idle machine the two agree).
clock: Callable[[], float] = time.perf_counter

FEEDBACK = "The result is too large; make it smaller."
DEEP = 100_000
BUILD_DROP_ITERS = 10_000
BUILD_DROP_MARKS = (0, 1_000, 5_000, 10_000)


@trace.bundle()
def add_one(x):
    """Add one to x."""
    return x + 1


@trace.bundle()
def total(*args):
    """Sum every argument."""
    return sum(args)


def clear_graph() -> None:
    """trace-opt's global GRAPH keeps every node alive; clear it so workloads are independent."""
    graph = getattr(trace, "GRAPH", None)
    if graph is not None and hasattr(graph, "clear"):
        graph.clear()
    gc.collect()


# ---- graph builders -----------------------------------------------------------------------------


def build_bundle_chain(n: int) -> Any:
    x = trace.node(0)
    for _ in range(n):
        x = add_one(x)
    return x


def build_add_chain(n: int) -> Any:
    """``s = s + 1``: each op gets a fresh constant operand."""
    s = trace.node(0)
    for _ in range(n):
        s = s + 1
    return s


def build_shared_chain(n: int) -> Any:
    """``s = s + y`` with the same ``y`` in every op (y ends up with n children)."""
    s, y = trace.node(0), trace.node(1)
    for _ in range(n):
        s = s + y
    return s


def build_fan_in(n: int) -> Any:
    """N computed values (each ``node(i) + 1``) into one bundled ``total(*args)``.

    Computed inputs, not roots: trace-opt only queues non-root parents, and its queue membership
    scan is where fan-in turns quadratic.
    """
    return total(*[trace.node(i) + 1 for i in range(n)])


BUILDERS: dict[str, Callable[[int], Any]] = {
    "chain": build_add_chain,
    "shared": build_shared_chain,
    "fanin": build_fan_in,
}


# ---- measurements -------------------------------------------------------------------------------


def rss_mb() -> float | None:
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 2)
    except (OSError, ValueError, IndexError):
        return None


def guarded(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one measurement; an exception is a result (e.g. trace-opt's RecursionError), not a crash."""
    start = clock()
    try:
        out = fn()
        out.setdefault("ok", True)
        return out
    except Exception as exc:  # RecursionError and MemoryError included
        return {
            "ok": False,
            "error": type(exc).__name__,
            "message": str(exc)[:300],
            "seconds_until_error": round(clock() - start, 3),
        }
    finally:
        clear_graph()


def overhead(build: Callable[[int], Any], sizes: list[int]) -> dict[str, Any]:
    """Microseconds per traced op, best of 5 runs (the least disturbed by other processes)."""
    result: dict[str, Any] = {}
    for n in sizes:
        best = float("inf")
        for _ in range(5):
            clear_graph()
            start = clock()
            out = build(n)
            best = min(best, clock() - start)
            del out
        result[str(n)] = {"us_per_op": round(best / n * 1e6, 3)}
    return result


def plain_python_us_per_op(n: int = 10_000) -> float:
    """The same chain without tracing, for scale."""

    def f(x: int) -> int:
        return x + 1

    start = clock()
    x = 0
    for _ in range(n):
        x = f(x)
    return round((clock() - start) / n * 1e6, 4)


def backward(kind: str, sizes: list[int]) -> dict[str, Any]:
    """Backward wall time (untraced run), then tracemalloc peak during a second backward on a fresh graph."""
    result: dict[str, Any] = {}
    for n in sizes:
        entry: dict[str, Any] = {}

        def timed(n: int = n) -> dict[str, Any]:
            out = BUILDERS[kind](n)
            start = clock()
            out.backward(FEEDBACK)
            return {"seconds": round(clock() - start, 5)}

        def memory(n: int = n) -> dict[str, Any]:
            out = BUILDERS[kind](n)
            gc.collect()
            tracemalloc.start()
            try:
                out.backward(FEEDBACK)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            return {"peak_mb": round(peak / 2**20, 3)}

        entry.update(guarded(timed))
        if entry.get("ok"):
            mem = guarded(memory)
            entry["peak_mb"] = mem.get("peak_mb")
            if not mem.get("ok"):
                entry["memory_error"] = mem.get("error")
        result[str(n)] = entry
    return result


def deep(step: str) -> dict[str, Any]:
    """Build a DEEP-long chain, then one of backward / deepcopy / pickle on its output."""
    info: dict[str, Any] = {"depth": DEEP, "stage": "build"}
    start = clock()
    try:
        out = build_add_chain(DEEP)
        info["build_seconds"] = round(clock() - start, 3)
        info["stage"] = step
        start = clock()
        if step == "backward":
            out.backward(FEEDBACK)
        elif step == "deepcopy":
            info["copy_equal_data"] = copy.deepcopy(out).data == out.data
        else:
            blob = pickle.dumps(out)
            info["pickle_mb"] = round(len(blob) / 2**20, 2)
            info["roundtrip_equal_data"] = pickle.loads(blob).data == out.data
        info.update(ok=True, seconds=round(clock() - start, 3))
    except Exception as exc:  # RecursionError and MemoryError included
        info.update(
            ok=False,
            error=type(exc).__name__,
            message=str(exc)[:300],
            seconds_until_error=round(clock() - start, 3),
        )
    finally:
        clear_graph()
    return info


def build_drop() -> dict[str, Any]:
    """Build a small graph, backward, drop it; memory should not grow with the iteration count."""

    def run() -> dict[str, Any]:
        marks: dict[str, Any] = {}
        tracemalloc.start()
        try:
            for i in range(BUILD_DROP_ITERS + 1):
                if i in BUILD_DROP_MARKS:
                    current, _ = tracemalloc.get_traced_memory()
                    marks[str(i)] = {"tracemalloc_mb": round(current / 2**20, 3), "rss_mb": rss_mb()}
                if i == BUILD_DROP_ITERS:
                    break
                p = trace.node(0.5, trainable=True)
                x = trace.node(i)
                out = add_one(x + p) * 2
                out.backward(FEEDBACK)
                del p, x, out
        finally:
            tracemalloc.stop()
        first, last = marks["1000"]["tracemalloc_mb"], marks[str(BUILD_DROP_ITERS)]["tracemalloc_mb"]
        return {"marks": marks, "growth_mb_1k_to_10k": round(last - first, 3)}

    return guarded(run)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("workloads", nargs="+", choices=sorted(WORKLOADS))
    parser.add_argument("--n", default="100,1000,10000", help="comma-separated sizes for overhead_*")
    parser.add_argument("--backward-n", default="1000,2000,5000,10000", help="sizes for backward_*")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="wall: time.perf_counter; cpu: time.process_time (for a loaded machine)")
    args = parser.parse_args(argv)
    global clock
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    sizes = [int(s) for s in args.n.split(",") if s]
    backward_sizes = [int(s) for s in args.backward_n.split(",") if s]
    report: dict[str, Any] = {
        "python": platform.python_version(),
        "opto_file": getattr(sys.modules.get("opto"), "__file__", None),
        "recursion_limit": sys.getrecursionlimit(),
        "clock": args.clock,
        "workloads": {},
    }
    for name in args.workloads:
        clear_graph()
        report["workloads"][name] = WORKLOADS[name](sizes, backward_sizes)
    print(json.dumps(report))
    return 0


WORKLOADS: dict[str, Callable[[list[int], list[int]], dict[str, Any]]] = {
    "overhead_bundle": lambda n, _: {
        "sizes": overhead(build_bundle_chain, n),
        "plain_python_us_per_op": plain_python_us_per_op(),
    },
    "overhead_add": lambda n, _: {"sizes": overhead(build_shared_chain, n)},
    "backward_chain": lambda _, b: {"sizes": backward("chain", b)},
    "backward_shared": lambda _, b: {"sizes": backward("shared", b)},
    "backward_fanin": lambda _, b: {"sizes": backward("fanin", b)},
    "deep_backward": lambda *_: deep("backward"),
    "deep_deepcopy": lambda *_: deep("deepcopy"),
    "deep_pickle": lambda *_: deep("pickle"),
    "build_drop": lambda *_: build_drop(),
}

if __name__ == "__main__":
    sys.exit(main())
