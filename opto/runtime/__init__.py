"""The one place candidate code runs: sandboxed worker pools, local or on Ray.

    from opto.runtime import Candidate, LocalExecutor

    with LocalExecutor("my_pkg.objectives:score", workers=4, timeout_s=10) as ex:
        for result in ex.as_completed([Candidate({"solve": code}) for code in sources]):
            print(result.ok, result.score, result.failure)

The candidate/result types live in opto.records (shared with the run store) and are re-exported
here; the resumable loop that joins an executor and a store is opto.evaluate (above both).
See docs/runtime.md for objectives, limits, failure reasons and resume.
"""

from opto.records import (
    FAILURE_REASONS,
    Candidate,
    EvalResult,
    EvaluationFailure,
    FailureReason,
    Outcome,
    new_id,
)
from opto.runtime.executor import Executor, ExecutorShutdown, make_executor
from opto.runtime.limits import Limits
from opto.runtime.local import LocalExecutor
from opto.runtime.objective import Objective
from opto.runtime.process import WorkerStartError
from opto.runtime.source import CandidateCodeError, load_function

__all__ = [
    "FAILURE_REASONS",
    "Candidate",
    "CandidateCodeError",
    "EvalResult",
    "EvaluationFailure",
    "Executor",
    "ExecutorShutdown",
    "FailureReason",
    "Limits",
    "LocalExecutor",
    "Objective",
    "Outcome",
    "WorkerStartError",
    "load_function",
    "make_executor",
    "new_id",
]

_MOVED = {
    "run_batch": "use `from opto.evaluate import run_batch`",
    "evaluate_pending": "use `from opto.evaluate import evaluate_pending`",
    "Failure": "it is named EvaluationFailure now (`from opto.runtime import EvaluationFailure`)",
}


def __getattr__(name: str) -> object:
    if name == "RayExecutor":  # imports ray only when asked for
        from opto.runtime.ray_executor import RayExecutor

        return RayExecutor
    if name in _MOVED:  # a clear pointer, not an import: opto.evaluate sits above the runtime
        raise AttributeError(f"opto.runtime has no {name!r}; {_MOVED[name]}")
    raise AttributeError(f"module 'opto.runtime' has no attribute {name!r}")
