"""OpenAICompatible against a real local HTTP server of our own, with injected faults."""

from __future__ import annotations

import asyncio
import logging
import pickle
import time

import pytest
from pydantic import BaseModel

from opto.llm import (
    LMConfigError,
    OpenAICompatible,
    Request,
    ResponseCache,
    acomplete_many,
    complete_many,
    track_usage,
)
from opto.llm.openai_compatible import NO_KEY, openai_key_allowed, pick_api_key
from opto.llm.resolve import lm_from_env
from opto.llm.testing import Fault, StubServer

SECRET = "sk-test-SECRET-5f2c9e1d7a"


class Pick(BaseModel):
    choice: str


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    """Shrink the retry waits (openai's and ours) so fault tests take milliseconds, not seconds.

    Retry-After from the server is still honoured as sent.
    """
    import openai._base_client

    import opto.llm.openai_compatible as oc

    monkeypatch.setattr(openai._base_client, "INITIAL_RETRY_DELAY", 0.01)
    monkeypatch.setattr(oc, "_backoff", lambda attempt: 0.01)


def client(stub: StubServer, **kw) -> OpenAICompatible:
    kw.setdefault("cache", False)
    kw.setdefault("max_retries", 2)
    kw.setdefault("timeout", 5.0)
    return OpenAICompatible("stub-model", base_url=stub.base_url, api_key=SECRET, **kw)


def test_plain_call_reports_text_usage_model(stub):
    resp = client(stub).complete(Request.of("hi", temperature=0.0, max_tokens=7, seed=3, stop=("\n",)))
    assert resp.ok and resp.text == "hello" and resp.finish_reason == "stop"
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens) == (5, 3) and resp.model == "stub-model"
    body = stub.bodies[-1]
    assert (body["temperature"], body["max_tokens"], body["seed"], body["stop"]) == (0.0, 7, 3, ["\n"])
    assert "n" not in body and "response_format" not in body


def test_500_then_200_is_retried(stub):
    stub.queue(Fault.http(500), Fault.http(503))
    resp = client(stub).complete(Request.of("hi"))
    assert resp.ok and resp.text == "hello" and len(stub.bodies) == 3


def test_429_honours_retry_after(stub):
    stub.queue(Fault.http(429, retry_after=1))
    t0 = time.perf_counter()
    resp = client(stub).complete(Request.of("hi"))
    assert resp.ok and time.perf_counter() - t0 >= 0.95


def test_persistent_429_is_a_typed_failure(stub):
    stub.queue(*[Fault.http(429, retry_after=0.01)] * 3)
    resp = client(stub, max_retries=2).complete(Request.of("hi"))
    assert resp.failure.kind == "rate_limited" and resp.failure.status == 429


def test_hang_past_timeout_then_recovers(stub):
    stub.queue(Fault.hang(10))
    t0 = time.perf_counter()
    resp = client(stub, timeout=0.4, max_retries=1).complete(Request.of("hi"))
    assert resp.ok and time.perf_counter() - t0 < 5


def test_hang_every_time_is_a_timeout_failure(stub):
    stub.queue(*[Fault.hang(10)] * 2)
    resp = client(stub, timeout=0.3, max_retries=1).complete(Request.of("hi"))
    assert resp.failure.kind == "timeout" and "0.3 s" in resp.failure.message


@pytest.mark.parametrize("fault", [Fault.truncated(), Fault.non_json(), Fault.bad_json(), Fault.no_choices()])
def test_broken_bodies_are_retried(stub, fault):
    stub.queue(fault)
    resp = client(stub).complete(Request.of("hi"))
    assert resp.ok and resp.text == "hello"


@pytest.mark.parametrize("fault", [Fault.non_json(), Fault.bad_json(), Fault.no_choices()])
def test_always_broken_bodies_are_typed_failures(stub, fault):
    stub.queue(*[fault] * 3)
    resp = client(stub, max_retries=2).complete(Request.of("hi"))
    assert resp.failure.kind == "malformed_reply"


