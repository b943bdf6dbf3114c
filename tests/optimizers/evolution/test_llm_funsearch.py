
from llm_op_helpers import BEST_FIT, FIRST_FIT, ctx, parent, prompt_of

from opto.llm import ScriptedLM
from opto.optimizers.evolution.operators import (
    Proposal,
    ProposalFailure,
    build_operator,
)


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
