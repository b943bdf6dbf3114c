"""Examples 10-15 run end to end in their quick mode on the embedded model (real runs, a fresh cache) and
print what they achieved. Each prints its LM first and a result line this test looks for."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = {
    "10_binpacking_evolution.py": "OR3 (held out): best ",
    "11_tsp_heuristic.py": "gap to the LKH-3 reference on all 16 instances: nearest neighbour 21.42% -> best ",
    "12_update_rule_search.py": "mean log10 final loss: SGD+momentum -0.437 -> best ",
    "13_solver_configuration.py": "gap to LKH-3 on the 8 held-out instances: defaults ",
    "14_trace_guided_evolution.py": "outcome: 211 bins used, L1 lower bound 199",
    "15_self_improving_optimizer.py": "; inner loss with the start instruction ",  # the value depends on the model
}
needs_local = pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                                 reason="llama_cpp is not importable: install the [local] extra")


@pytest.mark.integration
@needs_local
@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_example_quick_mode(example, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPTO_", "TRACE_", "OPENAI_"))}
    env.update(OPTO_EXAMPLE_QUICK="1", OPTO_CACHE_DIR=str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, str(ROOT / "examples" / example)], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    assert EXAMPLES[example] in out.stdout, out.stdout[-3000:]
    if example != "13_solver_configuration.py":  # 13 uses no LLM
        assert "LM: SmolLM2-135M-Instruct" in out.stdout
