"""The LLM operators against the real embedded model (SmolLM2-135M): whatever it writes, each call ends
as a Proposal or a ProposalFailure with a reason -- never an exception."""

from __future__ import annotations

import importlib.util
import random

import pytest

from opto.optimizers.evolution.operators import Proposal, ProposalFailure, build_operator
from opto.optimizers.evolution.operators.base import OperatorContext, Parent
from opto.optimizers.evolution.space import SearchSpace

BEST_FIT = "def priority(item, bins):\n    return -(bins - item)\n"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                       reason="llama_cpp is not importable: install the [local] extra (scripts/setup.sh --local)"),
]


def test_real_model_proposals_are_values(tmp_path) -> None:
    from opto.llm.local import LocalLM

    lm = LocalLM(n_ctx=2048, cache=False)
    space = SearchSpace.from_values({"priority": BEST_FIT})
    parent = Parent("p", {"priority": BEST_FIT}, -5.37, feedback="OR3 excess 5.37 %")
    for name in ("M1", "funsearch"):
        op = build_operator(name, max_tokens=120)
        out = op.propose([parent, parent][: op.arity], OperatorContext(space, random.Random(1), lm, (), "bin packing"))
        assert isinstance(out, (Proposal, ProposalFailure))
        assert out.llm_tokens > 0
        if isinstance(out, ProposalFailure):
            assert out.reason in ("unparseable", "llm_failure") and out.detail
        else:
            assert "def priority(" in out.values["priority"]
