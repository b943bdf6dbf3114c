"""Pure functions of the runtime: return normalization, load_function, env scrubbing, types."""

from __future__ import annotations

import math
import traceback

import numpy as np
import pytest

from opto.runtime import (
    Candidate,
    CandidateCodeError,
    EvalResult,
    EvaluationFailure,
    Limits,
    Objective,
    Outcome,
    load_function,
)
from opto.runtime.limits import is_secret, is_secret_name, worker_env
from opto.runtime.objective import InvalidReturn, normalize_return


@pytest.mark.parametrize(
    "value, expected",
    [
        (1.5, (1.5, {"score": 1.5}, "", {})),
        (3, (3.0, {"score": 3.0}, "", {})),
        (np.float32(0.5), (0.5, {"score": 0.5}, "", {})),
        ((2, "close"), (2.0, {"score": 2.0}, "close", {})),
        (({"acc": 0.9, "cost": -2}, "fb"), (0.9, {"acc": 0.9, "cost": -2.0}, "fb", {})),
        ({"score": 1, "feedback": "f", "artifacts": {"n": 1}}, (1.0, {"score": 1.0}, "f", {"n": 1})),
        ({"scores": {"a": 1, "b": 2}}, (1.0, {"a": 1.0, "b": 2.0}, "", {})),
        ({"score": 5, "scores": {"a": 1}}, (5.0, {"score": 5.0, "a": 1.0}, "", {})),
        ({"a": 1, "b": 2.5}, (1.0, {"a": 1.0, "b": 2.5}, "", {})),
        (Outcome(score=2, feedback="o"), (2.0, {"score": 2.0}, "o", {})),
        (EvalResult("c", True, score=4.0, scores={"score": 4.0}, feedback="e"), (4.0, {"score": 4.0}, "e", {})),
        (np.int64(-2), (-2.0, {"score": -2.0}, "", {})),
    ],
)
def test_accepted_returns(value, expected):
    assert normalize_return(value) == expected


@pytest.mark.parametrize(
    "value, match",
    [
        (None, "returned None; return a number"),
        (True, "must be a number"),
        ("0.5", "must be a number"),
        (object(), "must be a number"),
        (math.nan, "NaN"),
        (-math.inf, r"score is infinite \(-inf\); return a finite number"),
        (math.inf, r"score is infinite \(inf\)"),
        (np.float64("-inf"), "infinite"),
        ((math.inf, "fb"), "infinite"),
        ({"scores": {"a": 1.0, "b": -math.inf}}, r"score 'b' is infinite"),
        ({"acc": math.nan}, r"score 'acc' is NaN"),
        ((1, "a", "b"), r"\(score, feedback\)"),
        ((1, 2), "feedback must be a str"),
        ({"colour": "red"}, "keys among"),
        ({}, "keys among"),
        ({"feedback": "only words"}, "no score"),
        ({"score": 1, "artifacts": [1]}, "artifacts must be a dict"),
        ({"scores": {}}, "non-empty"),
        (Outcome(), "no score"),
    ],
)
def test_rejected_returns(value, match):
    with pytest.raises(InvalidReturn, match=match):
        normalize_return(value)


def test_load_function_returns_the_named_or_last_function():
    src = "def helper(x):\n    return x + 1\n\ndef main(x):\n    return helper(x) * 2\n"
    assert load_function(src)(1) == 4
    assert load_function(src, "helper")(1) == 2
    assert load_function("    def f():\n        return 'indented'\n")() == "indented"
    assert load_function("def f():\n    return K", globals={"K": 7})() == 7


@pytest.mark.parametrize(
    "src, name, match",
    [
        ("def f(:\n    return 1", None, r"does not compile: .*line 1\)\n    def f\(:"),
        ("x = 1", None, "defines no top-level function"),
        ("def g():\n    return 1", "f", r"no function named 'f'; it defines \['g'\]"),
        ("a\x00b", None, "does not compile"),
        (b"def f(): pass", None, "must be a str"),
    ],
)
def test_load_function_errors_say_what_to_fix(src, name, match):
    with pytest.raises(CandidateCodeError, match=match):
        load_function(src, name)


def test_tracebacks_through_loaded_code_show_its_lines():
    fn = load_function("def f():\n    return 1 / 0\n")
    with pytest.raises(ZeroDivisionError) as info:
        fn()
    text = "".join(traceback.format_exception(info.value))
    assert "<candidate-" in text and "return 1 / 0" in text


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "HF_TOKEN", "AWS_SECRET_ACCESS_KEY",
                                  "GITHUB_TOKEN", "DB_PASSWORD", "API_KEY", "GOOGLE_APPLICATION_CREDENTIALS",
                                  "AWS_SESSION_TOKEN", "MY_APIKEY", "PGPASSWORD", "MYSQL_PWD", "GITHUB_PAT",
                                  "MYSECRET", "ACCESSTOKEN", "SSH_PRIVATE_KEY", "GPG_PRIVATEKEY", "AZURE_CREDENTIAL",
                                  "SMTP_PASSWD", "AWS_ACCESS_KEY_ID", "SENTRY_DSN", "pgpassword", "client_secret"])
