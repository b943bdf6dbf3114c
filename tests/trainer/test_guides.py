from __future__ import annotations

import json

import pytest

from opto.llm import LMFailure, ScriptedLM
from opto.trainer import ExactMatch, LLMJudge, as_guide, exact_match
from opto.trainer.guides import Judgement


def test_function_guide_accepts_pairs_numbers_and_bools():
    assert as_guide(lambda i, o, info: (0.5, "half"))(1, 2, 3) == Judgement(0.5, "half")
    assert as_guide(lambda i, o, info: 2)(1, 2, 3) == Judgement(2.0, "")
    assert as_guide(lambda i, o, info: True)(1, 2, 3) == Judgement(1.0, "")
    with pytest.raises(TypeError, match="must return"):
        as_guide(lambda i, o, info: "good")(1, 2, 3)
    with pytest.raises(ValueError, match="non-finite"):
        as_guide(lambda i, o, info: float("nan"))(1, 2, 3)


def test_exact_match_says_what_was_expected():
    assert exact_match("q", " Paris ", "paris").score == 1.0
    miss = exact_match("q", "Lyon", "Paris")
    assert miss.score == 0.0 and "expected 'Paris', got 'Lyon'" in miss.feedback
    assert ExactMatch(case_sensitive=True)("q", "paris", "Paris").score == 0.0


def test_trace_opt_style_guide_object():
    class G:
        def get_feedback(self, query, response, reference, **kw):
            return (1.0 if response == reference else 0.0), "fb"

    assert as_guide(G())("q", "a", "a") == Judgement(1.0, "fb")


def test_llm_judge_reads_a_structured_verdict():
    lm = ScriptedLM([json.dumps({"score": 0.75, "feedback": "mostly right"})])
    verdict = LLMJudge(lm, criteria="Is it the capital?")("capital of France?", "Paris.", "Paris")
    assert verdict == Judgement(0.75, "mostly right")
    sent = lm.requests[0]
    assert "Is it the capital?" in sent.messages[-1]["content"] and "Paris." in sent.messages[-1]["content"]
    assert "JSON schema" in sent.messages[0]["content"]  # the schema instruction from the LLM layer


def test_llm_judge_never_passes_on_prose_and_survives_failures():
    # Prose that *mentions* a perfect score is not a verdict: the repair turn is tried, then fail_score.
    lm = ScriptedLM(["Score: 1.0, this is correct!", "I am sure it is correct, score 1"])
    verdict = LLMJudge(lm, fail_score=0.0)("q", "a", None)
    assert verdict.score == 0.0 and "could not be used" in verdict.feedback
    assert len(lm.requests) == 2  # the LLM layer asked once for a repair
    out_of_range = ScriptedLM([json.dumps({"score": 7, "feedback": "x"})] * 2)
    assert LLMJudge(out_of_range)("q", "a", None).score == 0.0
    down = ScriptedLM([LMFailure("connection", "refused")])
    assert "connection" in LLMJudge(down)("q", "a", None).feedback