def test_always_truncated_is_a_connection_failure(stub):
    stub.queue(*[Fault.truncated()] * 3)
    assert client(stub, max_retries=2).complete(Request.of("hi")).failure.kind == "connection"


def test_unreachable_server_is_a_connection_failure():
    with StubServer() as s:
        url = s.base_url
    lm = OpenAICompatible("m", base_url=url, cache=False, max_retries=0, timeout=2)
    assert lm.complete(Request.of("hi")).failure.kind == "connection"


def test_auth_and_not_found_raise_config_errors_naming_the_fix(stub):
    stub.queue(Fault.http(401))
    with pytest.raises(LMConfigError, match="OPENAI_API_KEY"):
        client(stub).complete(Request.of("hi"))
    stub.queue(Fault.http(404))
    with pytest.raises(LMConfigError, match="model name"):
        client(stub).complete(Request.of("hi"))


def test_400_without_schema_is_a_bad_request_failure(stub):
    stub.queue(Fault.http(400))
    assert client(stub).complete(Request.of("hi")).failure.kind == "bad_request"


def test_schema_uses_json_schema_on_openai_style_servers():
    with StubServer(reply='{"choice": "b"}') as s:
        resp = client(s).complete(Request.of("pick", schema=Pick))
        assert resp.parsed == Pick(choice="b")
        assert s.bodies[0]["response_format"]["type"] == "json_schema"


@pytest.mark.parametrize("status", [422, 500])
def test_schema_falls_back_to_llama_cpp_form_and_remembers(status):
    with StubServer(reply='```json\n{"choice": "a"}\n```', reject_json_schema=status) as s:
        lm = client(s)
        assert lm.complete(Request.of("pick", schema=Pick)).parsed == Pick(choice="a")
        assert lm.complete(Request.of("again", schema=Pick)).ok
        kinds = [b["response_format"]["type"] for b in s.bodies]
        assert kinds == ["json_schema", "json_object", "json_object"]
        assert s.bodies[1]["response_format"]["schema"]["title"] == "Pick"


def test_flaky_server_during_schema_probe_is_not_mistaken_for_a_rejection(stub):
    stub.queue(Fault.http(503), Fault.http(503))
    stub.reply = '{"choice": "d"}'
    lm = client(stub)
    assert lm.complete(Request.of("pick", schema=Pick)).parsed == Pick(choice="d")
    assert [b["response_format"]["type"] for b in stub.bodies] == ["json_schema"] * 3
    assert lm._dialect() == "json_schema"


def test_async_schema_fallback():
    with StubServer(reply='{"choice": "a"}', reject_json_schema=500) as s:
        assert asyncio.run(client(s).acomplete(Request.of("pick", schema=Pick))).parsed == Pick(choice="a")
        assert [b["response_format"]["type"] for b in s.bodies] == ["json_schema", "json_object"]


def test_schema_falls_back_to_prompt_only(stub):
    stub.queue(Fault.http(400), Fault.http(400))
    lm = client(stub, schema_mode="auto")
    stub.reply = '{"choice": "c"}'
    assert lm.complete(Request.of("pick", schema=Pick)).parsed == Pick(choice="c")
    assert "response_format" not in stub.bodies[-1]


def test_async_path_and_concurrency():
    # Concurrency is measured where it happens, at the server (a wall-clock bound flakes on a loaded
    # machine): each request is held 300 ms, so all 8 overlap only when they are sent together.
    with StubServer(reply="x", latency_s=0.3) as s:
        lm = client(s)

        async def run() -> None:
            await lm.acomplete(Request.of("warm up"))  # the first async call sets the client up (~1 s)
            out = await acomplete_many(lm, [Request.of(str(i)) for i in range(8)], concurrency=8)
            assert all(r.ok for r in out) and [r.text for r in out] == ["x"] * 8

        asyncio.run(run())
        assert s.max_in_flight == 8  # in series it would be 1
        # a second event loop gets its own async client
        assert asyncio.run(lm.acomplete(Request.of("again"))).ok