def test_secret_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["PATH", "HOME", "PWD", "OLDPWD", "KEYBOARD_LAYOUT", "TOKENIZERS_PARALLELISM",
                                  "HF_TOKENIZER_PATH", "OPENAI_BASE_URL", "PYTHONPATH", "LANG", "PATCH_LEVEL",
                                  "DATABASE_URL"])
def test_not_secret_names(name):
    assert not is_secret_name(name)


@pytest.mark.parametrize("value, secret", [
    ("postgres://app:hunter2@db:5432/main", True),
    ("redis://:hunter2@cache:6379/0", True),
    ("http://alice:p%40ss@proxy:3128 https://mirror", True),
    ("postgres://db:5432/main", False),
    ("http://proxy:3128", False),
    ("ssh://git@github.com/org/repo", False),
    ("/usr/bin:/bin", False),
])
def test_urls_with_a_password_are_secret_whatever_the_name(value, secret):
    assert is_secret("DATABASE_URL", value) is secret


def test_worker_env_scrubs_keeps_and_adds():
    base = {"PATH": "/bin", "OPENAI_API_KEY": "sk-x", "HF_TOKEN": "t", "OMP_NUM_THREADS": "4", "PWD": "/work",
            "PGPASSWORD": "pw", "DATABASE_URL": "postgres://u:pw@h/db", "CACHE_URL": "redis://cache:6379"}
    env = worker_env(Limits(env_keep=("HF_TOKEN",), env={"EXTRA": "1"}), base)
    assert env["PATH"] == "/bin" and "OPENAI_API_KEY" not in env and env["HF_TOKEN"] == "t"
    assert env["EXTRA"] == "1" and env["OMP_NUM_THREADS"] == "4" and env["MKL_NUM_THREADS"] == "1"
    assert env["PWD"] == "/work" and env["CACHE_URL"] == "redis://cache:6379"
    assert "PGPASSWORD" not in env and "DATABASE_URL" not in env
    assert worker_env(Limits(env_keep=("DATABASE_URL",)), base)["DATABASE_URL"] == "postgres://u:pw@h/db"
    assert "OPENAI_API_KEY" in worker_env(Limits(scrub_env=False), base)


def test_limits_validate():
    with pytest.raises(ValueError, match="timeout_s"):
        Limits(timeout_s=0)
    with pytest.raises(ValueError, match="memory_mb"):
        Limits(memory_mb=-1)
    assert Limits(memory_mb=0).memory_cap_mb(4) is None
    assert Limits().memory_cap_mb(1) >= 1024


def test_sandbox_options_are_one_limits_object_with_keyword_shortcuts():
    base = Limits(timeout_s=5, env={"A": "1"})
    merged = Limits.merged(base, timeout_s=2, memory_mb=None, extra_sys_path=["/x"])
    assert merged == Limits(timeout_s=2, env={"A": "1"}, extra_sys_path=("/x",))  # None: keep the base value
    assert Limits.merged(None) == Limits() and Limits.merged(base) is base
    with pytest.raises(TypeError, match=r"unknown executor option\(s\) \['timeout'\].*timeout_s"):
        Limits.merged(None, timeout=3)
    with pytest.raises(TypeError, match="must be an opto.runtime.Limits"):
        Limits.merged({"timeout_s": 3})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="wrap it"):
        Limits(extra_sys_path="/x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout_s must be a number"):
        Limits(timeout_s="10")  # type: ignore[arg-type]


def test_executors_take_the_same_options_and_reject_unknown_ones():
    from opto.runtime import LocalExecutor

    with pytest.raises(TypeError, match="unknown executor option"):
        LocalExecutor("sandbox_objectives:trivial", workers=1, timeot_s=3)


def test_types():
    c = Candidate({"x": 1}, parent_ids=["a"])
    assert c.parent_ids == ("a",) and len(c.id) == 16 and Candidate({}).id != c.id
    with pytest.raises(TypeError, match="mapping"):
        Candidate([1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown failure reason"):
        EvaluationFailure("oops", "m")  # type: ignore[arg-type]
    r = EvalResult.failed("c", "timeout", "too slow", stdout_tail="out", stderr_tail="err")
    assert not r.ok and r.failure.output_tail == "[stdout]\nout\n[stderr]\nerr"


def test_objective_refs_are_checked():
    with pytest.raises(ValueError, match="module:attribute"):
        Objective("nocolon")
    with pytest.raises(TypeError, match="callable"):
        Objective(42)  # type: ignore[arg-type]
    assert Objective.coerce("a:b").fn == "a:b"


def test_objectives_from_main_need_a_module(monkeypatch):
    import sys

    def local_fn(values):
        return 1.0

    local_fn.__module__ = "__main__"
    monkeypatch.setitem(sys.modules, "cloudpickle", None)  # as if it were not installed
    with pytest.raises(TypeError, match="move it into a module"):
        Objective(local_fn).dumps()
    with pytest.raises(TypeError, match="cannot be sent to a worker"):
        Objective(lambda values: 1.0).dumps()
