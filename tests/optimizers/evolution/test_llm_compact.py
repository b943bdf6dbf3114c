"""Compact requests for a small local model: a reply cap sized to the function, a stop sequence,
fewer parents and remembered rejections, clipped feedback; other models get the full prompt."""

from __future__ import annotations

import random

import pytest

from opto.llm import ScriptedLM
from opto.optimizers.evolution.operators import OPERATORS, OperatorContext, Parent, Rejection
from opto.optimizers.evolution.operators.llm_call import CODE_STOP, COMPACT_MAX_TOKENS, compact
from opto.optimizers.evolution.space import ParamSpec, SearchSpace

CODE = "def priority(item, bins):\n    return -(bins - item)\n"
SPACE = SearchSpace((ParamSpec("priority", "code", function_name="priority", signature="(item, bins)"),))
REPLY = "{Prefer tight bins.}\n```python\ndef priority(item, bins):\n    return -(bins - item) ** 2\n```"


class LM(ScriptedLM):
    def __init__(self, small: bool | None) -> None:
        super().__init__(lambda r: REPLY)
        if small is not None:
            self.compact_prompts = small


def request_of(name: str, small: bool | None, max_tokens: int = 1024):
    lm = LM(small)
    parents = [Parent(f"p{i}", {"priority": CODE.replace("item", f"item + {i}")}, -4.0 - i, {},
                      "excess 4.1 % " + "x" * 2000, {"thought": f"idea {i}"}) for i in range(2)]
    rejected = [Rejection("M1", "unparseable", f"no code block {i}", "def priority(): ...") for i in range(6)]
    out = OPERATORS[name](max_tokens=max_tokens).propose(parents, OperatorContext(SPACE, random.Random(0), lm,
                                                                                   rejected, "pack bins"))
    assert out.__class__.__name__ == "Proposal", out
    return lm.requests[-1]


@pytest.mark.parametrize("name", ["M1", "E1", "funsearch"])
def test_small_model_gets_compact_requests(name):
    full, small = request_of(name, False), request_of(name, True)
    assert full.max_tokens == 1024 and small.max_tokens <= COMPACT_MAX_TOKENS
    assert small.max_tokens >= len(CODE) // 3  # still room for the function
    assert tuple(small.stop) == CODE_STOP and tuple(full.stop) == CODE_STOP
    text_full, text_small = full.messages[-1]["content"], small.messages[-1]["content"]
    assert len(text_small) < len(text_full)  # feedback clipped, fewer rejections
    assert text_full.count("no code block") == 5 and text_small.count("no code block") == 2
    if name == "E1":
        assert "idea 1" in text_full and "idea 1" not in text_small  # one parent for E1


def test_only_local_models_are_compact_by_default():
    ctx = OperatorContext(SPACE, random.Random(0), ScriptedLM([]), (), "")
    assert compact(ctx) is False
    assert compact(OperatorContext(SPACE, random.Random(0), LM(True), (), "")) is True
    try:
        from opto.llm.local import LocalLM
    except ImportError:
        return
    lm = LocalLM.__new__(LocalLM)  # no model is loaded: compact() only looks at the type
    assert compact(OperatorContext(SPACE, random.Random(0), lm, (), "")) is True
