"""Examples 02-08 run end to end in their short mode against a stub OpenAI-compatible server.

The stub answers OptoPrime's prompts with a small, valid suggestion and the programs' own calls with a
fixed word, so this checks the examples' wiring (configured API model path, trainer, printing), not
what a real model achieves; 02 and 03 also run on the embedded model in tests/test_examples.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from opto.llm.testing import StubServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ["02_numeric_feedback.py", "03_code_from_tests.py", "04_prompt_optimization.py",
            "05_agent_prompts.py", "06_error_handling.py", "07_budget_and_resume.py", "08_llm_judge.py"]
_VAR = re.compile(r"^\((\w+)\) (\w+)=(.*)$", re.M)


def stub_reply(body: dict) -> str:
    text = str(body["messages"][-1].get("content", ""))
    if "You grade the output" in text:
        return json.dumps({"score": 0.5, "feedback": "name a concrete benefit"})
    if "#Variables" not in text:
        return "positive Paris"
    variables = text.split("#Variables", 1)[1].split("#Constraints", 1)[0]
    found = _VAR.search(variables)
    if not found:
        return json.dumps({"reasoning": "nothing to change", "suggestion": {}})
    kind, name, value = found.groups()
    new: object = float(value) + 1 if kind in ("float", "int") else value + " Answer with one word."
    if kind == "code":
        return json.dumps({"reasoning": "keep the code", "suggestion": {}})
    return json.dumps({"reasoning": "stub", "suggestion": {name: new}})


@pytest.fixture(scope="module")
def stub():
    with StubServer(reply=stub_reply) as server:
        yield server


@pytest.mark.integration
@pytest.mark.parametrize("example", EXAMPLES)
def test_example_runs_in_quick_mode(stub, example, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPTO_", "TRACE_", "OPENAI_"))}
    env.update(OPTO_LLM_MODEL="stub-model", OPTO_LLM_BASE_URL=stub.base_url, OPTO_LLM_API_KEY="none",
               OPTO_EXAMPLE_QUICK="1", OPTO_CACHE_DIR=str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, str(ROOT / "examples" / example)], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert "LM: stub-model" in out.stdout
    assert "Traceback" not in out.stderr
