import json
import re

import numpy as np
import pytest
from llm_op_helpers import BEST_FIT, ctx, parent, prompt_of

from opto.llm import ScriptedLM
from opto.optimizers.evolution.operators import (
    Proposal,
    ProposalFailure,
)
from opto.optimizers.evolution.operators.trace_guided import TraceGuidedOperator, TraceRecorder, render_trace
from opto.runtime import load_function

FIXED = "def priority(item, bins):\n    return -(bins - item) + (bins == item) * 1000\n"


def recorded_trace() -> dict:
    """What an objective records in its worker: the candidate wrapped, called on an instance."""
    rec = TraceRecorder(load_function(BEST_FIT, "priority"), head=2, tail=1)
    for item in (30, 40, 50, 60):
        rec(item, np.array([100, 70, 40]))
    return rec.artifact("used 3 bins; the L1 bound is 2", instance="u500_00")


def test_recorder_keeps_head_and_tail_calls_as_json():
    trace = recorded_trace()
    json.dumps(trace)
    assert [c["call"] for c in trace["calls"]] == [1, 2, 4] and trace["total_calls"] == 4
    assert trace["calls"][0]["inputs"] == {"item": "30", "bins": "array([100, 70, 40])"}
    assert trace["calls"][0]["output"] == "array([-70, -40, -10])"
    text = render_trace(trace)
    assert "call 4: priority(item=60, bins=array([100, 70, 40])) -> array([-40, -10, 20])" in text


def test_recorder_records_exceptions():
    def bad(item, bins):
        raise ZeroDivisionError("division by zero")

    rec = TraceRecorder(bad)
    try:
        rec(1, 2)
    except ZeroDivisionError:
        pass
    assert rec.artifact("crashed")["calls"][0]["error"] == "ZeroDivisionError: division by zero"


def test_optoprime_step_on_the_recorded_trace():
    pytest.importorskip("opto.optimizers.optoprime")
    def reply(request):  # answer with the code variable's name as the prompt shows it
        name = re.search(r"__code\d*", request.messages[-1]["content"]).group(0)
        return json.dumps({"reasoning": "Exact fits should win: call 4 left a gap.", "suggestion": {name: FIXED}})

    lm = ScriptedLM(reply)
    p = parent("a", feedback="excess 4.1% over the L1 bound", meta={"trace": recorded_trace()})
    out = TraceGuidedOperator().propose([p], ctx(lm))
    assert isinstance(out, Proposal), out
    assert out.values == {"priority": FIXED.rstrip("\n"), "scale": 1.0}
    assert out.operator == "trace_guided" and out.thought.startswith("Exact fits") and out.llm_tokens > 0
    prompt = prompt_of(lm)
    # OptoPrime's sections, with the intermediate values of the failing instance
    assert "array([-40, -10, 20])" in prompt and "used 3 bins" in prompt
    assert "excess 4.1% over the L1 bound" in prompt and "return -(bins - item)" in prompt


def test_own_prompt_fallback_and_failures():
    lm = ScriptedLM(["{Reward exact fits.}\n```python\n" + FIXED + "```", "no code at all"])
    op = TraceGuidedOperator(use_optoprime=False)
    p = parent("a", feedback="excess 4.1%", meta={"artifacts": {"trace": recorded_trace()}})
    out = op.propose([p], ctx(lm))
    assert isinstance(out, Proposal) and out.thought == "Reward exact fits."
    prompt = prompt_of(lm)
    assert "Trace of the run" in prompt and "call 4: priority(item=60" in prompt
    bad = op.propose([p], ctx(lm))
    assert isinstance(bad, ProposalFailure) and bad.reason == "unparseable"
    assert op.propose([parent("b")], ctx(lm)).reason == "no_trace"


def test_optoprime_without_a_usable_suggestion_is_a_failure():
    pytest.importorskip("opto.optimizers.optoprime")
    lm = ScriptedLM([json.dumps({"reasoning": "not sure", "suggestion": {}})])
    p = parent("a", meta={"trace": recorded_trace()})
    out = TraceGuidedOperator().propose([p], ctx(lm))
    assert isinstance(out, ProposalFailure) and out.reason in ("unparseable", "llm_failure")


def test_a_small_local_model_gets_the_short_own_prompt_not_optoprime():
    lm = ScriptedLM([f"{{Prefer exact fits.}}\n```python\n{FIXED}```"])
    lm.compact_prompts = True  # what a LocalLM gets by default (llm_call.compact)
    p = parent("a", feedback="excess 4.1% over the L1 bound", meta={"trace": recorded_trace()})
    out = TraceGuidedOperator().propose([p], ctx(lm))
    assert isinstance(out, Proposal), out
    request = lm.requests[-1]
    assert request.schema is None and "Trace of the run" in request.messages[-1]["content"]
    assert request.max_tokens <= 384 and "\n```\n" in request.stop
