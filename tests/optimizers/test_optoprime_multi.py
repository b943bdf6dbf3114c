"""OptoPrimeMulti: N concurrent proposals, temperature spread or samples, selectors incl. BestOf."""

from __future__ import annotations

import json
import threading
import time

from opto import trace
from opto.llm import Request, ScriptedLM
from opto.optimizers import OptoPrimeMulti
from opto.optimizers.optoprime_multi import BestOf, temporarily

from .conftest import FakeLM


def _reply(value) -> str:
    return json.dumps({"reasoning": f"try {value}", "suggestion": {"x0": value}})


def _backward(opt, x) -> None:
    opt.zero_feedback()
    opt.backward((x - 3.0) * (x - 3.0), "minimize the output")


def test_temperature_spread_concurrent_and_default_selector() -> None:
    x = trace.node(0.0, trainable=True, name="x")
    active, peak = [0], [0]
    lock = threading.Lock()

    def reply(request: Request) -> str:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return _reply(round(request.temperature, 2)), "stop"

    lm = FakeLM(reply)  # ScriptedLM answers one request at a time; this one overlaps
    opt = OptoPrimeMulti([x], lm=lm, num_responses=4, temperature_range=[1.2, 0.0])
    _backward(opt, x)
    applied = opt.step()
    temps = sorted(r.temperature for r in lm.requests)
    assert temps == [0.0, 0.4, 0.8, 1.2]
    assert peak[0] > 1  # requests overlap in time
    assert applied == {x: 0.4} and x.data == 0.4  # the coolest proposes 0.0 = no change; next coolest wins
    entry = opt.log[-1]
    assert len(entry["candidates"]) == 4 and {c["temperature"] for c in entry["candidates"]} == set(temps)


def test_best_of_objective_picks_the_best_and_restores_parameters() -> None:
    x = trace.node(0.0, trainable=True, name="x")
    values = iter([10.0, 2.5, -4.0, 3.2])
    lm = ScriptedLM(lambda request: _reply(next(values)))
    selector = BestOf(lambda: -(x.data - 3.0) ** 2)
    opt = OptoPrimeMulti([x], lm=lm, num_responses=4, selector=selector, concurrency=1)
    _backward(opt, x)
    applied = opt.step()
    assert applied == {x: 3.2} and x.data == 3.2
    entry = json.loads(json.dumps(opt.log[-1]))
    assert [round(c["score"], 2) for c in entry["candidates"]] == [-49.0, -0.25, -49.0, -0.04]
    assert entry["selected"] == 3 and entry["applied"] == {"x0": 3.2} and entry["current_score"] == -9.0


def test_best_of_keeps_current_when_nothing_is_better() -> None:
    x = trace.node(3.0, trainable=True, name="x")
    lm = ScriptedLM(lambda request: _reply(5.0))
    opt = OptoPrimeMulti([x], lm=lm, num_responses=2, selector=BestOf(lambda c: -(x.data - 3.0) ** 2))
    _backward(opt, x)
    assert opt.step() == {} and x.data == 3.0


def test_samples_mode_uses_distinct_seeds_and_rejects_bad_candidates() -> None:
    x = trace.node(0.0, trainable=True, name="x")
    replies = {0: _reply("oops"), 1: _reply(1.5), 2: "TERMINATE"}
    lm = ScriptedLM(lambda request: replies[request.sample_index], repair=False)
    opt = OptoPrimeMulti([x], lm=lm, num_responses=3, sampling="samples", temperature=0.7, seed=11)
    _backward(opt, x)
    assert opt.step() == {x: 1.5}
    assert sorted(r.seed for r in lm.requests) == [11, 12, 13]
    entry = opt.log[-1]
    assert "cannot be converted to float" in entry["candidates"][0]["rejected"][0]["reason"]
    assert entry["candidates"][2]["terminate"] is True


def test_custom_selector_function_and_temporarily() -> None:
    x = trace.node(0.0, trainable=True, name="x")
    values = iter([1.0, 2.0, 3.0])
    opt = OptoPrimeMulti([x], lm=ScriptedLM(lambda r: _reply(next(values))), num_responses=3, concurrency=1,
                         selector=lambda cands: cands[0])
    _backward(opt, x)
    assert opt.step() == {x: 1.0}
    with temporarily({x: 9.0}):
        assert x.data == 9.0
    assert x.data == 1.0
