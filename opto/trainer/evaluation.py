"""Running the model on one instance and judging it, and scoring a candidate on a split.

A failure in the model or the guide is a low score with feedback, never a crash; only a budget
stop passes through (an LLM call refused by the budget must end the run, not become feedback).
Every instance result is committed to the run store as it completes.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from opto.llm import BudgetExceeded
from opto.records import EvalResult, EvaluationFailure
from opto.trace.errors import ExecutionError
from opto.trace.nodes import Node
from opto.trainer.dataset import Dataset, Example
from opto.trainer.guides import Guide
from opto.trainer.recorder import Recorder

log = logging.getLogger("opto.trainer")
_OUTPUT_CHARS = 500


@dataclasses.dataclass
class Run:
    """One forward pass: the output node (for backward, None when there is none) and its judgement."""

    example: Example
    node: Node | None
    output: Any
    score: float
    feedback: str
    error: str | None = None


@dataclasses.dataclass(frozen=True)
class SplitScore:
    """A candidate's mean score on a split, with the per-instance scores (index -> score)."""

    mean: float
    per_instance: dict[int, float]


def _budget_cause(err: BaseException) -> BudgetExceeded | None:
    if isinstance(err, BudgetExceeded):
        return err
    if isinstance(err, ExecutionError):
        inner = getattr(err.exception_node, "exception", None)
        if isinstance(inner, BudgetExceeded):
            return inner
    cause = err.__cause__ or err.__context__
    return cause if isinstance(cause, BudgetExceeded) else None


def forward(model: Callable[[Any], Any], guide: Guide, example: Example, failure_score: float) -> Run:
    """Run the model on one input and judge the output."""
    try:
        out = model(example.input)
    except Exception as err:  # noqa: BLE001 - user code: its failure is feedback
        stop = _budget_cause(err)
        if stop is not None:
            raise stop from None
        if isinstance(err, ExecutionError):
            node = err.exception_node
            text = str(node.data)
        else:
            node, text = None, f"{type(err).__name__}: {err}"
        return Run(example, node, None, failure_score, f"The program raised an exception: {text}", error=text)
    node = out if isinstance(out, Node) else None
    data = out.data if isinstance(out, Node) else out
    try:
        verdict = guide(example.input, data, example.info)
    except Exception as err:  # noqa: BLE001 - a guide bug is reported, the run goes on
        stop = _budget_cause(err)
        if stop is not None:
            raise stop from None
        log.warning("guide %r raised on instance %d: %s: %s", guide.name, example.index, type(err).__name__, err)
        text = f"the guide raised {type(err).__name__}: {err}"
        return Run(example, node, data, failure_score, text, error=text)
    return Run(example, node, data, verdict.score, verdict.feedback)


def instance_result(cid: str, split: Dataset, run: Run, duration_s: float) -> EvalResult:
    key = split.key(run.example)
    artifacts = {"input_key": key, "output": _short(run.output)}
    if run.error is not None:
        return EvalResult(cid, ok=False, scores={"score": run.score}, feedback=run.feedback, artifacts=artifacts,
                          failure=EvaluationFailure("exception", run.error[:2000]), duration_s=duration_s)
    return EvalResult(cid, ok=True, scores={"score": run.score}, feedback=run.feedback, artifacts=artifacts,
                      duration_s=duration_s)


def _short(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= _OUTPUT_CHARS else text[:_OUTPUT_CHARS] + " …"


class Evaluator:
    """Scores parameter values on examples, reusing any evaluation the store already holds."""

    def __init__(self, model: Callable[[Any], Any], guide: Guide, recorder: Recorder, failure_score: float,
                 on_evaluation: Callable[[int], None]) -> None:
        self.model = model
        self.guide = guide
        self.recorder = recorder
        self.failure_score = failure_score
        self._count = on_evaluation  # called before each paid evaluation (budget check + counter)

    def run(self, cid: str, split: Dataset, example: Example) -> Run:
        """A fresh forward pass (traced, for backward); committed to the store."""
        self._count(1)
        t0 = time.perf_counter()
        r = forward(self.model, self.guide, example, self.failure_score)
        self.recorder.record(instance_result(cid, split, r, time.perf_counter() - t0), split.key(example))
        return r

    def score(self, cid: str, split: Dataset, examples: Sequence[Example] | None = None) -> SplitScore:
        """Mean score of the current parameter values (which must be ``cid``'s) on ``examples``."""
        from opto.trace import stop_tracing

        chosen = list(split) if examples is None else list(examples)
        if not chosen:
            raise ValueError(f"cannot score on an empty {split.name} set")
        scores: dict[int, float] = {}
        for ex in chosen:
            stored = self.recorder.cached(cid, split.key(ex))
            if stored is not None and "score" in stored.scores:
                scores[ex.index] = float(stored.scores["score"])
                continue
            with stop_tracing():
                scores[ex.index] = self.run(cid, split, ex).score
        return SplitScore(sum(scores.values()) / len(scores), scores)

    def record_split(self, cid: str, split: Dataset, result: SplitScore, selection: bool) -> None:
        """One aggregate row for a full split: ``score`` is set only on the selection split."""
        if self.recorder.cached(cid, split.name) is not None:
            return
        row = EvalResult(cid, ok=True, score=result.mean if selection else None,
                         scores={split.name: result.mean},
                         artifacts={"input_key": split.name, "n": len(result.per_instance)})
        self.recorder.record(row, split.name)
