"""Replies real models give (fences, prose, single quotes, wrong types, null fields) never crash a step.

Sent through trace-opt's own model shape (an AbstractModel returning OpenAI-style dicts), the path a
trace-opt program takes; each step either applies a checked value or logs a rejection with a reason.
"""

from __future__ import annotations

import pytest

from opto import trace
from opto.optimizers import OPRO, OptoPrime, OptoPrimeMulti, TextGrad
from opto.utils.llm import AbstractModel

REPLIES = [
    '```json\n{"reasoning": "r", "suggestion": {"float0": 3.5}}\n```',
    'Sure! Here is my answer:\n{"reasoning": "r", "answer": "", "suggestion": {"float0": "3.5"}}\nHope it helps.',
    "{'reasoning': 'r', 'suggestion': {'float0': 3.5}}",
    '{"reasoning": "r", "suggestion": {"float0": 3.5,}}',
    '{"reasoning": "r", "suggestion": {"float0": [1, 2]}}',
    '{"reasoning": "r", "suggestion": {"float0": {"value": 3.5}}}',
    '{"reasoning": "r", "suggestion": null}',
    '{"reasoning": "r", "suggestion": ["float0", 3.5]}',
    '{"reasoning": null, "answer": null, "suggestion": {"x": 1, "float0": "three"}}',
    '{"suggestion": {"float0": NaN}}',
    '<think>let me think</think>{"reasoning": "r", "suggestion": {"float0": 3.5}}',
    '{"reasoning": "r", "suggestion": {"float0": 3.5}',
    "TERMINATE",
    "",
    "null",
    "[]",
    '"just a string"',
    "x" * 20000,
]


def _model(text: str) -> AbstractModel:
    return AbstractModel(lambda: lambda **kw: {"choices": [{"message": {"content": text}}]})


@pytest.mark.parametrize("text", REPLIES, ids=range(len(REPLIES)))
@pytest.mark.parametrize("make", [OptoPrime, OPRO, TextGrad,
                                  lambda p, llm: OptoPrimeMulti(p, llm=llm, num_responses=2)],
                         ids=["OptoPrime", "OPRO", "TextGrad", "OptoPrimeMulti"])
def test_a_step_survives_the_reply(make, text) -> None:
    x = trace.node(1.0, trainable=True)
    optimizer = make([x], llm=_model(text))
    optimizer.zero_feedback()
    optimizer.backward(x * 2, "The output should be 7.")
    applied = optimizer.step()
    entry = optimizer.log[-1]
    assert isinstance(x.data, float)
    if applied:
        assert x.data == 3.5 and entry["applied"] == {"float0": 3.5}
    else:
        assert x.data == 1.0
        assert entry["terminate"] or entry["rejected"], entry  # no change always says why
        assert all(r["reason"] for r in entry["rejected"])
