import random
from typing import Any

from opto.llm import ScriptedLM
from opto.optimizers.evolution.operators import (
    Proposal,
    ProposalFailure,
    Rejection,
    build_operator,
)
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


def test_parents_are_shown_worst_to_best_as_versions():
    lm = ScriptedLM(["```python\ndef priority_v2(item, bins):\n    return -(bins - item) ** 2\n```"])
    op = build_operator("funsearch", k=2)
    good, bad = parent("good", BEST_FIT, score=-4.0), parent("bad", FIRST_FIT, score=-9.0)
    out = op.propose([good, bad], ctx(lm))
    assert isinstance(out, Proposal), out
    assert out.values["priority"] == "def priority(item, bins):\n    return -(bins - item) ** 2"
    assert out.parent_ids == ("good", "bad") and out.thought
    prompt = prompt_of(lm)
    assert prompt.index("def priority_v0(item, bins):\n    return -bins * 0") < prompt.index(
        "def priority_v1(item, bins):\n    return -(bins - item)")
    assert "priority_v2(item, bins)" in prompt and "score: -4" in prompt


def test_body_only_and_old_name_replies_are_accepted():
    lm = ScriptedLM(["```python\n    return bins - item\n```",
                     "```python\ndef priority_v0(item, bins):\n    return bins * 2\n```"])
    op = build_operator("funsearch", k=1)
    body = op.propose([parent("a")], ctx(lm))
    assert isinstance(body, Proposal) and body.values["priority"] == "def priority(item, bins):\n    return bins - item"
    old = op.propose([parent("a")], ctx(lm))
    assert isinstance(old, Proposal) and old.values["priority"] == "def priority(item, bins):\n    return bins * 2"


def test_failures():
    lm = ScriptedLM(["no idea, sorry", "```python\ndef priority_v1(item bins):\n  return\n```"])
    op = build_operator("funsearch", k=1)
    # prose alone is read as a body; it does not parse
    first = op.propose([parent("a")], ctx(lm))
    assert isinstance(first, ProposalFailure) and first.reason == "unparseable"
    second = op.propose([parent("a")], ctx(lm))
    assert isinstance(second, ProposalFailure) and second.reason == "unparseable" and "parse" in second.detail
    assert op.propose([], ctx(lm)).reason == "too_few_parents"
