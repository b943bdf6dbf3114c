
from llm_op_helpers import ctx, parent, prompt_of, space

from opto.llm import ScriptedLM
from opto.optimizers.evolution.operators import (
    Proposal,
    ProposalFailure,
    build_operator,
)
from opto.optimizers.evolution.operators.base import Parent
from opto.optimizers.evolution.operators.llm_text import extract_instruction

A = "Answer with one word."
B = "Think step by step, then give the final answer."


def text_parent(pid: str, text: str, score: float) -> Parent:
    return Parent(id=pid, values={"prompt": text, "k": 3}, score=score)


def test_fusion_of_two_instructions():
    lm = ScriptedLM(["{Keep the reasoning but force a short final answer.}\n<instruction>\nThink step by step, "
                     "then answer with one word.\n</instruction>"])
    sp = space(prompt=A, k=3)
    out = build_operator("fusion").propose([text_parent("a", A, 0.2), text_parent("b", B, 0.5)], ctx(lm, sp))
    assert isinstance(out, Proposal), out
    assert out.values == {"prompt": "Think step by step, then answer with one word.", "k": 3}
    assert out.parent_ids == ("a", "b") and out.thought.startswith("Keep the reasoning")
    prompt = prompt_of(lm)
    assert A in prompt and B in prompt and "score 0.5" in prompt


def test_extraction_fallbacks_and_failures():
    assert extract_instruction(f"<instruction>{A}</instruction> <instruction>New one.</instruction>", (A,)) == "New one."
    assert extract_instruction("{idea here is fine}\n```\nFenced one.\n```") == "Fenced one."
    assert extract_instruction('{"instruction": "From JSON."}') == "From JSON."
    assert extract_instruction("{Merge them well.} Plain text after.") == "Plain text after."
    lm = ScriptedLM([f"<instruction>{A}</instruction>", "   "])
    sp = space(prompt=A, k=3)
    op = build_operator("fusion")
    copy = op.propose([text_parent("a", A, 0.2), text_parent("b", B, 0.5)], ctx(lm, sp))
    assert isinstance(copy, ProposalFailure) and copy.reason == "no_change"
    empty = op.propose([text_parent("a", A, 0.2), text_parent("b", B, 0.5)], ctx(lm, sp))
    assert isinstance(empty, ProposalFailure) and empty.reason == "unparseable"
    assert op.propose([text_parent("a", A, 0.2)], ctx(lm, sp)).reason == "too_few_parents"
    assert op.propose([parent("a"), parent("b")], ctx(lm)).reason == "no_target"
