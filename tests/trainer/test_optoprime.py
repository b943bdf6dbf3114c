"""The trainer with the real OptoPrime (scripted LM): proposals, rejections and resume go through it."""

from __future__ import annotations

import json

from trainer_fakes import Shift, optoprime_nudge, shift_data, shift_guide

from opto.llm import ScriptedLM
from opto.optimizers import OptoPrime
from opto.store import RunStore
from opto.trainer import train


def fit(lm, **kw):
    model = Shift()
    opt = OptoPrime(model.parameters(), lm=lm, memory_size=2)
    result = train(model, shift_data(6), shift_guide, optimizer=opt, epochs=kw.pop("epochs", 2), batch_size=2,
                   val_set=shift_data(2, start=10), progress=False, **kw)
    return model, opt, result


def test_optoprime_trains_the_numeric_task(tmp_path):
    path = tmp_path / "run.db"
    model, opt, result = fit(ScriptedLM(optoprime_nudge), store=path)
    assert result.best_values == {"x": 3.0} and model.x.data == 3.0
    with RunStore.open(path, readonly=True) as store:
        step = store.events("step")[0].data
        assert "#Variables" in step["prompt"] and "#Feedback" in step["prompt"] and "suggestion" in step["reply"]
        assert step["applied"] == {"x": 1.0}
        first = next(c for c in store.candidates() if c.values == {"x": 1.0})
        assert first.operator == "optoprime" and first.meta["thought"] == "2 low, 0 high"
        assert first.llm_call_id in {c.id for c in store.llm_calls()}


def test_rejected_suggestions_reach_the_step_events(tmp_path):
    replies = iter([json.dumps({"suggestion": {"nope": 1}}), "not json at all", "still not json"]
                   + [json.dumps({"suggestion": {}})] * 20)
    path = tmp_path / "run.db"
    model, opt, result = fit(ScriptedLM(lambda r: next(replies)), store=path, epochs=1)
    assert result.best_values == {"x": 0.0}
    with RunStore.open(path, readonly=True) as store:
        steps = [e.data for e in store.events("step")]
        assert "is not a variable you can change" in steps[0]["rejected"][0]["reason"]
        assert steps[0]["note"] == "the optimizer proposed no change" and steps[0]["candidate_id"] is None
        assert steps[1]["rejected"]  # the unusable reply, with its reason
    # the next prompt tells the model why its proposal was refused
    assert "is not a variable you can change" in opt.log[1]["prompt"]


def test_resumed_optoprime_run_matches_an_uninterrupted_one(tmp_path):
    _, opt_ref, reference = fit(ScriptedLM(optoprime_nudge), store=tmp_path / "ref.db", epochs=3)
    path = tmp_path / "run.db"
    _, _, first = fit(ScriptedLM(optoprime_nudge), store=path, epochs=3, budget=2)
    assert first.stopped == "budget: 2 proposals reached"
    model, opt, resumed = fit(ScriptedLM(optoprime_nudge), store=path, epochs=3)
    assert resumed.resumed and resumed.steps == reference.steps
    assert resumed.best_values == reference.best_values and resumed.history == reference.history
    # the optimizer's memory was restored (names carry this process's node counters, so compare values)
    def rounds(o):
        return [(list(m["variables"].values()), m["feedback"]) for m in o.state_dict()["memory"]]

    assert rounds(opt) == rounds(opt_ref) and len(rounds(opt)) == 2


def test_opro_gets_the_batch_score_and_trains(tmp_path):
    from opto.optimizers import OPRO

    seen = []

    def reply(request):
        text = request.messages[-1]["content"]
        seen.append(text)
        return json.dumps({"reasoning": "try 3", "suggestion": {"float0": 3.0, "x": 3.0}})

    model = Shift()
    opt = OPRO(model.parameters(), lm=ScriptedLM(reply))
    result = train(model, shift_data(4), shift_guide, optimizer=opt, epochs=1, batch_size=2, progress=False)
    assert opt.history and opt.history[0]["score"] == -3.0  # the batch's mean score reached OPRO
    assert result.best_values == {"x": 3.0} and result.best_score == 1.0


def test_beam_search_branches_with_optoprime():
    from opto.trainer import BeamSearch

    lm = ScriptedLM(optoprime_nudge)
    model = Shift()
    opt = OptoPrime(model.parameters(), lm=lm)
    result = train(model, shift_data(4), shift_guide, optimizer=opt, algorithm=BeamSearch(width=2, branch=2),
                   epochs=1, batch_size=2, progress=False)
    assert len(lm.requests) >= 3  # two proposals from the seed's one forward pass, then the beam's
    assert "#Feedback" in lm.requests[1].messages[-1]["content"]  # the retained graph was backwarded again
    assert result.best_score > result.seed_score
