"""The one place candidate code runs: sandboxed worker pools (local or Ray) and the resumable driver.

    from opto.runtime import Candidate, LocalExecutor

    with LocalExecutor("my_pkg.objectives:score", workers=4, timeout_s=10) as ex:
        for result in ex.as_completed([Candidate({"solve": code}) for code in sources]):
            print(result.ok, result.score, result.failure)

See docs/runtime.md for objectives, limits, failure reasons and resume.
"""

from opto.runtime.driver import evaluate_pending, run_batch
from opto.runtime.executor import Executor, ExecutorShutdown, make_executor
from opto.runtime.limits import Limits
from opto.runtime.local import LocalExecutor
from opto.runtime.objective import Objective
from opto.runtime.process import WorkerStartError
from opto.runtime.source import CandidateCodeError, load_function
from opto.runtime.types import FAILURE_REASONS, Candidate, EvalResult, Failure, FailureReason, Outcome, new_id

__all__ = [
    "FAILURE_REASONS",
    "Candidate",
    "CandidateCodeError",
    "EvalResult",
    "Executor",
    "ExecutorShutdown",
    "Failure",
    "FailureReason",
    "Limits",
    "LocalExecutor",
    "Objective",
    "Outcome",
    "WorkerStartError",
    "evaluate_pending",
    "load_function",
    "make_executor",
    "new_id",
    "run_batch",
]


def __getattr__(name: str) -> object:
    if name == "RayExecutor":  # imports ray only when asked for
        from opto.runtime.ray_executor import RayExecutor

        return RayExecutor
    raise AttributeError(f"module 'opto.runtime' has no attribute {name!r}")
