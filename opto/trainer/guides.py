"""Guides judge one output: ``guide(input, output, info) -> (score, feedback)``, higher is better.

A guide may be a plain function, ``exact_match``, an ``LLMJudge`` (a structured verdict with a
numeric score, read through the LLM layer's schema support), or an object with trace-opt/OpenTrace's
``get_feedback(query, response, reference)``. ``as_guide`` turns any of them into one callable that
returns a ``Judgement``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field


@dataclasses.dataclass(frozen=True)
class Judgement:
    """A guide's verdict on one output."""

    score: float
    feedback: str


GuideFn = Callable[[Any, Any, Any], Any]


def judgement(value: Any, where: str = "guide") -> Judgement:
    """Read what a guide returned: (score, feedback), a bare score or bool, or a Judgement."""
    if isinstance(value, Judgement):
        return value
    if isinstance(value, tuple) and len(value) == 2:
        score, feedback = value
    elif isinstance(value, (bool, int, float)):
        score, feedback = value, ""
    else:
        raise TypeError(
            f"{where} must return (score, feedback), a number or a bool; got {type(value).__name__} {value!r:.80}"
        )
    try:
        number = float(score)
    except (TypeError, ValueError):
        raise TypeError(f"{where} returned a score that is not a number: {score!r:.80}") from None
    if not math.isfinite(number):
        raise ValueError(f"{where} returned a non-finite score {number}; scores must be finite numbers")
    return Judgement(number, "" if feedback is None else str(feedback))


class Guide:
    """A named guide: a callable with a description for logs and the run config."""

    name = "guide"

    def __call__(self, input: Any, output: Any, info: Any) -> Judgement:  # noqa: A002 - trace-opt naming
        raise NotImplementedError

    def calls_lm(self) -> bool:
        """True when each judgement costs an LLM call (dry-run planning counts them)."""
        return False


class FunctionGuide(Guide):
    def __init__(self, fn: GuideFn, name: str | None = None) -> None:
        self.fn = fn
        self.name = name or str(getattr(fn, "__name__", type(fn).__name__))

    def __call__(self, input: Any, output: Any, info: Any) -> Judgement:  # noqa: A002
        return judgement(self.fn(input, output, info), f"guide {self.name!r}")


class TraceOptGuide(Guide):
    """An object with OpenTrace's ``get_feedback(query, response, reference, **kw) -> (score, feedback)``."""

    def __init__(self, obj: Any) -> None:
        self.obj = obj
        self.name = type(obj).__name__

    def __call__(self, input: Any, output: Any, info: Any) -> Judgement:  # noqa: A002
        return judgement(self.obj.get_feedback(input, output, info), f"guide {self.name!r}")


class ExactMatch(Guide):
    """Score 1 when the output equals the info (as stripped text), else 0 with what was expected."""

    name = "exact_match"

    def __init__(self, case_sensitive: bool = False) -> None:
        self.case_sensitive = case_sensitive

    def __call__(self, input: Any, output: Any, info: Any) -> Judgement:  # noqa: A002
        got, want = str(output).strip(), str(info).strip()
        same = got == want if self.case_sensitive else got.casefold() == want.casefold()
        if same:
            return Judgement(1.0, "Correct.")
        return Judgement(0.0, f"Incorrect: expected {want!r}, got {got!r}.")


exact_match = ExactMatch()


class Verdict(BaseModel):
    """What an LLM judge must reply: a score in [0, 1] and the reason, as JSON."""

    score: float = Field(ge=0.0, le=1.0, description="1.0 = fully correct, 0.0 = wrong")
    feedback: str = Field(description="what is wrong and how to fix it, in one or two sentences")


_JUDGE_PROMPT = """You grade the output of a program.

Criteria: {criteria}

Input:
{input}

Output:
{output}

Reference (may be empty):
{info}

Give a score between 0 and 1 and short feedback that says what to change."""


class LLMJudge(Guide):
    """Ask an LM for a ``Verdict`` (JSON validated against the schema, one repair turn by the LM layer).

    An unusable reply (transport failure, or JSON that still fails validation) scores ``fail_score``
    with feedback saying so: a judge that cannot judge never crashes a run, and never counts as a
    pass because some word appeared in its prose.
    """

    name = "llm_judge"

    def __init__(self, lm: Any = None, criteria: str = "Is the output correct and complete?",
                 fail_score: float = 0.0, max_tokens: int = 256, temperature: float = 0.0,
                 seed: int | None = 0) -> None:
        self.lm = lm
        self.criteria = criteria
        self.fail_score = fail_score
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.seed = seed

    def calls_lm(self) -> bool:
        return True

    def __call__(self, input: Any, output: Any, info: Any) -> Judgement:  # noqa: A002
        from opto.llm import Request, resolve_lm

        lm = resolve_lm(self.lm)
        prompt = _JUDGE_PROMPT.format(criteria=self.criteria, input=input, output=output,
                                      info="" if info is None else info)
        response = lm.complete(Request.of(prompt, schema=Verdict, max_tokens=self.max_tokens,
                                          temperature=self.temperature, seed=self.seed))
        if response.failure is not None or not isinstance(response.parsed, Verdict):
            f = response.failure
            reason = f"{f.kind}: {f.message}" if f is not None else "no verdict"
            return Judgement(self.fail_score, f"The judge's reply could not be used ({reason}).")
        verdict: Verdict = response.parsed
        return Judgement(float(verdict.score), verdict.feedback)


def as_guide(guide: Any) -> Guide:
    """One Guide from a Guide, an object with ``get_feedback``, or a plain function."""
    if isinstance(guide, Guide):
        return guide
    if hasattr(guide, "get_feedback") and callable(guide.get_feedback):
        return TraceOptGuide(guide)
    if callable(guide):
        return FunctionGuide(guide)
    raise TypeError(
        f"guide must be a function (input, output, info) -> (score, feedback), a Guide, or an object with "
        f"get_feedback(); got {type(guide).__name__}"
    )