def test_batch_concurrency_bounds_samples_not_requests():
    """concurrency=2 with four requests of n=4: two model calls at a time, never 2 x 4."""
    with StubServer(reply=lambda body: body["messages"][-1]["content"], latency_s=0.1) as s:
        lm = client(s)
        reqs = [Request.of(f"q{i}", n=4, seed=10 * i) for i in range(4)]
        out = asyncio.run(acomplete_many(lm, reqs, concurrency=2))
        assert s.max_in_flight == 2 and len(s.bodies) == 16
        assert [r.texts for r in out] == [[f"q{i}"] * 4 for i in range(4)]
        assert sorted(b["seed"] for b in s.bodies if b["messages"][-1]["content"] == "q1") == [10, 11, 12, 13]

        s.max_in_flight = 0
        out = complete_many(lm, [r.replace(seed=100 + r.seed) for r in reqs], concurrency=2)
        assert s.max_in_flight == 2 and [len(r.choices) for r in out] == [4] * 4


def key_sent(stub: StubServer) -> str | None:
    header = stub.auth_headers[-1]
    return header.removeprefix("Bearer ") if header else header


@pytest.mark.parametrize("how", ["argument", "OPTO_LLM_BASE_URL", "TRACE_CUSTOMLLM_URL"])
def test_openai_key_is_never_sent_to_a_custom_server(monkeypatch, how):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with StubServer(reply="ok", record_auth=True) as s:
        if how == "argument":
            lm = OpenAICompatible("m", base_url=s.base_url, cache=False)
        elif how == "OPTO_LLM_BASE_URL":
            monkeypatch.setenv("OPTO_LLM_MODEL", "m")
            monkeypatch.setenv("OPTO_LLM_BASE_URL", s.base_url)
            lm = lm_from_env()
        else:
            monkeypatch.setenv("TRACE_CUSTOMLLM_MODEL", "m")
            monkeypatch.setenv("TRACE_CUSTOMLLM_URL", s.base_url)
            lm = lm_from_env()
        assert lm.complete(Request.of("hi")).ok
        assert asyncio.run(lm.acomplete(Request.of("again"))).ok
        assert [h and h.removeprefix("Bearer ") for h in s.auth_headers] == [NO_KEY, NO_KEY]
        assert not any(SECRET in (h or "") for h in s.auth_headers)
        s.queue(Fault.http(401))  # and the error names the variable that would be sent
        with pytest.raises(LMConfigError, match="OPTO_LLM_API_KEY .OPENAI_API_KEY is only sent to api.openai.com"):
            lm.complete(Request.of("rejected"))


