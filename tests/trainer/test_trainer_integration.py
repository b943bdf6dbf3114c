"""OptoPrime and the trainer against the real embedded model served by ``opto serve-llm`` (LocalServer).

Checks structure, not quality: SmolLM2-135M writes well-formed but mostly wrong suggestions.
"""

from __future__ import annotations

import importlib.util

import pytest
from trainer_fakes import Shift, shift_data, shift_guide

from opto.store import RunStore

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                       reason="llama_cpp is not importable: install the [local] extra (scripts/setup.sh --local)"),
]


@pytest.fixture(scope="module")
def server():
    from opto.llm.server import LocalServer

    with LocalServer(n_ctx=4096) as srv:
        yield srv


def server_lm(server):
    from opto.llm import OpenAICompatible

    return OpenAICompatible("smollm2", base_url=server.base_url, timeout=120, cache=False)


def test_one_full_optoprime_step(server):
    from opto.optimizers import OptoPrime

    model = Shift(0.0)
    opt = OptoPrime(model.parameters(), lm=server_lm(server), max_tokens=120, temperature=0.0, seed=0)
    out = model(5)
    opt.zero_feedback()
    opt.backward(out, "The output 5 is too low: it should be 8.")
    before = model.x.data
    applied = opt.step()
    entry = opt.log[-1]
    assert "#Variables" in entry["prompt"] and "#Feedback" in entry["prompt"]
    assert entry.get("model_error") is None, entry.get("model_error")
    assert entry["reply"] and entry["usage"]["completion_tokens"] > 0
    # either a checked value was applied, or every suggestion was rejected with a reason
    if applied:
        assert model.x.data != before and isinstance(model.x.data, float)
    else:
        assert model.x.data == before
        assert all(r["reason"] for r in entry["rejected"])


def test_two_epoch_training_run(server, tmp_path):
    from opto.optimizers import OptoPrime
    from opto.trainer import train

    model = Shift(0.0)
    opt = OptoPrime(model.parameters(), lm=server_lm(server), max_tokens=120, temperature=0.0, seed=0)
    path = tmp_path / "run.db"
    result = train(model, shift_data(2), shift_guide, optimizer=opt, epochs=2, batch_size=2,
                   val_set=shift_data(2, start=10), test_set=shift_data(2, start=20), store=path, progress=False)
    assert result.steps == 2 and result.stopped is None
    assert result.best_score >= result.seed_score and model.x.data == result.best_values["x"]
    assert result.test_score is not None
    with RunStore.open(path, readonly=True) as store:
        assert len(store.events("step")) == 2
        assert len(store.llm_calls()) >= 2 and all(c.model for c in store.llm_calls())
        assert store.events("checkpoint")[-1].data["done"] is True
        assert store.check() == []
