"""opto.evaluate: whatever a candidate returns is committed, so a run never dies of it, nor does its resume."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from opto.evaluate import evaluate_pending, run_batch
from opto.records import EvaluationFailure
from opto.runtime import Candidate, EvalResult, Executor, LocalExecutor
from opto.runtime.executor import NO_INPUT
from opto.store import RunStore


class ScriptedExecutor(Executor):
    """Returns prepared results without running anything: results no sandbox would let through."""

    def __init__(self, results: dict[str, EvalResult]) -> None:
        super().__init__("sandbox_objectives:trivial", 1)
        self.results = results

    def _open_slot(self, index: int) -> Any:
        raise NotImplementedError

    def as_completed(self, candidates: Iterable[Candidate], input: Any = NO_INPUT) -> Iterator[EvalResult]:
        for c in candidates:
            yield self.results[c.id]


def test_a_result_the_store_refuses_is_committed_as_a_failure(tmp_path):
    results = {
        "nan_art": EvalResult("nan_art", True, score=1.0, scores={"score": 1.0}, artifacts={"loss": math.nan},
                              stdout_tail="printed"),
        "inf": EvalResult("inf", True, score=-math.inf, scores={"score": -math.inf}),
        "surrogate": EvalResult("surrogate", False, failure=EvaluationFailure("exception", "ValueError: \ud800"),
                                feedback="exception: \ud800"),
        "fine": EvalResult("fine", True, score=2.0, scores={"score": 2.0}),
    }
    seen: list[EvalResult] = []
    with RunStore.open(tmp_path / "run.db") as store:
        out = run_batch(store, ScriptedExecutor(results), [Candidate({}, id=i) for i in results], on_result=seen.append)
        assert store.counts()["in_flight"] == 0 and store.counts()["done"] == 4 and store.check() == []
        stored = store.latest_evaluations(list(results))
    nan_art, inf, surrogate, fine = out
    assert nan_art.failure is not None and nan_art.failure.reason == "invalid_return"
    assert "could not be stored" in nan_art.failure.message and "artifacts['loss'] is nan" in nan_art.failure.message
    assert nan_art.stdout_tail == "printed"
    assert inf.failure is not None and inf.failure.reason == "invalid_return" and "scores" in inf.failure.message
    assert surrogate.failure is not None and surrogate.failure.reason == "exception"
    assert surrogate.failure.message.startswith("ValueError: ?")
    assert fine.ok and fine.score == 2.0
    assert seen == out and [stored[i] for i in results] == out


@pytest.mark.integration
def test_non_finite_scores_and_nan_artifacts_fail_the_candidate_not_the_run(tmp_path):
    codes = {
        "minus_inf": "def f():\n    import math\n    return -math.inf",
        "nan_artifact": "def f():\n    return {'score': 1, 'artifacts': {'loss': float('nan')}}",
        "numpy": "def f():\n    import numpy as np\n    return {'score': 1, 'artifacts': {'a': np.arange(3), 'b': np.float32(1.5)}}",
    }
    cands = [Candidate({"code": code}, id=name) for name, code in codes.items()]
    path = tmp_path / "run.db"
    with RunStore.open(path) as store, LocalExecutor("sandbox_objectives:run_code", workers=1) as ex:
        minus_inf, nan_artifact, numpy = run_batch(store, ex, cands)
        assert store.counts() | {"events": 0} == {
            "candidates": 3, "pending": 0, "in_flight": 0, "done": 3, "evaluations": 3, "failed": 2,
            "failures": {"invalid_return": 2}, "llm_calls": 0, "events": 0}
    assert minus_inf.failure is not None and "score is infinite (-inf)" in minus_inf.failure.message
    assert nan_artifact.failure is not None and "artifacts['loss'] is nan" in nan_artifact.failure.message
    assert numpy.ok and numpy.artifacts == {"a": [0, 1, 2], "b": 1.5}
    with RunStore.open(path) as store, LocalExecutor("sandbox_objectives:run_code", workers=1) as ex:
        assert evaluate_pending(store, ex) == []  # nothing was left in flight to block the resume


@pytest.mark.integration
def test_run_batch_again_only_does_missing_work(tmp_path):
    cands = [Candidate({"x": x}, id=f"x{x}") for x in range(4)]
    seen = []
    with RunStore.open(tmp_path / "run.db") as store, LocalExecutor("sandbox_objectives:square_error", workers=2) as ex:
        first = run_batch(store, ex, cands[:2], on_result=seen.append)
        again = run_batch(store, ex, [*cands, cands[3]], on_result=seen.append)
        assert [r.score for r in again] == [-9.0, -4.0, -1.0, 0.0, 0.0]
        assert again[:2] == [dataclasses.replace(r, stdout_tail="", stderr_tail="") for r in first]
        assert sorted(r.candidate_id for r in seen) == ["x0", "x1", "x2", "x3"]
        assert store.counts()["evaluations"] == 4
