"""Exceptions of the LLM layer. Failures a run should survive are not among them: those come back
as ``LMFailure`` values in the response (see opto.llm.protocol)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opto.llm.protocol import LMFailure


class LMError(Exception):
    """Base class of every error the LLM layer raises."""


class LMConfigError(LMError, ValueError):
    """The LM cannot work as configured (missing extra, bad key, unknown model); the message names the fix."""


class BudgetExceeded(LMError):
    """A usage cap was reached; raised *before* the call that would have gone over it.

    ``tracker`` is the UsageTracker whose budget stopped the run, so ``track_usage`` can tell its own
    stop from a nested one.
    """

    def __init__(self, message: str, tracker: Any = None) -> None:
        super().__init__(message)
        self.tracker = tracker


class LMCallError(LMError):
    """Raised by ``Response.raise_for_failure()`` for callers that prefer exceptions."""

    def __init__(self, failure: LMFailure) -> None:
        super().__init__(failure.feedback())
        self.failure = failure
