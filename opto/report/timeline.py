"""Score over the run: every selection evaluation placed on three clocks (evaluations, LLM tokens, seconds).

The x positions are "so far" counts at the moment the evaluation was committed: its place among
all evaluations (the budget unit of both backends), the prompt + completion tokens of the LLM calls
committed before it, and seconds since the run started.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
from collections.abc import Callable, Iterable

from opto.report.data import Evaluation, RunData
from opto.store.rows import LLMCallRecord


@dataclasses.dataclass(frozen=True)
class Point:
    evaluations: int
    tokens: int
    seconds: float
    score: float
    candidate_id: str
    island: int | None


@dataclasses.dataclass(frozen=True)
class Curves:
    points: list[Point]  # every selection evaluation, in commit order
    best: list[Point]  # the points where the best score so far improved
    islands: dict[int, list[Point]]  # the same per island (starting points shared by all islands)
    end: Point | None  # where the run's clocks stand now, so step lines reach the end
    marks: list[tuple[str, Point]] = dataclasses.field(default_factory=list)  # island resets / migrations

    @property
    def empty(self) -> bool:
        return not self.points


def call_tokens(call: LLMCallRecord) -> int:
    return int(call.prompt_tokens or 0) + int(call.completion_tokens or 0)


def tokens_at(calls: Iterable[LLMCallRecord]) -> Callable[[float], int]:
    """A function: time -> tokens of all calls committed at or before it."""
    ordered = sorted(calls, key=lambda c: c.created_at)
    times = [c.created_at for c in ordered]
    totals = list(itertools.accumulate(call_tokens(c) for c in ordered))

    def at(t: float) -> int:
        i = bisect.bisect_right(times, t)
        return totals[i - 1] if i else 0

    return at


def running_best(points: Iterable[Point]) -> list[Point]:
    """The points that set a new best score (higher is better), in order."""
    out: list[Point] = []
    for p in points:
        if not out or p.score > out[-1].score:
            out.append(p)
    return out


def curves(run: RunData) -> Curves:
    at = tokens_at(run.llm_calls)
    t0 = run.start_time

    def point(e: Evaluation, island: int | None) -> Point:
        assert e.score is not None
        return Point(e.seq, at(e.created_at), max(e.created_at - t0, 0.0), float(e.score), e.candidate_id, island)

    points = []
    for e in run.evaluations:
        if e.selection:
            cand = run.candidates.get(e.candidate_id)
            points.append(point(e, cand.island if cand is not None else None))
    islands: dict[int, list[Point]] = {}
    numbered = sorted({p.island for p in points if p.island is not None})
    if len(numbered) > 1:
        for i in numbered:
            islands[i] = running_best(p for p in points if p.island in (i, None))
    times = [e.created_at for e in run.evaluations]

    def clock(t: float) -> Point:
        """The three clocks at time t (an event's commit time)."""
        i = bisect.bisect_right(times, t)
        return Point(run.evaluations[i - 1].seq if i else 0, at(t), max(t - t0, 0.0), 0.0, "", None)

    end = None
    if run.evaluations:
        end = clock(max(times + [c.created_at for c in run.llm_calls]))
    marks = [("island reset", clock(e.created_at)) for e in run.events_of("reset") if e.data.get("islands")]
    marks += [("migration", clock(e.created_at)) for e in run.events_of("migration") if e.data.get("moves")]
    return Curves(points, running_best(points), islands, end, marks)
