"""Tables of a run: operators, gates, failures by reason, held-out scores, the Pareto front.

Each table comes from the events the writer logged when it has them; a run still being written
(no "operator"/"gates" summary yet) gets operator figures derived from its candidates instead, and
the table says which source it used.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter, defaultdict
from typing import Any

from opto.report.data import RunData
from opto.report.timeline import call_tokens


@dataclasses.dataclass(frozen=True)
class OperatorRow:
    operator: str
    proposals: int
    valid: int
    improved: int
    mean_gain: float | None
    llm_tokens: int


@dataclasses.dataclass(frozen=True)
class GateRow:
    gate: str
    passed: int
    rejected: int
    example: str  # the reason of one rejection ("" when none)


@dataclasses.dataclass(frozen=True)
class FailureRow:
    source: str  # "evaluation" or "rejected" (a child that never became a candidate)
    reason: str
    count: int
    example: str  # message of the first one
    where: str  # candidate id or operator of the first one
    detail: str  # output tail or detail text of the first one


@dataclasses.dataclass(frozen=True)
class HeldoutRow:
    candidate_id: str
    selection_score: float | None
    heldout_score: float | None
    note: str

    @property
    def gap(self) -> float | None:
        if self.selection_score is None or self.heldout_score is None:
            return None
        return self.heldout_score - self.selection_score


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _int(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and math.isfinite(value) else 0


def operator_table(run: RunData) -> tuple[list[OperatorRow], str]:
    """Per operator figures and where they came from ("events" or "derived")."""
    logged: dict[str, dict[str, Any]] = {}
    for e in run.events_of("operator"):
        if isinstance(e.data.get("operator"), str):
            logged[e.data["operator"]] = e.data  # the last summary of each operator wins
    if logged:
        rows = [OperatorRow(name, _int(d.get("proposals")), _int(d.get("valid")), _int(d.get("improved")),
                            _num(d.get("mean_gain")), _int(d.get("llm_tokens"))) for name, d in logged.items()]
        return sorted(rows, key=lambda r: (-r.proposals, r.operator)), "events"
    return _derived_operators(run), "derived"


def _derived_operators(run: RunData) -> list[OperatorRow]:
    best: dict[str, float] = {}
    for ev in run.evaluations:
        if ev.selection and ev.score is not None:
            best[ev.candidate_id] = max(best.get(ev.candidate_id, -math.inf), ev.score)
    tokens = {c.id: call_tokens(c) for c in run.llm_calls}
    proposals: Counter[str] = Counter()
    valid: Counter[str] = Counter()
    improved: Counter[str] = Counter()
    gains: dict[str, list[float]] = defaultdict(list)
    used: Counter[str] = Counter()
    for c in run.candidates.values():
        op = c.operator or "unknown"
        proposals[op] += 1
        used[op] += tokens.get(c.llm_call_id or "", 0)
        if c.id not in best:
            continue
        valid[op] += 1
        parents = [best[p] for p in c.parent_ids if p in best]
        if parents:
            gain = best[c.id] - max(parents)
            gains[op].append(gain)
            improved[op] += gain > 0
    for e in run.events_of("rejected"):
        proposals[str(e.data.get("operator") or "unknown")] += 1
    rows = [OperatorRow(op, n, valid[op], improved[op], sum(gains[op]) / len(gains[op]) if gains[op] else None,
                        used[op]) for op, n in proposals.items()]
    return sorted(rows, key=lambda r: (-r.proposals, r.operator))


def gate_table(run: RunData) -> list[GateRow]:
    passed: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    example: dict[str, str] = {}
    order: list[str] = []
    for e in run.events_of("gate"):
        gate = str(e.data.get("gate") or "unknown")
        if gate not in order:
            order.append(gate)
        if e.data.get("passed"):
            passed[gate] += 1
        else:
            rejected[gate] += 1
            example.setdefault(gate, str(e.data.get("reason") or ""))
    summaries = run.events_of("gates")
    counts = summaries[-1].data.get("counts") if summaries else None
    if isinstance(counts, dict):  # the search's own tally also counts passes it did not log one by one
        for gate, c in counts.items():
            if isinstance(c, dict):
                if gate not in order:
                    order.append(gate)
                passed[gate] = max(passed[gate], _int(c.get("passed")))
                rejected[gate] = max(rejected[gate], _int(c.get("rejected")))
    return [GateRow(g, passed[g], rejected[g], example.get(g, "")) for g in order]


def failure_table(run: RunData) -> list[FailureRow]:
    """Failed evaluations by reason, then children rejected before evaluation by reason; most first."""
    rows: list[FailureRow] = []
    groups: dict[str, list[Any]] = defaultdict(list)
    for ev in run.evaluations:
        if not ev.ok:
            groups[ev.failure_reason or "unknown"].append(ev)
    for reason, evs in groups.items():
        first = evs[0]
        rows.append(FailureRow("evaluation", reason, len(evs), first.failure_message or first.feedback,
                               first.candidate_id, first.output_tail))
    rejected: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in run.events_of("rejected"):
        rejected[str(e.data.get("reason") or "unknown")].append(e.data)
    for reason, items in rejected.items():
        first = items[0]
        rows.append(FailureRow("rejected", reason, len(items), str(first.get("detail") or ""),
                               str(first.get("operator") or ""), ""))
    return sorted(rows, key=lambda r: (r.source != "evaluation", -r.count, r.reason))


def heldout_table(run: RunData) -> list[HeldoutRow]:
    rows: dict[str, HeldoutRow] = {}
    for e in run.events_of("heldout"):
        cid = str(e.data.get("candidate_id") or "")
        rows[cid] = HeldoutRow(cid, _num(e.data.get("selection_score")), _num(e.data.get("heldout_score")),
                               str(e.data.get("failure") or ""))
    return list(rows.values())


def pareto_table(run: RunData) -> tuple[list[str], list[tuple[str, dict[str, float | None]]]]:
    """The objectives and the front of the last "pareto" event (empty when the run logged none)."""
    found = run.events_of("pareto")
    if not found:
        return [], []
    data = found[-1].data
    objectives = [str(o) for o in data.get("objectives") or []]
    rows = []
    for item in data.get("front") or []:
        if isinstance(item, dict):
            scores: dict[str, Any] = item["scores"] if isinstance(item.get("scores"), dict) else {}
            rows.append((str(item.get("candidate_id") or ""), {o: _num(scores.get(o)) for o in objectives}))
    return objectives, rows
