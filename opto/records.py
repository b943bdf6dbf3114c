"""The vocabulary shared by the sandbox runtime and the run store: candidates in, results out.

It sits below both (it imports nothing else of opto), so a sandbox worker can build results and
convert artifacts without loading the store or sqlite3, and the store can keep results without
loading the runtime. The values are frozen dataclasses (not pydantic models) because they are
pickled to and from worker processes on every evaluation and must stay cheap.
"""

from __future__ import annotations

import dataclasses
import json
import math
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Literal

FailureReason = Literal["timeout", "memory", "crash", "signal", "exception", "invalid_return"]
FAILURE_REASONS: tuple[str, ...] = ("timeout", "memory", "crash", "signal", "exception", "invalid_return")


def new_id() -> str:
    """A short random id; candidates made in different processes never collide."""
    return uuid.uuid4().hex[:16]


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One set of parameter values to evaluate, with where it came from.

    values: parameter name -> value (code text, prompt text, numbers); JSON-serializable so the
      run store can keep it (its ``param_values`` column). parent_ids/operator/llm_call_id record
      lineage; generation/island place it in an evolutionary search; meta holds extras such as
      the operator's "thought".
    """

    values: Mapping[str, Any]
    id: str = dataclasses.field(default_factory=new_id)
    parent_ids: tuple[str, ...] = ()
    operator: str | None = None
    llm_call_id: str | None = None
    generation: int = 0
    island: int | None = None
    meta: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.values, Mapping):
            raise TypeError(
                f"Candidate.values must be a mapping of parameter name -> value, got {type(self.values).__name__}"
            )
        if not isinstance(self.parent_ids, tuple):
            object.__setattr__(self, "parent_ids", tuple(self.parent_ids))


@dataclasses.dataclass(frozen=True)
class EvaluationFailure:
    """Why an evaluation failed: the reason (one of FAILURE_REASONS), a message, and output tail.

    Named for whose failure it is: an LLM call's failure and a traced call's failure are other
    classes (opto.llm, opto.trace).
    """

    reason: FailureReason
    message: str
    output_tail: str = ""

    def __post_init__(self) -> None:
        if self.reason not in FAILURE_REASONS:
            raise ValueError(f"unknown failure reason {self.reason!r}; expected one of {FAILURE_REASONS}")


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What an objective may return when a bare score or (score, feedback) is not enough.

    score: the primary score (higher is better); scores: several named scores (the primary one is
    ``score`` if given, else the first entry); artifacts: JSON-serializable extras kept in the store.
    """

    score: float | None = None
    scores: Mapping[str, float] | None = None
    feedback: str = ""
    artifacts: Mapping[str, Any] | None = None


@dataclasses.dataclass(frozen=True)
class EvalResult:
    """The result of evaluating one candidate; a failure is a value here, never an exception.

    ok is True iff failure is None. score is the primary score (None on failure); scores holds all
    named scores. duration_s is wall time measured by the executor, including framework overhead.
    started_at is when the evaluation was handed to its worker (``time.time()`` on the machine that
    runs the worker), so time spent queued is not counted against the limit; it is not stored by
    the run store and is ignored when results are compared.
    """

    candidate_id: str
    ok: bool
    score: float | None = None
    scores: Mapping[str, float] = dataclasses.field(default_factory=dict)
    feedback: str = ""
    artifacts: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    failure: EvaluationFailure | None = None
    duration_s: float = 0.0
    stdout_tail: str = ""
    stderr_tail: str = ""
    started_at: float | None = dataclasses.field(default=None, compare=False)

    @classmethod
    def failed(
        cls,
        candidate_id: str,
        reason: FailureReason,
        message: str,
        *,
        duration_s: float = 0.0,
        stdout_tail: str = "",
        stderr_tail: str = "",
        started_at: float | None = None,
    ) -> EvalResult:
        """A failed result whose output_tail joins the captured stdout and stderr tails."""
        return cls(
            candidate_id=candidate_id,
            ok=False,
            failure=EvaluationFailure(reason, message, output_tail(stdout_tail, stderr_tail)),
            feedback=f"{reason}: {message}",
            duration_s=duration_s,
            stdout_tail=stdout_tail,
            stderr_tail=stderr_tail,
            started_at=started_at,
        )


def output_tail(stdout: str, stderr: str, limit: int = 4000) -> str:
    """The last lines of both streams, labelled, for a failure message a human (or an LLM) reads."""
    parts = []
    half = limit // 2
    if stdout:
        parts.append("[stdout]\n" + stdout[-half:])
    if stderr:
        parts.append("[stderr]\n" + stderr[-half:])
    return "\n".join(parts)


# -- JSON data: what a worker sends back as artifacts and what the store keeps ----------------------


def to_jsonable(value: Any, where: str = "value") -> Any:
    """Plain JSON data from mappings, sequences, dataclasses, pydantic models and numpy values.

    Raises TypeError naming ``where`` (and, for NaN or infinity, the entry that holds it).
    """
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    try:
        return json.loads(json.dumps(value, allow_nan=False, default=json_default(where)))
    except ValueError as exc:
        raise TypeError(json_error(value, where, exc)) from None


def dumps(value: Any, where: str = "value") -> str:
    """Canonical JSON text (sorted keys, compact, no NaN) for storage and digests."""
    try:
        return json.dumps(value, sort_keys=True, allow_nan=False, default=json_default(where), separators=(",", ":"))
    except ValueError as exc:
        raise TypeError(json_error(value, where, exc)) from None


def json_default(where: str) -> Callable[[Any], Any]:
    """``json.dumps(default=...)``: numpy values become numbers and lists, sets sorted lists."""

    def default(obj: Any) -> Any:
        if hasattr(obj, "tolist"):  # numpy scalars and arrays
            return obj.tolist()
        if isinstance(obj, (set, frozenset)):
            return sorted(obj, key=repr)
        raise TypeError(f"{where} must be JSON data; {type(obj).__name__} {obj!r:.80} is not (convert it first)")

    return default


def json_error(value: Any, where: str, exc: ValueError) -> str:
    """The message for a ValueError from json.dumps; for NaN/inf it names the entry that holds it."""
    try:
        plain = json.loads(json.dumps(value, default=json_default(where)))  # NaN/inf kept, numpy converted
    except ValueError:  # e.g. a circular reference
        return f"{where} must be JSON data: {exc}"
    stack: list[tuple[str, Any]] = [(where, plain)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return f"{where} must be JSON data, which has no NaN or infinity: {path} is {item!r}"
        if isinstance(item, dict):
            stack.extend((f"{path}[{k!r}]", v) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(item))))
    return f"{where} must be JSON data, which has no NaN or infinity"
