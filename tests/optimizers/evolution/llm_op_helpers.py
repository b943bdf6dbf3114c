"""Shared set-up of the LLM-operator tests: a bin-packing search space, parents, contexts, prompts."""

from __future__ import annotations

import random
from typing import Any

from opto.llm import ScriptedLM
from opto.optimizers.evolution.operators import Rejection
from opto.optimizers.evolution.operators.base import OperatorContext, Parent
from opto.optimizers.evolution.space import SearchSpace

BEST_FIT = "def priority(item, bins):\n    return -(bins - item)\n"
FIRST_FIT = "def priority(item, bins):\n    return -bins * 0\n"


def space(**values: Any) -> SearchSpace:
    return SearchSpace.from_values(values or {"priority": BEST_FIT, "scale": 1.0})


def parent(pid: str, code: str = BEST_FIT, score: float | None = -5.0, **extra: Any) -> Parent:
    values = {"priority": code, "scale": 1.0}
    values.update(extra.pop("values", {}))
    return Parent(id=pid, values=values, score=score, meta=extra.pop("meta", {}), **extra)


def ctx(lm: ScriptedLM | None, sp: SearchSpace | None = None, rejected: tuple[Rejection, ...] = (),
        task: str = "online bin packing") -> OperatorContext:
    return OperatorContext(space=sp or space(), rng=random.Random(0), lm=lm, rejected=rejected, task=task)


def prompt_of(lm: ScriptedLM, i: int = -1) -> str:
    return "\n".join(str(m["content"]) for m in lm.requests[i].messages)
