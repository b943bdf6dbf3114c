"""Writing and reading a run: candidates, evaluations, LLM calls, events, queries."""

from __future__ import annotations

import dataclasses
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from store_helpers import make_candidates, ok_result

from opto import __version__
from opto.runtime import Candidate, EvalResult
from opto.store import RunStore, StoreError


def test_new_run_records_config_code_version_and_seed(store):
    info = store.info()
    assert info.config == {"model": "m", "search": {"islands": 4}} and info.seed == 1
    assert info.code_version["opto"] == __version__ and "git_rev" in info.code_version
    assert info.forked_from is None and info.schema_version == 1 and len(info.run_id) == 16


def test_candidates_round_trip_with_lineage(store):
    c = Candidate({"prompt": "be brief", "k": 3, "w": [0.5, 1.5]}, id="child", parent_ids=("p1", "p2"),
                  operator="crossover", llm_call_id="call-1", generation=2, island=3, meta={"note": "x"})
    store.add_candidate(c)
    assert store.candidate("child") == c
    assert store.candidates() == [c] and store.candidates("pending") == [c] and store.candidates("done") == []
    with pytest.raises(KeyError, match="nope"):
        store.candidate("nope")


def test_duplicate_candidates_are_an_error_unless_skipped(store):
    store.add_candidates(make_candidates(3))
    with pytest.raises(ValueError, match="skip_existing=True"):
        store.add_candidates(make_candidates(1))
    assert store.add_candidates(make_candidates(5), skip_existing=True) == 2
    assert store.counts()["candidates"] == 5


def test_values_must_be_json_data(store):
    with pytest.raises(TypeError, match="values of candidate bad"):
        store.add_candidate(Candidate({"f": object()}, id="bad"))
    store.add_candidate(Candidate({"a": __import__("numpy").float64(1.5)}, id="np"))  # numpy scalars convert
    assert store.candidate("np").values == {"a": 1.5}


def test_nan_and_infinity_are_refused_naming_the_entry_and_nothing_is_written(store):
    import numpy as np

    store.add_candidates(make_candidates(1))
    nan_artifact = dataclasses.replace(ok_result("c0", 1.0), artifacts={"loss": float("nan")})
    with pytest.raises(TypeError, match=r"artifacts must be JSON data, which has no NaN or infinity: artifacts\['loss'\] is nan"):
        store.record_evaluation(nan_artifact)
    deep = dataclasses.replace(ok_result("c0", 1.0), artifacts={"runs": [{"curve": np.array([0.5, np.inf])}]})
    with pytest.raises(TypeError, match=r"artifacts\['runs'\]\[0\]\['curve'\]\[1\] is inf"):
        store.record_evaluation(deep)
    with pytest.raises(TypeError, match=r"scores\['score'\] is -inf"):
        store.record_evaluation(ok_result("c0", float("-inf")))
    assert store.evaluations() == [] and store.counts()["pending"] == 1


def test_each_evaluation_is_visible_to_readers_as_soon_as_it_is_recorded(store):
    store.add_candidates(make_candidates(2))
    with RunStore.open(store.path, readonly=True) as reader:
        assert reader.evaluations() == []
        store.record_evaluation(ok_result("c0", 1.0))
        assert [e.candidate_id for e in reader.evaluations()] == ["c0"]
        assert reader.counts()["done"] == 1
        with pytest.raises(StoreError, match="read-only"):
            reader.add_event("x")


def test_failed_evaluations_keep_reason_message_and_output(store):
    store.add_candidates(make_candidates(1))
    failed = EvalResult.failed("c0", "timeout", "exceeded 2 s", duration_s=2.01, stdout_tail="o" * 9000,
                               stderr_tail="Traceback ...")
    store.record_evaluation(failed, input_key="batch-3")
    (back,) = store.evaluations("c0")
    assert not back.ok and back.score is None and back.failure.reason == "timeout"
    assert back.failure.message == "exceeded 2 s" and back.stderr_tail == "Traceback ..."
    assert len(back.stdout_tail) == 4000 and "[stderr]\nTraceback" in back.failure.output_tail
    assert store.counts()["failures"] == {"timeout": 1}


def test_recording_an_unknown_candidate_says_to_add_it(store):
    with pytest.raises(ValueError, match="add_candidates"):
        store.record_evaluation(ok_result("ghost", 1.0))


