"""Everything a report shows, read once from a run store opened read-only.

The store may still be written by a running search or trainer: it is opened read-only (never with
the writer lock), evaluations are read before candidates (a candidate is always committed before
its evaluation, so every evaluation read finds its candidate), and the report is a snapshot.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sqlite3
from pathlib import Path
from typing import Any

from opto.records import Candidate
from opto.store import RunStore
from opto.store.connection import connect, translate_errors
from opto.store.rows import Event, LLMCallRecord, RunInfo

# Evaluations under these input keys are not the selection score (held-out, test, cascade stage).
NOT_SELECTION = ("heldout", "test", "cascade")


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """One stored evaluation with what RunStore.evaluations() leaves out: order, time and input key."""

    seq: int  # evaluations so far, this one included (aggregate rows add none): the x axis
    candidate_id: str
    ok: bool
    score: float | None
    scores: dict[str, Any]
    feedback: str
    failure_reason: str | None
    failure_message: str
    output_tail: str
    input_key: str | None
    duration_s: float
    created_at: float
    aggregate: bool = False  # a summary row over n instance evaluations (the trainer's split mean), not a run

    @property
    def selection(self) -> bool:
        """True for an evaluation whose score is the one the run selects by."""
        key = (self.input_key or "").split(":")[0]
        return (self.ok and self.score is not None and math.isfinite(self.score)
                and key not in NOT_SELECTION)


@dataclasses.dataclass(frozen=True)
class RunData:
    """A snapshot of one run: its row, candidates (in insertion order), evaluations, calls, events."""

    path: Path
    info: RunInfo
    kind: str  # "evolution", "training" or "unknown"
    candidates: dict[str, Candidate]
    evaluations: list[Evaluation]
    llm_calls: list[LLMCallRecord]
    events: list[Event]
    status: dict[str, int]  # candidates by status: pending / in_flight / done

    def events_of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]

    @property
    def start_time(self) -> float:
        """Wall-clock origin: the run's creation (or the first record, if that is earlier)."""
        times = [self.info.created_at]
        if self.evaluations:
            times.append(self.evaluations[0].created_at)
        if self.llm_calls:
            times.append(min(c.created_at for c in self.llm_calls))
        return min(times)

    @property
    def stopped(self) -> str | None:
        """Why the writer stopped, when it said so (a run still being written has not yet)."""
        found = self.events_of("stopped")
        return str(found[-1].data.get("reason", "stopped")) if found else None


def run_kind(config: Any) -> str:
    kind = config.get("kind") if isinstance(config, dict) else None
    return kind if kind in ("evolution", "training") else "unknown"


def load_run(path: str | Path) -> RunData:
    """Read the whole run (read-only). Raises the store's own errors for a missing or foreign file."""
    path = Path(path)
    with RunStore.open(path, readonly=True) as store:
        info = store.info()
        evaluations = _evaluations(path)
        candidates = {c.id: c for c in store.candidates()}
        counts = store.counts()
        status = {k: int(counts.get(k, 0)) for k in ("pending", "in_flight", "done")}
        llm_calls = store.llm_calls()
        events = store.events()
    return RunData(path, info, run_kind(info.config), candidates, evaluations, llm_calls, events, status)


def _evaluations(path: Path) -> list[Evaluation]:
    """All evaluation rows in commit order, through a read-only connection of our own."""
    conn = connect(path, readonly=True)
    try:
        with translate_errors(path):
            cur = conn.execute("SELECT * FROM evaluations ORDER BY id")
            cur.row_factory = sqlite3.Row
            rows = cur.fetchall()
    finally:
        conn.close()
    out = []
    seq = 0
    for r in rows:
        tail = "\n".join(t for t in (r["stdout_tail"], r["stderr_tail"]) if t)
        aggregate = _is_aggregate(r["input_key"], _json(r["artifacts"]))
        seq += not aggregate
        out.append(Evaluation(seq, r["candidate_id"], bool(r["ok"]), r["score"], _json(r["scores"]),
                              r["feedback"] or "", r["failure_reason"], r["failure_message"] or "", tail,
                              r["input_key"], float(r["duration_s"] or 0.0), float(r["created_at"]), aggregate))
    return out


def _is_aggregate(input_key: str | None, artifacts: dict[str, Any]) -> bool:
    """The trainer's split summary: keyed by the split's name, with the number of instances it averages."""
    n = artifacts.get("n")
    return isinstance(n, int) and not isinstance(n, bool) and ":" not in (input_key or "")


def _json(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
