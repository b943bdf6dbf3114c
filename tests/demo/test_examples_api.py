"""Examples 10-15 with an API model: OPTO_LLM_MODEL points them at a stub OpenAI-compatible server.

The stub writes a valid variant of whichever function a prompt asks for (EoH/FunSearch prompts) and a
small JSON suggestion to OptoPrime prompts, so this checks the examples' configured-model path and that
an LLM child can win (the stub's heuristics are better than the starts), not what a real model does.
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
CODE = {
    "priority": "def priority(item, bins):\n    gap = bins - item\n    return -gap + 3.0 * (gap <= 2)\n",
    "select_next_node": ("def select_next_node(current, destination, unvisited, distances):\n"
                         "    return unvisited[int(np.argmin(distances[current][unvisited]))]\n"),
    "update": "def update(w, g, m, v, t):\n    m = 0.9 * m + 0.1 * g\n    return w - 0.002 * m, m, v\n",
}
_VAR = re.compile(r"^\((\w+)\) (\w+)=(.*)$", re.M)


def stub_reply(body: dict) -> str:
    text = "\n".join(str(m.get("content", "")) for m in body["messages"])
    if "#Variables" in text:  # OptoPrime (the outer/inner loops of 15, trace-guided mutation of 14)
        variables = text.rsplit("\n#Variables", 1)[-1].split("\n#Constraints", 1)[0]  # the section, not the legend
        found = _VAR.search(variables)
        if not found:
            return json.dumps({"reasoning": "nothing to change", "suggestion": {}})
        kind, name, _value = found.groups()
        if kind == "float":
            new: object = 3.0
        elif "def priority" in variables:
            new = CODE["priority"]
        else:
            new = "Move x straight to the minimum of the function."
        return json.dumps({"reasoning": "stub", "suggestion": {name: new}})
    name = next((n for n in CODE if f"`{n}(" in text or f"def {n}" in text), "priority")
    return "{A stub idea.}\n```python\nimport numpy as np\n\n" + CODE[name] + "```\n"


@pytest.fixture(scope="module")
def stub():
    with StubServer(reply=stub_reply) as server:
        yield server


@pytest.mark.integration
@pytest.mark.parametrize("example", ["10_binpacking_evolution.py", "11_tsp_heuristic.py", "12_update_rule_search.py",
                                     "14_trace_guided_evolution.py", "15_self_improving_optimizer.py"])
def test_example_with_an_api_model(stub, example, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPTO_", "TRACE_", "OPENAI_"))}
    env.update(OPTO_LLM_MODEL="stub-model", OPTO_LLM_BASE_URL=stub.base_url, OPTO_LLM_API_KEY="none",
               OPTO_EXAMPLE_QUICK="1", OPTO_CACHE_DIR=str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, str(ROOT / "examples" / example)], capture_output=True, text=True,
                         timeout=180, cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert "LM: stub-model" in out.stdout and "Traceback" not in out.stderr
    if example == "15_self_improving_optimizer.py":  # the inner optimizer moved x to 3 with the stub's help
        assert "with the best instruction 0" in out.stdout, out.stdout[-2000:]
    elif example == "10_binpacking_evolution.py":
        assert re.search(r"\n  (M1|M2|E1|funsearch) +\d+ proposals +[1-9]\d* valid", out.stdout), out.stdout[-2000:]
