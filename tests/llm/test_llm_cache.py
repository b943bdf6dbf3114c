from __future__ import annotations

import itertools
import pickle
import sqlite3
from pathlib import Path

import pytest
from pydantic import BaseModel

from opto.llm import LMConfigError, Request, ResponseCache, ScriptedLM
from opto.llm.cache import cache_key, default_cache_path, open_cache


class Out(BaseModel):
    x: int


def counting_lm(cache, model: str = "m") -> ScriptedLM:
    """Each call gets a new text, so a replay is visible as a repeated text."""
    counter = itertools.count()
    return ScriptedLM(lambda req: f"reply {next(counter)}", model=model, cache=cache)


def test_hit_replays_exactly_and_costs_nothing(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    lm = counting_lm(cache)
    first = lm.complete(Request.of("q", seed=1))
    again = lm.complete(Request.of("q", seed=1))
    assert (first.cached, again.cached) == (False, True)
    assert again.text == first.text and again.usage == first.usage
    assert len(lm.requests) == 1 and (cache.hits, cache.misses) == (1, 1)
    s = lm.usage.summary()
    assert (s.calls, s.cached_calls, s.spent_calls) == (2, 1, 1)
    assert s.prompt_tokens == first.usage.prompt_tokens  # the hit added no spent tokens


def test_rerun_of_a_seeded_run_replays_from_a_new_process_view(tmp_path):
    path = tmp_path / "c.sqlite"
    run1 = counting_lm(ResponseCache(path)).complete(Request.of("q", n=3, seed=5, temperature=0.9))
    lm2 = ScriptedLM([], model="m", cache=ResponseCache(path))  # no replies: everything must come from the cache
    run2 = lm2.complete(Request.of("q", n=3, seed=5, temperature=0.9))
    assert run2.texts == run1.texts and run2.cached and lm2.requests == []
    assert len(set(run1.texts)) == 3  # samples are distinct entries


@pytest.mark.parametrize(
    "change",
    [
        {"temperature": 0.5},
        {"max_tokens": 10},
        {"seed": 2},
        {"stop": ("x",)},
        {"schema": Out},
        {"json_mode": True},
        {"sample_index": 1},
    ],
)
def test_every_setting_is_in_the_key(change):
    base = Request.of("q", seed=1)
    assert cache_key("m", base) != cache_key("m", base.replace(**change))
    assert cache_key("m", base) == cache_key("m", Request.of("q", seed=1))
    assert cache_key("m", base) != cache_key("other", base)
    assert cache_key("m", base) != cache_key("m", Request.of("q2", seed=1))


def test_schema_repairs_are_cached_too(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    lm = ScriptedLM(["junk", '{"x": 1}'], cache=cache)
    assert lm.complete(Request.of("q", schema=Out)).parsed == Out(x=1)
    replay = ScriptedLM([], cache=cache).complete(Request.of("q", schema=Out))
    assert replay.parsed == Out(x=1) and replay.cached


def test_failures_are_not_cached(tmp_path):
    from opto.llm import LMFailure

    cache = ResponseCache(tmp_path / "c.sqlite")
    lm = ScriptedLM([LMFailure("server_error", "boom"), "fine"], cache=cache)
    assert not lm.complete(Request.of("q")).ok
    assert lm.complete(Request.of("q")).text == "fine"
    assert len(cache) == 1


def test_wal_mode_and_schema_on_disk(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    ScriptedLM(["a"], cache=cache).complete(Request.of("q"))
    conn = sqlite3.connect(tmp_path / "c.sqlite")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT COUNT(*) FROM replies").fetchone()[0] == 1


def test_default_location_and_switches(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTO_CACHE_DIR", str(tmp_path / "dir"))
    assert default_cache_path() == tmp_path / "dir" / "llm_cache.sqlite"
    monkeypatch.setenv("OPTO_LLM_CACHE", str(tmp_path / "x.sqlite"))
    assert default_cache_path() == tmp_path / "x.sqlite"
    monkeypatch.setenv("OPTO_LLM_CACHE", "off")
    assert default_cache_path() is None and open_cache(True) is None
    env = {"HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    assert default_cache_path(env) == tmp_path / "xdg" / "opto" / "llm_cache.sqlite"
    assert open_cache(False) is None and open_cache(None) is None
    assert open_cache(tmp_path / "y.sqlite").path == tmp_path / "y.sqlite"
    with pytest.raises(LMConfigError, match="cache="):
        open_cache(42)  # type: ignore[arg-type]


def test_on_by_default_in_the_documented_place(tmp_path):
    lm = ScriptedLM(["a"], cache=True)
    lm.complete(Request.of("q"))
    assert Path(lm.cache.path) == tmp_path / "cache" / "llm_cache.sqlite" and Path(lm.cache.path).exists()


def test_unwritable_location_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = ResponseCache(blocker / "sub" / "c.sqlite")
    with pytest.raises(LMConfigError, match="OPTO_LLM_CACHE=off"):
        cache.get("k")


def test_cache_pickles_by_path(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    ScriptedLM(["a"], cache=cache).complete(Request.of("q"))
    clone = pickle.loads(pickle.dumps(cache))
    assert len(clone) == 1


def test_backends_sharing_a_cache_never_answer_for_each_other(tmp_path):
    """Same model name and request, different server options or server: separate entries."""
    from opto.llm import OpenAICompatible
    from opto.llm.testing import StubServer

    cache = ResponseCache(tmp_path / "shared.sqlite")
    with StubServer(reply=lambda body: f"top_k={body.get('top_k')}") as a, StubServer(reply="from b") as b:

        def lm(server, key="sk-one", **kw):
            return OpenAICompatible("m", base_url=server.base_url, api_key=key, cache=cache, **kw)

        k40 = lm(a, extra_body={"top_k": 40}).complete(Request.of("q", seed=1))
        k5 = lm(a, extra_body={"top_k": 5}).complete(Request.of("q", seed=1))
        assert (k40.text, k40.cached) == ("top_k=40", False)
        assert (k5.text, k5.cached) == ("top_k=5", False)
        other_server = lm(b, extra_body={"top_k": 40}).complete(Request.of("q", seed=1))
        assert (other_server.text, other_server.cached) == ("from b", False)
        # the same backend with another API key is the same backend: the key is never in the cache key
        again = lm(a, key="sk-two", extra_body={"top_k": 40}).complete(Request.of("q", seed=1))
        assert (again.text, again.cached) == ("top_k=40", True)
        assert len(a.bodies) == 2 and len(b.bodies) == 1


def test_schema_mode_is_in_the_key_only_for_json_requests(tmp_path):
    from opto.llm import OpenAICompatible

    def key(request, **kw):
        lm = OpenAICompatible("m", base_url="http://127.0.0.1:9/v1", cache=False, **kw)
        return cache_key(lm.model, request, lm._cache_identity(request))

    plain, structured = Request.of("q"), Request.of("q", schema=Out)
    assert key(plain, schema_mode="auto") == key(plain, schema_mode="prompt")
    assert key(structured, schema_mode="auto") != key(structured, schema_mode="prompt")
    assert key(plain, api_key="sk-a") == key(plain, api_key="sk-b")
    assert key(plain) != key(plain, extra_body={"top_k": 1})
