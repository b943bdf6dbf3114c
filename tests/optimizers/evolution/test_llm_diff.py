
from llm_op_helpers import ctx, parent, prompt_of, space

from opto.llm import ScriptedLM
from opto.optimizers.evolution.operators import (
    Proposal,
    ProposalFailure,
    build_operator,
)
from opto.optimizers.evolution.operators.llm_diff import DiffOperator, Edit, apply_edit, parse_edits

LONG = '''import numpy as np


def priority(item, bins):
    """Best fit with a tie-break."""
    gap = bins - item
    if item > 50:
        gap = gap * 1.0
    return -gap
'''


def block(search: str, replace: str) -> str:
    return f"<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE"


def test_exact_and_whitespace_tolerant_application():
    exact = apply_edit(LONG, Edit("    return -gap", "    return -gap ** 2"))
    assert exact is not None and exact.endswith("    return -gap ** 2\n")
    # copied with lost indentation and extra spaces: matched line by line, re-indented
    loose = apply_edit(LONG, Edit("if item >  50:\n    gap = gap * 1.0", "if item > 40:\n    gap = gap * 0.5"))
    assert loose is not None and "    if item > 40:\n        gap = gap * 0.5\n    return -gap" in loose
    assert apply_edit(LONG, Edit("return gap + 1", "x")) is None
    assert apply_edit(LONG, Edit("", "x")) is None


def test_operator_applies_blocks_and_counts_failures():
    good = "{Square the gap.}\n" + block("    return -gap", "    return -gap * gap")
    bad = block("    return gap / 0", "    return 1")
    lm = ScriptedLM([good, bad, "no blocks here"])
    op = build_operator("diff")
    sp = space(priority=LONG)
    out = op.propose([parent("a", LONG)], ctx(lm, sp))
    assert isinstance(out, Proposal), out
    assert out.values["priority"].endswith("return -gap * gap\n") and out.thought == "Square the gap."
    failed = op.propose([parent("a", LONG)], ctx(lm, sp))
    assert isinstance(failed, ProposalFailure) and failed.reason == "apply_failed" and "gap / 0" in failed.detail
    none = op.propose([parent("a", LONG)], ctx(lm, sp))
    assert isinstance(none, ProposalFailure) and none.reason == "unparseable"
    assert (op.attempts, op.apply_failures, op.apply_failure_rate) == (2, 1, 0.5)
    assert "SEARCH" in prompt_of(lm) and "def priority(item, bins):" in prompt_of(lm)


def test_parse_several_blocks_and_no_change():
    text = block("a = 1", "a = 2") + "\nand\n" + block("b = 1", "b = 2")
    assert parse_edits(text) == [Edit("a = 1", "a = 2"), Edit("b = 1", "b = 2")]
    lm = ScriptedLM([block("    return -gap", "    return -gap")])
    same = DiffOperator().propose([parent("a", LONG)], ctx(lm, space(priority=LONG)))
    assert isinstance(same, ProposalFailure) and same.reason == "no_change"
