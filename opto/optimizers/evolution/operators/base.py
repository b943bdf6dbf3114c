"""The operator interface: what a variation operator sees of its parents and what it hands back.

Operators are small and stateless between calls; everything they may read (the search space, a
seeded random generator, the LM, the children rejected so far) arrives in an OperatorContext, so
the same operator runs under the search loop, in tests, and on resume with identical results.
An operator never raises for an ordinary failure: it returns a ProposalFailure with the reason.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from opto.llm import LM
    from opto.optimizers.evolution.space import SearchSpace


@dataclass(frozen=True)
class Parent:
    """What an operator sees of one parent (code is given as source text)."""

    id: str
    values: Mapping[str, Any]
    score: float | None
    scores: Mapping[str, float] = field(default_factory=dict)
    feedback: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Proposal:
    """A child to be gated and evaluated; ``values`` holds the FULL parameter values of the child."""

    values: dict[str, Any]
    operator: str
    parent_ids: tuple[str, ...]
    thought: str = ""
    llm_tokens: int = 0
    llm_call_id: str | None = None


@dataclass(frozen=True)
class ProposalFailure:
    """The operator could not produce a child ("llm_failure", "unparseable", "apply_failed", ...)."""

    operator: str
    reason: str
    detail: str = ""
    llm_tokens: int = 0


@dataclass(frozen=True)
class Rejection:
    """A child rejected earlier (gate, apply or evaluation), shown to LLM operators as "do not repeat"."""

    operator: str
    reason: str
    detail: str
    values_excerpt: str


@dataclass
class OperatorContext:
    """Everything an operator may read besides its parents; ``lm=None`` means no LLM operators run."""

    space: SearchSpace
    rng: random.Random
    lm: LM | None = None
    rejected: Sequence[Rejection] = ()
    task: str = ""


@runtime_checkable
class Operator(Protocol):
    """A variation operator: ``arity`` parents in, one Proposal or ProposalFailure out."""

    name: str
    arity: int
    needs_lm: bool

    def propose(self, parents: Sequence[Parent], ctx: OperatorContext) -> Proposal | ProposalFailure: ...
