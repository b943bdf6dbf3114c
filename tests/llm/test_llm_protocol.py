"""The protocol module and the package load no backend; opto.llm's names all resolve; LMOptions."""

from __future__ import annotations

import dataclasses
import inspect
import json
import subprocess
import sys

import pytest

import opto.llm
from opto.llm import Budget, LMOptions, OpenAICompatible, Request, ResponseCache, ScriptedLM, UsageTracker
from opto.llm.options import OPTION_NAMES, LMKeywords

PROBE = """
import json, sys
{imports}
heavy = ("openai", "httpx", "pydantic", "opto.llm.base", "opto.llm.openai_compatible", "opto.llm.local")
print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
"""


def loaded_after(imports: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(imports=imports)], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out)


def test_protocol_module_loads_no_openai_no_pydantic_no_backend():
    assert loaded_after("import opto.llm.protocol") == []


def test_package_and_its_protocol_names_load_no_openai():
    assert loaded_after("import opto.llm") == []
    names = "LM, LMCallError, LMConfigError, LMError, LMFailure, Message, Request, Response, Usage, Choice"
    assert loaded_after(f"from opto.llm import {names}") == []
    assert loaded_after("import opto.llm.protocol; from opto.llm.protocol import Request; Request.of('x')") == []


def test_scripted_lm_needs_no_openai():
    # Unit tests of an optimizer on ScriptedLM pay for pydantic (schemas) but not for openai.
    assert "openai" not in loaded_after("from opto.llm import ScriptedLM, Request; ScriptedLM(['a'])")


def test_openai_loads_only_when_its_backend_is_asked_for():
    assert "openai" in loaded_after("from opto.llm import OpenAICompatible")


def test_every_public_name_resolves_and_unknown_ones_raise():
    for name in opto.llm.__all__:
        assert getattr(opto.llm, name) is not None, name
    assert set(opto.llm.__all__) <= set(dir(opto.llm))
    with pytest.raises(AttributeError, match="no attribute 'Failure'"):
        opto.llm.Failure  # noqa: B018 - renamed LMFailure
    from opto.llm import local as local_module  # submodules still import through the package

    assert local_module.EMBEDDED_MODEL_NAME


def test_the_keyword_shortcuts_are_exactly_the_option_fields():
    assert set(LMKeywords.__annotations__) == set(OPTION_NAMES)
    assert OPTION_NAMES == ("cache", "usage", "budget", "price", "repair")


def test_options_are_frozen_and_checked():
    opts = LMOptions(budget=Budget(max_calls=2))
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.repair = False  # type: ignore[misc]
    with pytest.raises(TypeError, match="budget"):
        LMOptions(budget=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="repair"):
        LMOptions(repair="no")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="cache"):
        LMOptions(cache=3.5)  # type: ignore[arg-type]


def test_options_object_and_shortcuts_agree_and_a_shortcut_wins(tmp_path):
    shared = UsageTracker(name="pool")
    opts = LMOptions(usage=shared, budget=Budget(max_calls=5), repair=False)
    a = ScriptedLM(["x"], options=opts)
    b = ScriptedLM(["y"], options=opts, repair=True)
    assert a.usage is shared and b.usage is shared and shared.budget == Budget(max_calls=5)
    assert a.repair is False and b.repair is True and b.options.repair is True
    a.complete(Request.of("1"))
    b.complete(Request.of("2"))
    assert shared.summary().calls == 2


def test_scripted_lm_has_no_cache_unless_given_one(tmp_path):
    assert ScriptedLM().cache is None and ScriptedLM(options=LMOptions()).cache is None
    given = ScriptedLM(options=LMOptions(cache=tmp_path / "c.sqlite")).cache
    assert isinstance(given, ResponseCache) and given.path == tmp_path / "c.sqlite"


def test_every_backend_takes_options_and_rejects_unknown_keywords(stub):
    lm = OpenAICompatible("m", base_url=stub.base_url, options=LMOptions(cache=False, budget=Budget(max_calls=1)))
    assert lm.cache is None and lm.usage.budget == Budget(max_calls=1)
    assert lm.complete(Request.of("hi")).text == "hello"
    with pytest.raises(TypeError, match=r"'cach'.*cache, usage, budget, price, repair"):
        OpenAICompatible("m", base_url=stub.base_url, cach=False)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="LMOptions"):
        ScriptedLM(options={"cache": False})  # type: ignore[arg-type]
    from opto.llm.local import LocalLM

    for backend in (OpenAICompatible, ScriptedLM, LocalLM):
        params = inspect.signature(backend.__init__).parameters
        assert "options" in params and params["keywords"].kind is inspect.Parameter.VAR_KEYWORD, backend
