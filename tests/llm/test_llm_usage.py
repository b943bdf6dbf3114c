from __future__ import annotations

import threading
import time

import pytest

from opto.llm import (
    Budget,
    BudgetExceeded,
    LMConfigError,
    LMFailure,
    Price,
    Request,
    ResponseCache,
    ScriptedLM,
    UsageTracker,
    complete_many,
    track_usage,
)


def echo() -> ScriptedLM:
    return ScriptedLM(lambda req: "one two three", model="m")


def test_per_call_usage_and_totals():
    lm = ScriptedLM(["a b", LMFailure("timeout", "slow")], price=Price(1.0, 2.0))
    r = lm.complete(Request.of("x y z"))
    assert (r.usage.prompt_tokens, r.usage.completion_tokens) == (3, 2)
    assert r.usage.cost_usd == pytest.approx((3 * 1.0 + 2 * 2.0) / 1e6)
    assert r.latency_s >= 0
    lm.complete(Request.of("q"))
    s = lm.usage.summary()
    assert (s.calls, s.failed_calls, s.total_tokens) == (2, 1, 5)
    assert s.cost_complete and "2 calls (0 cached, 1 failed)" in lm.usage.report()


def test_known_prices_and_unknown_cost():
    from opto.llm.usage import price_for

    assert price_for("gpt-4o-mini") == Price(0.15, 0.60)
    assert price_for("my-local-model") is None
    lm = echo()
    assert lm.complete(Request.of("x")).usage.cost_usd is None
    assert "cost unknown" in lm.usage.report()


def test_track_usage_collects_all_lms_and_prints(capsys):
    a, b = echo(), ScriptedLM(lambda r: "z", model="other")
    with track_usage(name="exp") as run:
        a.complete(Request.of("x"))
        b.complete(Request.of("x"))
    a.complete(Request.of("outside"))
    assert run.summary().calls == 2 and set(run.by_model()) == {"m", "other"}
    err = capsys.readouterr().err
    assert "opto LM usage [exp]: 2 calls" in err and "  other:" in err


def test_call_budget_stops_the_run_cleanly(capsys):
    lm = echo()
    steps = 0
    with track_usage(budget=Budget(max_calls=3)) as run:
        for _ in range(10):
            lm.complete(Request.of(f"step {steps}"))
            steps += 1
    assert steps == 3 and run.summary().calls == 3
    assert isinstance(run.stopped_by, BudgetExceeded) and "3 calls" in str(run.stopped_by)
    err = capsys.readouterr().err
    assert "stopped" in err and "raise the cap" in err


def test_cached_calls_are_free_under_a_budget(tmp_path):
    lm = ScriptedLM(lambda r: "a", cache=ResponseCache(tmp_path / "c.sqlite"))
    lm.complete(Request.of("q"))
    with track_usage(budget=Budget(max_calls=1), report=False) as run:
        for _ in range(5):
            assert lm.complete(Request.of("q")).cached
        lm.complete(Request.of("new"))
        with pytest.raises(BudgetExceeded):
            lm.complete(Request.of("newer"))
    assert run.summary().spent_calls == 1 and run.summary().cached_calls == 5


def test_token_and_cost_budgets():
    lm = echo()
    with track_usage(budget=Budget(max_tokens=5), report=False) as run:
        for _ in range(10):
            lm.complete(Request.of("a b"))  # 2 + 3 tokens a call
    assert run.summary().calls == 1 and "tokens" in str(run.stopped_by)

    priced = ScriptedLM(lambda r: "one two three", price=Price(1e6, 1e6))  # $1 per token
    with track_usage(budget=Budget(max_cost_usd=8.0), report=False) as run:
        for _ in range(10):
            priced.complete(Request.of("a"))
    assert run.summary().calls == 2 and "$8" in str(run.stopped_by)


def test_cost_budget_without_price_is_a_config_error():
    with pytest.raises(LMConfigError, match="price=Price"):
        with track_usage(budget=Budget(max_cost_usd=1.0), report=False):
            echo().complete(Request.of("a"))


def test_lm_level_budget_raises_to_the_caller():
    lm = ScriptedLM(lambda r: "x", budget=Budget(max_calls=1))
    lm.complete(Request.of("a"))
    with pytest.raises(BudgetExceeded, match="budget of 'scripted'"):
        lm.complete(Request.of("b"))


def test_nested_budget_error_propagates_through_outer_run():
    lm = echo()
    with track_usage(report=False) as outer:
        with pytest.raises(BudgetExceeded):
            with track_usage(budget=Budget(max_calls=1), report=False, stop_on_budget=False):
                lm.complete(Request.of("a"))
                lm.complete(Request.of("b"))
    assert outer.stopped_by is None and outer.summary().calls == 1


def test_call_cap_is_strict_under_concurrency():
    def slow(req: Request) -> str:
        time.sleep(0.02)
        return "x"

    lm = ScriptedLM(slow)
    with track_usage(budget=Budget(max_calls=5), report=False) as run:
        complete_many(lm, [Request.of(str(i)) for i in range(20)], concurrency=8)
    assert len(lm.requests) == 5 and run.summary().calls == 5


def test_listeners_see_every_record():
    seen = []
    tracker = UsageTracker(name="store")
    tracker.subscribe(seen.append)
    lm = ScriptedLM(["a", "b"], usage=tracker)
    lm.complete(Request.of("1"))
    lm.complete(Request.of("2"))
    assert [r.completion_tokens for r in seen] == [1, 1] and lm.usage is tracker


def test_tracker_is_thread_safe():
    tracker = UsageTracker()
    lm = ScriptedLM(lambda r: "x", usage=tracker)
    threads = [threading.Thread(target=lambda: [lm.complete(Request.of("a")) for _ in range(50)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert tracker.summary().calls == 200 == len(tracker.records)