def test_best_by_primary_score_or_named_metric(store):
    store.add_candidates(make_candidates(4))
    store.record_evaluation(ok_result("c0", 1.0, acc=0.9))
    store.record_evaluation(ok_result("c1", 3.0, acc=0.1))
    store.record_evaluation(ok_result("c1", 2.0, acc=0.2))
    store.record_evaluation(ok_result("c2", 2.0, acc=0.5))
    store.record_evaluation(EvalResult.failed("c3", "exception", "boom"))
    assert [(c.id, r.score) for c, r in store.best(3)] == [("c1", 3.0), ("c2", 2.0), ("c0", 1.0)]
    assert [c.id for c, _ in store.best(2, metric="acc")] == ["c0", "c2"]
    assert store.best(5, metric="missing") == []
    assert set(store.latest_evaluations(["c1", "c3", "zz"])) == {"c1", "c3"}
    assert store.latest_evaluations(["c1"])["c1"].score == 2.0


def test_in_flight_candidates_are_requeued_on_reopen(tmp_path):
    path = tmp_path / "run.db"
    with RunStore.open(path) as s:
        s.add_candidates(make_candidates(4))
        s.mark_in_flight(["c0", "c1", "c2"])
        s.record_evaluation(ok_result("c0", 1.0))
        assert [c.id for c in s.pending()] == ["c1", "c2", "c3"]
        assert s.counts()["in_flight"] == 2
    with RunStore.open(path) as s:
        assert s.counts() | {"events": 0} == {"candidates": 4, "pending": 3, "in_flight": 0, "done": 1,
                                              "evaluations": 1, "failed": 0, "failures": {}, "llm_calls": 0,
                                              "events": 0}
        assert [e.data for e in s.events("resume")] == [{"requeued": 2}]
        assert s.check() == []


def test_llm_calls_never_store_api_keys(store):
    request = {"model": "gpt", "api_key": "sk-live-abcdefghijklmnopqrstuvwx", "max_tokens": 50,
               "headers": {"Authorization": "Bearer abcdefghijklmnop", "X-Api-Key": "k"},
               "messages": [{"role": "user", "content": "use key sk-abcdefghijklmnopqrstuvwx please"}]}
    first = store.record_llm_call(request, "the reply", {"prompt_tokens": 12, "completion_tokens": 5},
                                  model="gpt", latency_s=0.5)
    second = store.record_llm_call(dict(request, api_key="sk-other-abcdefghijklmnopqrstu"), "again", cached=True)
    a, b = store.llm_calls()
    assert a.id == first and b.id == second and b.cached
    assert a.request_digest == b.request_digest, "the digest must not depend on the key"
    assert a.prompt_tokens == 12 and a.completion_tokens == 5 and a.usage["prompt_tokens"] == 12
    assert a.request["max_tokens"] == 50
    raw = b"".join(store.path.read_bytes() for _ in [0]) + b"".join(
        p.read_bytes() for p in store.path.parent.glob("run.db-wal"))
    for secret in (b"sk-live", b"sk-abcdef", b"Bearer abc", b"sk-other"):
        assert secret not in raw


def test_events(store):
    store.add_event("generation", {"gen": 1, "best": 0.5})
    store.add_event("note")
    assert [(e.kind, e.data) for e in store.events()] == [("generation", {"gen": 1, "best": 0.5}), ("note", {})]
    assert len(store.events("note")) == 1


def test_concurrent_writers_in_threads(store):
    store.add_candidates(make_candidates(200))

    def work(lo: int) -> None:
        for i in range(lo, lo + 50):
            store.record_evaluation(ok_result(f"c{i}", float(i)))
            store.add_event("tick")

    threads = [threading.Thread(target=work, args=(lo,)) for lo in range(0, 200, 50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.counts()["evaluations"] == 200 and store.counts()["done"] == 200 and store.check() == []


def test_check_reports_inconsistent_status(store):
    store.add_candidates(make_candidates(1))
    with store._tx() as c:
        c.execute("UPDATE candidates SET status = 'done'")
    assert store.check() == ["candidate c0 is done but has no evaluation"]


def test_copy_to_snapshots_a_live_run(store, tmp_path):
    store.add_candidates(make_candidates(2))
    store.record_evaluation(ok_result("c1", 1.0))
    copy = store.copy_to(tmp_path / "snap.db")
    with RunStore.open(copy, readonly=True) as snap:
        assert snap.counts()["evaluations"] == 1


json_values = st.recursive(st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text(max_size=20)
                           | st.floats(allow_nan=False, allow_infinity=False),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                           max_leaves=10)


@settings(max_examples=40, deadline=None)
@given(values=st.dictionaries(st.text(min_size=1, max_size=10), json_values, max_size=5))
def test_json_values_round_trip(tmp_path_factory, values):
    path = tmp_path_factory.mktemp("rt") / "run.db"
    with RunStore.open(path) as s:
        c = Candidate(values, id="c")
        s.add_candidate(c)
        assert dataclasses.asdict(s.candidate("c")) == dataclasses.asdict(c)
