"""Same scenarios as trace-opt 0.1.3.8, compared with its recorded output (reference test).

The reference JSON was produced by running fixtures/reference_scenarios.py under trace-opt.
Only known, documented differences are allowed (trace-opt appends a second period to a bundled
function's docstring in its description).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def test_matches_traceopt_reference():
    reference = json.loads((FIXTURES / "traceopt_reference.json").read_text())
    result = subprocess.run([sys.executable, str(FIXTURES / "reference_scenarios.py")], capture_output=True,
                            text=True, check=True, timeout=120)
    ours = json.loads(result.stdout)
    assert reference["scenario_bundle"].pop("description") == "[combine] Combine a and b.."
    assert ours["scenario_bundle"].pop("description") == "[combine] Combine a and b."
    assert ours == reference
