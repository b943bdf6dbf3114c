"""The embedded model, constrained by the per-step reply schema, always writes a usable value."""

from __future__ import annotations

import importlib.util

import pytest

from opto import trace
from opto.optimizers import OPRO, OptoPrime

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                       reason="llama_cpp is not importable: install the [local] extra (scripts/setup.sh --local)"),
]


@trace.bundle()
def loss(x):
    """The squared distance of x from 3: (x - 3) ** 2."""
    return (x - 3) ** 2


@pytest.fixture(scope="module")
def lm():
    from opto.llm import LocalLM

    return LocalLM(n_ctx=2048, cache=False)


@pytest.mark.parametrize("cls", [OptoPrime, OPRO])
def test_constrained_reply_is_parsed_and_applied(lm, cls) -> None:
    x = trace.node(-7.3, trainable=True, name="x")
    opt = cls([x], lm=lm, max_tokens=64, temperature=0.7, seed=1)
    opt.zero_feedback()
    out = loss(x)
    feedback = f"The output is {out.data:.4g}; it should be as small as possible (the minimum is 0)."
    opt.backward(out, feedback, score=-out.data) if cls is OPRO else opt.backward(out, feedback)
    opt.step()
    entry = opt.log[-1]
    # The grammar allows only {"suggestion": {"x0": <number>}, ...}: never a name, type or parse failure.
    # OPRO alone refuses a repeat of the value just tried (the one rejection the model can earn).
    allowed = [] if cls is OptoPrime else ["already tried"]
    assert all(r["param"] == x.py_name and any(a in r["reason"] for a in allowed) for r in entry["rejected"]), entry
    assert list(entry["proposed"]) in ([x.py_name], [])  # [] only when the model repeated -7.3
    assert isinstance(x.data, float)
    assert entry["applied"] == entry["proposed"]
