
import pytest
from llm_op_helpers import BEST_FIT, FIRST_FIT, ctx, parent, prompt_of, space

from opto.llm import LMFailure as Failure
from opto.llm import ScriptedLM
from opto.optimizers.evolution.operators import (
    OPERATORS,
    Proposal,
    ProposalFailure,
    Rejection,
    build_operator,
)
from opto.optimizers.evolution.operators.llm_eoh import EoHOperator

NEW = "{Pack the item where the gap left is smallest relative to the bin.}\n```python\ndef priority(item, bins):\n    return -(bins - item) / bins\n```"


@pytest.mark.parametrize("strategy", ["E1", "E2", "M1", "M2", "M3"])
def test_each_strategy_proposes_thought_and_code(strategy):
    lm = ScriptedLM([NEW])
    op = build_operator(strategy)
    parents = [parent("a", score=-4.0, meta={"thought": "best fit"}), parent("b", FIRST_FIT, score=-6.0)]
    out = op.propose(parents[: op.arity], ctx(lm))
    assert isinstance(out, Proposal), out
    assert out.operator == strategy
    assert out.thought == "Pack the item where the gap left is smallest relative to the bin."
    assert out.values == {"priority": "def priority(item, bins):\n    return -(bins - item) / bins", "scale": 1.0}
    assert out.parent_ids == tuple(p.id for p in parents[: op.arity])
    assert out.llm_tokens > 0
    prompt = prompt_of(lm)
    assert "online bin packing" in prompt and "priority(item, bins)" in prompt
    assert "return -(bins - item)" in prompt  # the parent's code is shown
    if strategy in ("E1", "E2"):
        assert op.arity == 2 and "best fit" in prompt and "return -bins * 0" in prompt


def test_strategies_have_distinct_instructions():
    prompts = []
    for s in ["E1", "E2", "M1", "M2", "M3"]:
        lm = ScriptedLM([NEW])
        op = build_operator(s, k=2)
        op.propose([parent("a"), parent("b")][: op.arity], ctx(lm))
        prompts.append(prompt_of(lm))
    assert len(set(prompts)) == 5
    assert "different" in prompts[0] and "in common" in prompts[1] and "simpler" in prompts[4]
    assert "parameters" in prompts[3]


def test_rejections_and_feedback_are_shown():
    lm = ScriptedLM([NEW])
    rejected = (Rejection("M1", "syntax", "invalid syntax (line 2)", "def priority(item bins): ..."),)
    op = build_operator("M1")
    op.propose([parent("a", feedback="instance u500_03: 212 bins, bound 201")], ctx(lm, rejected=rejected))
    prompt = prompt_of(lm)
    assert "do not repeat" in prompt and "[syntax] invalid syntax (line 2)" in prompt
    assert "u500_03: 212 bins" in prompt


def test_renamed_function_is_renamed_back_and_wrong_ones_rejected():
    lm = ScriptedLM(["{Use ratio.}\n```python\ndef score_bins(item, bins):\n    return item / bins\n```",
                     "```python\ndef a(x):\n    return x\ndef b(y):\n    return y\n```"])
    op = build_operator("M1")
    out = op.propose([parent("a")], ctx(lm))
    assert isinstance(out, Proposal) and out.values["priority"].startswith("def priority(item, bins):")
    bad = op.propose([parent("a")], ctx(lm))
    assert isinstance(bad, ProposalFailure) and bad.reason == "unparseable" and "priority" in bad.detail


def test_failures_are_cheap_values_never_exceptions():
    lm = ScriptedLM(["I think best fit is good.", Failure("timeout", "server too slow")], repair=False)
    op = build_operator("M2")
    no_code = op.propose([parent("a")], ctx(lm))
    assert isinstance(no_code, ProposalFailure) and no_code.reason == "unparseable" and no_code.llm_tokens > 0
    timeout = op.propose([parent("a")], ctx(lm))
    assert isinstance(timeout, ProposalFailure) and timeout.reason == "llm_failure"
    empty = op.propose([parent("a")], ctx(lm))  # the scripted queue is empty: the LM raises
    assert isinstance(empty, ProposalFailure) and empty.reason == "llm_failure"
    assert op.propose([parent("a")], ctx(None)).reason == "no_lm"
    assert build_operator("E1").propose([parent("a")], ctx(lm)).reason == "too_few_parents"
    text_only = space(prompt="Answer briefly.")
    assert op.propose([parent("a", values={"prompt": "x"})], ctx(lm, text_only)).reason == "no_target"


def test_structured_mode_uses_the_schema():
    lm = ScriptedLM(['{"thought": "halve it", "code": "def priority(item, bins):\\n    return bins / 2"}'])
    op = EoHOperator("M1", structured=True)
    out = op.propose([parent("a")], ctx(lm))
    assert isinstance(out, Proposal) and out.thought == "halve it"
    assert out.values["priority"] == "def priority(item, bins):\n    return bins / 2"
    assert lm.requests[0].schema is not None


def test_seeded_requests_are_reproducible():
    seeds = []
    for _ in range(2):
        lm = ScriptedLM([NEW, NEW])
        c = ctx(lm)
        op = build_operator("M1")
        op.propose([parent("a")], c)
        op.propose([parent("a")], c)
        seeds.append([r.seed for r in lm.requests])
    assert seeds[0] == seeds[1] and seeds[0][0] != seeds[0][1]


def test_registry_and_validation():
    assert {"E1", "E2", "M1", "M2", "M3"} <= set(OPERATORS)
    with pytest.raises(ValueError, match="E1"):
        EoHOperator("X9")
    assert BEST_FIT
