"""LLM proposals of a generation run concurrently, the time limit holds within one LLM call, and
seeded runs are identical whatever order replies and evaluations complete in."""

from __future__ import annotations

import threading
import time

import pytest

from opto.llm import ScriptedLM
from opto.optimizers.evolution.search import Evolution
from opto.runtime import LocalExecutor
from opto.store import RunStore
from opto.trace import bundle, node


@bundle(trainable=True)
def f(x):
    return 2 * x + 1


START = "def f(x):\n    return 2 * x + 1\n"


class SlowLM(ScriptedLM):
    """Replies f(x) = 3*x + (seed mod 7) after a delay that varies with the request (so replies
    arrive out of order); counts how many calls were in flight at once."""

    def __init__(self, delay: float = 0.2, jitter: bool = True) -> None:
        super().__init__(lambda r: f"{{Use offset {r.seed % 7}.}}\n```python\ndef f(x):\n    return 3 * x + {r.seed % 7}\n```")
        self.delay, self.jitter = delay, jitter
        self.in_flight = self.most_in_flight = 0
        self._count = threading.Lock()

    def _send(self, request):
        with self._count:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(self.delay * ((request.seed % 5) / 4 + 0.25 if self.jitter else 1.0))
            return super()._send(request)
        finally:
            with self._count:
                self.in_flight -= 1


@pytest.fixture(scope="module")
def line_fit():
    with LocalExecutor("evo_objectives:line_fit", workers=2) as ex:
        yield ex


def llm_search(lm, executor, store=None, budget=13, time_limit=None, **config):
    f.parameter._set(START)
    opt = Evolution([f], lm, config={"islands": 2, "batch_size": 4, "seed": 5, "operators": ["M1", "ast_perturb"],
                                     **config}, task="fit a line")
    return opt.search(executor=executor, budget=budget, store=store, time_limit=time_limit)


def sequence(path):
    with RunStore.open(path, readonly=True) as s:
        return [(c.id, c.operator, tuple(c.parent_ids), dict(c.values)) for c in s.candidates()]


def test_llm_proposals_run_concurrently_and_results_keep_plan_order(line_fit, tmp_path):
    lm_a, lm_b = SlowLM(), SlowLM()
    a = llm_search(lm_a, line_fit, tmp_path / "a.db", llm_concurrency=4)
    b = llm_search(lm_b, line_fit, tmp_path / "b.db", llm_concurrency=4)
    assert lm_a.most_in_flight >= 2  # the pool really overlapped calls
    assert (a.candidate.id, a.score) == (b.candidate.id, b.score)
    assert sequence(tmp_path / "a.db") == sequence(tmp_path / "b.db")
    serial = llm_search(SlowLM(), line_fit, tmp_path / "c.db", llm_concurrency=1)
    assert sequence(tmp_path / "c.db") == sequence(tmp_path / "a.db")  # concurrency changes no result
    assert serial.operators["M1"]["proposals"] > 0 and a.operators["M1"]["llm_tokens"] > 0


def test_time_limit_holds_within_one_llm_call(line_fit):
    lm = SlowLM(delay=1.0, jitter=False)
    started = time.monotonic()
    result = llm_search(lm, line_fit, budget=1000, time_limit=1.5, batch_size=16, operators=["M1"], llm_concurrency=2,
                        max_attempts=50)
    took = time.monotonic() - started
    # 16 calls of 1 s each, two at a time, would take 8 s per generation; the limit stops proposing
    f.parameter._set(START)
    assert result.stopped == "time_limit"
    assert took < 1.5 + 1.0 + 2.0, took  # limit + one call in flight + evaluation and start-up
    assert result.evaluations >= 1


def test_an_operator_that_must_stay_on_the_search_thread_is_not_pooled(line_fit):
    from opto.optimizers.evolution.operators import OPERATORS

    seen: set[str] = set()

    class Local:
        name, arity, needs_lm, thread_safe = "local_llm", 1, True, False

        def propose(self, parents, ctx):
            from opto.optimizers.evolution.operators import Proposal

            seen.add(threading.current_thread().name)
            code = f"def f(x):\n    return 3 * x + {ctx.rng.randrange(9)}\n"
            return Proposal({"f": code}, self.name, (parents[0].id,))

    OPERATORS["local_llm"] = Local
    try:
        llm_search(ScriptedLM([]), line_fit, budget=9, operators=["local_llm"])
    finally:
        del OPERATORS["local_llm"]
    assert seen == {threading.current_thread().name}


def test_seeded_runs_without_llm_are_identical_with_two_workers(tmp_path):
    """Two workers finish in varying order; results are consumed in candidate order, so the runs match."""
    scale = node(1.0, trainable=True, name="scale")

    def run(path, seed=3):
        f.parameter._set(START)
        scale._set(1.0)
        opt = Evolution({"f": f.parameter, "scale": scale}, config={
            "islands": 2, "batch_size": 6, "seed": seed, "space": {"scale": {"low": 0.1, "high": 3}}})
        return opt.search("evo_objectives:line_fit_scaled", budget=36, workers=2, store=path)

    a, b = run(tmp_path / "a.db"), run(tmp_path / "b.db")
    assert (a.candidate.id, a.score, dict(a.values)) == (b.candidate.id, b.score, dict(b.values))
    assert sequence(tmp_path / "a.db") == sequence(tmp_path / "b.db")
    with RunStore.open(tmp_path / "a.db", readonly=True) as sa, RunStore.open(tmp_path / "b.db", readonly=True) as sb:
        assert [e.data for e in sa.events("best")] == [e.data for e in sb.events("best")]
    c = run(tmp_path / "c.db", seed=4)
    assert sequence(tmp_path / "c.db") != sequence(tmp_path / "a.db")
    assert c.evaluations == 36


def test_diff_apply_failures_reach_the_operator_event(line_fit, tmp_path):
    miss = "<<<<<<< SEARCH\n    return 7 * x\n=======\n    return 3 * x + 2\n>>>>>>> REPLACE"
    hit = "<<<<<<< SEARCH\n    return 2 * x + 1\n=======\n    return 3 * x + 2\n>>>>>>> REPLACE"
    lm = ScriptedLM(lambda r: miss if r.seed % 2 else hit)
    result = llm_search(lm, line_fit, tmp_path / "d.db", budget=9, operators=["diff"])
    stats = result.operators["diff"]
    assert stats["apply_failures"] > 0 and stats["apply_failures"] < stats["proposals"]
    with RunStore.open(tmp_path / "d.db", readonly=True) as s:
        event = [e.data for e in s.events("operator") if e.data["operator"] == "diff"][-1]
        rejected = [e.data for e in s.events("rejected") if e.data["reason"] == "apply_failed"]
    assert event["apply_failures"] == len(rejected) == stats["apply_failures"]


def test_evolution_is_exported_from_opto_optimizers():
    from opto.optimizers import Evolution as Exported

    assert Exported is Evolution
    import opto.optimizers

    assert "Evolution" in dir(opto.optimizers)
