"""train() with minibatch search: it learns, keeps the best, reports the held-out gap, writes the store."""

from __future__ import annotations

import pytest
from trainer_fakes import FakeOptimizer, Shift, nudging_lm, shift_data, shift_guide

from opto import trace
from opto.store import RunStore
from opto.trainer import TrainResult, train


def run(tmp_path, **kw):
    model = Shift(kw.pop("x", 0.0))
    lm = kw.pop("lm", None) or nudging_lm()
    opt = FakeOptimizer(model.parameters(), lm)
    kw.setdefault("epochs", 2)
    kw.setdefault("batch_size", 2)
    result = train(model, kw.pop("train_set", shift_data(6)), kw.pop("guide", shift_guide), optimizer=opt,
                   progress=False, **kw)
    return model, opt, lm, result


def test_minibatch_reaches_the_optimum_and_restores_the_best(tmp_path):
    model, opt, lm, result = run(tmp_path, val_set=shift_data(4, start=10), test_set=shift_data(3, start=20))
    assert isinstance(result, TrainResult)
    assert result.seed_score == -3.0 and result.best_score == 1.0 and result.best_values == {"x": 3.0}
    assert model.x.data == 3.0  # the model is left holding the best
    assert result.test_score == 1.0 and result.gap == 0.0 and result.selection_split == "val"
    assert result.steps == 6 and result.stopped is None
    assert [h["score"] for h in result.history[:4]] == [-3.0, -2.0, -1.0, 1.0]
    assert "gap val - test" in str(result)


def test_feedback_of_a_batch_goes_into_one_backward_with_ids(tmp_path):
    _, opt, lm, _ = run(tmp_path, epochs=1, batch_size=3)
    assert len(lm.requests) == 2  # 6 examples, batches of 3: one proposal per batch
    prompt = lm.requests[0].messages[-1]["content"]
    assert "ID [0]: score" in prompt and "ID [1]: score" in prompt and "ID [2]: score" in prompt
    assert prompt.count("too low") == 3


def test_best_is_kept_when_later_proposals_get_worse(tmp_path):
    replies = iter(['{"0": 3.0}', '{"0": 9.0}', '{"0": 12.0}'])
    from opto.llm import ScriptedLM

    model, _, _, result = run(tmp_path, epochs=1, batch_size=2, lm=ScriptedLM(lambda r: next(replies)),
                              val_set=shift_data(3, start=5))
    assert result.best_values == {"x": 3.0} and model.x.data == 3.0
    assert [h["score"] for h in result.history] == [-3.0, 1.0, -6.0, -9.0]


def test_early_stopping_after_patience_validations(tmp_path):
    from opto.llm import ScriptedLM

    lm = ScriptedLM(lambda r: '{"0": -5.0}')
    _, _, _, result = run(tmp_path, epochs=3, batch_size=1, lm=lm, patience=2)
    assert result.stopped and result.stopped.startswith("early stop") and result.steps == 2
    assert result.best_values == {"x": 0.0}


def test_everything_goes_into_the_run_store(tmp_path):
    path = tmp_path / "run.db"
    _, _, _, result = run(tmp_path, store=path, val_set=shift_data(2, start=10), test_set=shift_data(2, start=20))
    assert result.store_path == str(path)
    with RunStore.open(path, readonly=True) as store:
        config = store.info().config
        assert config["kind"] == "training" and config["algorithm"]["name"] == "minibatch"
        assert config["parameters"] == ["x"]
        steps = [e.data for e in store.events("step")]
        assert len(steps) == 6 and steps[0]["step"] == 1 and "Variables" in steps[0]["prompt"]
        assert steps[0]["applied"] == {"x": 1.0} and steps[0]["score"] == -3.0
        assert len(store.events("checkpoint")) == 8  # start, six steps, final
        assert store.events("checkpoint")[-1].data["done"] is True
        heldout = store.events("heldout")[0].data
        assert heldout["selection_score"] == 1.0 and heldout["heldout_score"] == 1.0
        keys = {e.artifacts["input_key"] for e in store.evaluations()}
        assert {"train:0", "val:0", "val:1", "val", "test:0", "test"} <= keys
        # only the selection rows carry a score, so store.best() is the best by validation
        best_candidate, best_eval = store.best()[0]
        assert best_candidate.values == {"x": 3.0} and best_eval.artifacts["input_key"] == "val"
        assert best_candidate.operator == "fakeoptimizer" and best_candidate.parent_ids
        assert len(store.llm_calls()) == 6
        assert store.check() == []


def test_a_finished_run_is_not_run_again(tmp_path):
    path = tmp_path / "run.db"
    _, _, lm, first = run(tmp_path, store=path)
    model, _, lm2, again = run(tmp_path, store=path)
    assert again.resumed and again.best_values == first.best_values and lm2.requests == []
    assert model.x.data == 3.0


def test_model_errors_become_feedback_not_crashes(tmp_path):
    @trace.bundle()
    def fragile(x, inp):
        if x < 1:
            raise ValueError("x must be at least 1")
        return x + inp

    @trace.model
    class Fragile:
        def __init__(self):
            self.x = trace.node(0.0, trainable=True)

        def forward(self, inp):
            return fragile(self.x, inp)

    from opto.llm import ScriptedLM

    lm = ScriptedLM(lambda r: '{"0": 3.0}')
    model = Fragile()
    opt = FakeOptimizer(model.parameters(), lm)
    result = train(model, shift_data(2), shift_guide, optimizer=opt, batch_size=2, store=tmp_path / "r.db",
                   progress=False)
    assert "x must be at least 1" in lm.requests[0].messages[-1]["content"]
    assert result.seed_score == 0.0 and result.best_score == 1.0
    with RunStore.open(tmp_path / "r.db", readonly=True) as store:
        assert store.counts()["failures"] == {"exception": 4}  # seed failed on 2 val + 2 train runs


def test_bad_arguments_are_one_clear_error(tmp_path):
    model = Shift()
    with pytest.raises(ValueError, match="train_set is empty"):
        train(model, [], shift_guide, optimizer=FakeOptimizer(model.parameters(), nudging_lm()))
    with pytest.raises(ValueError, match="unknown algorithm"):
        train(model, shift_data(2), shift_guide, optimizer=FakeOptimizer(model.parameters()), algorithm="nope")
    other = trace.node(1.0, trainable=True)
    with pytest.raises(ValueError, match="parameters the model does not"):
        train(model, shift_data(2), shift_guide, optimizer=FakeOptimizer([other]))
    with pytest.raises(ValueError, match="no trainable parameters"):
        train(lambda x: x, shift_data(2), shift_guide, parameters=[])


def test_a_store_refuses_a_run_with_other_settings_or_start_values(tmp_path):
    from opto.store import ConfigMismatchError

    path = tmp_path / "run.db"
    run(tmp_path, store=path, epochs=1)
    with pytest.raises(ConfigMismatchError):
        run(tmp_path, store=path, epochs=2)
    with pytest.raises(ConfigMismatchError):
        run(tmp_path, store=path, epochs=1, x=5.0)
