"""Live progress of an evolutionary run, read from its run store by a background thread.

Reading the store (a read-only connection) rather than hooking the search loop keeps the loop
free of printing and shows exactly what a resume or a report would see: evaluations, the best
score, failures by reason, rejected children by reason, and LLM usage.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, TextIO


def snapshot(store: Any) -> dict[str, Any]:
    """The figures one progress line shows, from an open RunStore."""
    counts = store.counts()
    best = store.events("best")  # the search's own record: selection scores only, not held-out ones
    rejected = Counter(str(e.data.get("reason", "?")) for e in store.events("rejected"))
    calls = store.llm_calls()
    tokens = sum((c.prompt_tokens or 0) + (c.completion_tokens or 0) for c in calls)
    return {
        "evaluations": counts["evaluations"],
        "best": best[-1].data.get("score") if best else None,
        "failures": dict(counts["failures"]),
        "rejected": dict(rejected),
        "llm_calls": len(calls),
        "llm_tokens": tokens,
    }


def _top(counter: dict[str, int], n: int = 3) -> str:
    items = sorted(counter.items(), key=lambda kv: -kv[1])[:n]
    return ", ".join(f"{k} {v}" for k, v in items) or "none"


def render(snap: dict[str, Any], budget: int | None, elapsed_s: float) -> str:
    done = snap["evaluations"]
    bar = ""
    if budget:
        width = 20
        filled = min(width, int(width * min(done, budget) / budget))
        bar = "[" + "#" * filled + "." * (width - filled) + f"] {done}/{budget}"
    else:
        bar = f"{done} evaluations"
    best = "-" if snap["best"] is None else f"{snap['best']:.6g}"
    rate = done / elapsed_s * 60 if elapsed_s > 0 else 0.0
    llm = f"{snap['llm_calls']} calls, {snap['llm_tokens']} tokens" if snap["llm_calls"] else "none"
    return (f"{bar} | best {best} | {rate:.0f}/min | failed: {_top(snap['failures'])} | "
            f"rejected: {_top(snap['rejected'])} | LLM: {llm}")


class Progress:
    """Prints a progress line every ``interval_s`` while a run writes ``path`` (``with`` block)."""

    def __init__(self, path: str | Path, budget: int | None = None, *, interval_s: float = 1.0,
                 stream: TextIO | None = None) -> None:
        self.path, self.budget, self.interval_s = Path(path), budget, interval_s
        self.stream = stream if stream is not None else sys.stderr
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = time.monotonic()
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.last: dict[str, Any] | None = None

    def __enter__(self) -> Progress:
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="opto-evolve-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.tick(final=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.tick()

    def tick(self, final: bool = False) -> None:
        from opto.store import RunStore

        if not self.path.exists():
            return
        try:
            with RunStore.open(self.path, readonly=True) as store:
                snap = snapshot(store)
        except Exception:  # the writer may be mid-creation; the next tick reads it
            return
        if snap == self.last and not final:
            return
        self.last = snap
        line = render(snap, self.budget, time.monotonic() - self._started)
        end = "\n" if final or not self._tty else ""
        self.stream.write(("\r" if self._tty else "") + line + end)
        self.stream.flush()
