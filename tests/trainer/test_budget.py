"""Budgets stop training cleanly; dry runs plan the spend; the progress bar counts the budget's unit."""

from __future__ import annotations

from trainer_fakes import FakeOptimizer, Shift, nudging_lm, shift_data, shift_guide

from opto.llm import Budget, Price, ScriptedLM
from opto.store import RunStore
from opto.trainer import LLMJudge, Plan, TrainBudget, train


def make(lm=None):
    model = Shift()
    return model, FakeOptimizer(model.parameters(), lm or nudging_lm())


def test_llm_call_budget_stops_mid_training_cleanly(tmp_path):
    model, opt = make()
    path = tmp_path / "run.db"
    result = train(model, shift_data(6), shift_guide, optimizer=opt, epochs=3, batch_size=2,
                   val_set=shift_data(2, start=10), test_set=shift_data(2, start=20),
                   budget=TrainBudget(max_llm_calls=2), store=path, progress=False)
    assert result.stopped is not None and result.stopped.startswith("budget")
    assert result.spent.llm_calls == 2 and result.steps == 2  # of 9 planned
    assert result.best_values == {"x": 2.0} and model.x.data == 2.0
    assert result.test_score is not None  # the held-out score is still measured
    with RunStore.open(path, readonly=True) as store:
        assert len(store.llm_calls()) == 2
        assert store.check() == []  # nothing half-written: every candidate done has its evaluations
        last = store.events("checkpoint")[-1].data
        assert last["done"] is False and last["steps_done"] == 2
        assert last["result"]["stopped"].startswith("budget")


def test_call_and_proposal_budgets_end_the_run_between_steps(tmp_path):
    model, opt = make()
    result = train(model, shift_data(6), shift_guide, optimizer=opt, epochs=2, batch_size=1,
                   budget=Budget(max_calls=3), progress=False)
    assert result.stopped.startswith("budget") and result.steps == 3 and result.spent.llm_calls == 3
    model2, opt2 = make(ScriptedLM(lambda r: '{"0": 1.0}'))
    # a proposal budget counted by the trainer
    result2 = train(model2, shift_data(4), shift_guide, optimizer=opt2, epochs=5, budget=2, progress=False)
    assert result2.stopped == "budget: 2 proposals reached" and result2.spent.proposals == 2


def test_evaluation_budget_stops_before_the_cap(tmp_path):
    model, opt = make()
    result = train(model, shift_data(6), shift_guide, optimizer=opt, epochs=2, batch_size=2,
                   val_set=shift_data(2, start=10), budget=TrainBudget(max_evaluations=9), progress=False)
    assert result.stopped.startswith("budget") and result.spent.evaluations <= 9


def test_llm_judge_calls_count_against_the_budget(tmp_path):
    judge_lm = ScriptedLM(lambda r: '{"score": 0.5, "feedback": "meh"}')
    model, opt = make(ScriptedLM(lambda r: '{"0": 1.0}'))
    result = train(model, shift_data(4), LLMJudge(judge_lm), optimizer=opt, epochs=1, batch_size=2,
                   budget=TrainBudget(max_llm_calls=7), progress=False)
    # 4 seed validations + 2 training runs + 1 proposal = 7 calls; the LLM layer refuses the next one in the
    # middle of step 1's validation, and the run ends there cleanly with the seed as the best
    assert result.stopped.startswith("budget") and result.spent.llm_calls == 7 and result.steps == 0
    assert result.best_values == {"x": 0.0} and model.x.data == 0.0


def test_dry_run_plans_and_warns_without_spending(capsys):
    model, opt = make()
    plan = train(model, shift_data(6), shift_guide, optimizer=opt, epochs=2, batch_size=2,
                 val_set=shift_data(3, start=10), test_set=shift_data(2, start=20), dry_run=True)
    assert isinstance(plan, Plan) and opt.lm.requests == []
    assert plan.steps == 6 and plan.proposals == 6 and plan.llm_calls == 6 and plan.limited_by == "epochs"
    assert plan.evaluations == 3 + 6 * (2 + 3) + 2
    assert plan.cost_usd is None and not plan.warnings
    out = capsys.readouterr().out
    assert "proposals:    6" in out and "LLM calls:    6" in out and "up to 1 LLM call(s)" in out
    tiny = train(model, shift_data(6), shift_guide, optimizer=opt, epochs=2, batch_size=2,
                 budget=TrainBudget(max_llm_calls=2), dry_run=True)
    assert tiny.steps == 2 and tiny.limited_by == "llm_calls" and "fewer than 3" in tiny.warnings[0]
    assert "WARNING" in capsys.readouterr().out


def test_dry_run_prices_calls_for_priced_models():
    model = Shift()
    lm = ScriptedLM(lambda r: "{}", price=Price(1.0, 2.0))
    plan = train(model, shift_data(4), shift_guide, optimizer=FakeOptimizer(model.parameters(), lm), epochs=1,
                 batch_size=2, budget=TrainBudget(max_cost_usd=0.01), dry_run=True, tokens_per_call=(1000, 500))
    # $0.002 per call: the cap allows 5 calls, but the epoch has only 2 steps
    assert plan.cost_usd == 2 * 0.002 and plan.limited_by == "epochs"
    capped = train(model, shift_data(40), shift_guide, optimizer=FakeOptimizer(model.parameters(), lm), epochs=1,
                   batch_size=2, budget=TrainBudget(max_cost_usd=0.01), dry_run=True, tokens_per_call=(1000, 500))
    assert capped.steps == 5 and capped.limited_by == "usd"


def test_progress_bar_counts_in_the_budget_unit_and_shows_the_best(capsys):
    model, opt = make()
    train(model, shift_data(4), shift_guide, optimizer=opt, epochs=1, batch_size=1,
          budget=TrainBudget(max_llm_calls=10), progress=True)
    err = capsys.readouterr().err
    assert "/10" in err and "llm_calls" in err and "best=1" in err


def test_a_real_run_warns_too_when_the_budget_allows_fewer_than_three_proposals(caplog):
    model, opt = make()
    with caplog.at_level("WARNING", logger="opto.trainer"):
        train(model, shift_data(4), shift_guide, optimizer=opt, epochs=1, budget=2, progress=False)
    assert any("fewer than 3" in r.getMessage() for r in caplog.records)


def test_no_budget_warning_when_only_the_epochs_are_short():
    model, opt = make()
    plan = train(model, shift_data(2), shift_guide, optimizer=opt, epochs=1, dry_run=True)
    assert plan.proposals == 2 and plan.warnings == ()


def test_plan_counts_repair_turns_of_structured_replies_and_judges():
    from opto.optimizers import OptoPrime

    model = Shift()
    opt = OptoPrime(model.parameters(), lm=ScriptedLM([]))
    plan = train(model, shift_data(4), LLMJudge(ScriptedLM([])), optimizer=opt, epochs=1, batch_size=2,
                 dry_run=True)
    # 2 steps x (1 proposal x 2 calls + (2 train + 4 val) evaluations x 2) + 4 seed validations x 2
    assert plan.llm_calls == 2 * (2 + 6 * 2) + 4 * 2
