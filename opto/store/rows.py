"""Rows of a run store: the read-side records, and candidates/evaluations to and from rows.

Candidates and evaluations are opto.records' types, the same ones the sandbox runtime hands out.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
from typing import Any

from opto.records import Candidate, EvalResult, EvaluationFailure, dumps, output_tail


@dataclasses.dataclass(frozen=True)
class RunInfo:
    """The run row: what was run (config), with which code, from which seed, forked from where."""

    path: str
    run_id: str
    config: dict[str, Any]
    code_version: dict[str, Any]
    seed: int | None
    created_at: float
    forked_from: str | None
    schema_version: int


@dataclasses.dataclass(frozen=True)
class LLMCallRecord:
    """One LLM call: the digest of its (redacted) request, the reply and token usage."""

    id: str
    request_digest: str
    model: str | None
    request: Any
    reply: str
    usage: dict[str, Any]
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_s: float | None
    cached: bool
    created_at: float


@dataclasses.dataclass(frozen=True)
class Event:
    """A run event (resume, config change, fork, or anything a search wants to log)."""

    id: int
    kind: str
    data: dict[str, Any]
    created_at: float


def candidate_row(c: Candidate) -> tuple[Any, ...]:
    return (c.id, dumps(dict(c.values), f"values of candidate {c.id}"), dumps(list(c.parent_ids)), c.operator,
            c.llm_call_id, c.generation, c.island, dumps(dict(c.meta), "meta"), time.time())


def candidate_from_row(r: sqlite3.Row) -> Candidate:
    return Candidate(values=json.loads(r["param_values"]), id=r["id"], parent_ids=tuple(json.loads(r["parent_ids"])),
                     operator=r["operator"], llm_call_id=r["llm_call_id"], generation=r["generation"],
                     island=r["island"], meta=json.loads(r["meta"]))


def evaluation_from_row(r: sqlite3.Row) -> EvalResult:
    failure = None
    if r["failure_reason"]:
        failure = EvaluationFailure(r["failure_reason"], r["failure_message"] or "", output_tail(r["stdout_tail"], r["stderr_tail"]))
    return EvalResult(candidate_id=r["candidate_id"], ok=bool(r["ok"]), score=r["score"], scores=json.loads(r["scores"]),
                      feedback=r["feedback"], artifacts=json.loads(r["artifacts"]), failure=failure,
                      duration_s=r["duration_s"], stdout_tail=r["stdout_tail"], stderr_tail=r["stderr_tail"])