def test_the_key_configured_for_a_custom_server_is_sent(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-should-stay-home-000")
    with StubServer(reply="ok", record_auth=True) as s:
        monkeypatch.setenv("TRACE_CUSTOMLLM_MODEL", "m")
        monkeypatch.setenv("TRACE_CUSTOMLLM_URL", s.base_url)
        monkeypatch.setenv("TRACE_CUSTOMLLM_API_KEY", "sk-proxy")
        monkeypatch.setenv("OPTO_LLM_API_KEY", "sk-opto-not-for-trace")  # trace-opt's server: its own key only
        lm_from_env().complete(Request.of("a"))
        assert key_sent(s) == "sk-proxy"
        pickle.loads(pickle.dumps(lm_from_env())).complete(Request.of("b"))
        assert key_sent(s) == "sk-proxy"  # an unpickled copy re-reads the same variable

        OpenAICompatible("m", base_url=s.base_url, cache=False).complete(Request.of("c"))
        assert key_sent(s) == "sk-opto-not-for-trace"
        OpenAICompatible("m", base_url=s.base_url, api_key="sk-arg", cache=False).complete(Request.of("d"))
        assert key_sent(s) == "sk-arg"

        monkeypatch.delenv("OPTO_LLM_API_KEY")
        monkeypatch.setenv("OPENAI_BASE_URL", s.base_url)  # OpenAI's own pair of variables, used together
        OpenAICompatible("m", cache=False).complete(Request.of("e"))
        assert key_sent(s) == "sk-openai-should-stay-home-000"


@pytest.mark.parametrize(
    "url, allowed",
    [
        (None, True),
        ("https://api.openai.com/v1", True),
        ("https://api.openai.com.attacker.example/v1", False),
        ("https://attacker.example/api.openai.com/v1", False),
        ("http://127.0.0.1:8000/v1", False),
    ],
)
def test_only_openai_itself_gets_the_openai_key(url, allowed):
    assert openai_key_allowed(url, {}) is allowed
    assert pick_api_key(url, None, None, {"OPENAI_API_KEY": "sk-o"}) == (("sk-o", "OPENAI_API_KEY") if allowed else (NO_KEY, None))


def test_async_faults_are_handled(stub):
    stub.queue(Fault.http(500), Fault.non_json())
    assert asyncio.run(client(stub).acomplete(Request.of("hi"))).ok


def test_settings_from_environment(stub, monkeypatch):
    monkeypatch.setenv("OPTO_LLM_MODEL", "env-model")
    monkeypatch.setenv("OPTO_LLM_BASE_URL", stub.base_url)
    monkeypatch.setenv("OPTO_LLM_TIMEOUT", "7")
    monkeypatch.setenv("OPTO_LLM_MAX_RETRIES", "1")
    lm = OpenAICompatible(cache=False)
    assert (lm.model, lm.base_url, lm.timeout, lm.max_retries) == ("env-model", stub.base_url, 7.0, 1)
    assert lm.complete(Request.of("hi")).ok and stub.bodies[-1]["model"] == "env-model"


def test_missing_settings_name_the_fix():
    with pytest.raises(LMConfigError, match="OPTO_LLM_MODEL"):
        OpenAICompatible()
    with pytest.raises(LMConfigError, match="OPENAI_API_KEY"):
        OpenAICompatible("gpt-4o-mini")
    with pytest.raises(LMConfigError, match="schema_mode"):
        OpenAICompatible("m", base_url="http://127.0.0.1:1/v1", schema_mode="xml")  # type: ignore[arg-type]


def test_secret_never_written_to_cache_or_logs(stub, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, including openai's and httpx's
    db = tmp_path / "cache.sqlite"
    lm = client(stub, cache=ResponseCache(db))
    stub.queue(Fault.http(500))
    lm.complete(Request.of("hi"))  # 500 is retried
    stub.queue(Fault.http(401))
    with pytest.raises(LMConfigError) as info:
        lm.complete(Request.of("not cached yet"))
    assert SECRET not in str(info.value)
    with track_usage(report=lambda text: logging.getLogger("opto.llm").info(text)):
        lm.complete(Request.of("hi"))  # a cache hit
        lm.complete(Request.of("hi", schema=Pick))  # fails schema, repair: more log lines
    assert SECRET not in repr(lm) and SECRET not in repr(lm.__dict__)
    lm.cache.close()
    for f in tmp_path.glob("cache.sqlite*"):
        assert SECRET.encode() not in f.read_bytes()
    assert "Retrying" in caplog.text and "opto LM usage" in caplog.text  # the logs were captured
    assert len(lm.cache) == 3  # hi, the schema request and its repair
    assert SECRET not in caplog.text


def test_pickled_lm_keeps_working_and_never_carries_the_key(stub, monkeypatch):
    blob = pickle.dumps(client(stub))
    assert SECRET.encode() not in blob
    lm = pickle.loads(blob)
    assert lm.complete(Request.of("hi")).ok  # a local server needs no key
    stub.queue(Fault.http(401))
    with pytest.raises(LMConfigError, match="never pickled"):
        lm.complete(Request.of("again"))

    monkeypatch.setenv("OPTO_LLM_API_KEY", SECRET)
    from_env = OpenAICompatible("m", base_url=stub.base_url, cache=False)
    blob = pickle.dumps(from_env)
    assert SECRET.encode() not in blob
    assert pickle.loads(blob)._client.api_key == SECRET  # re-read from the same variable
