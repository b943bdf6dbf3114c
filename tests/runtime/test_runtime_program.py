"""An objective with a program reference: the worker applies candidate values to a trace Module."""

from __future__ import annotations

import pytest

trace = pytest.importorskip("opto.trace", reason="opto.trace is not available")
if not all(hasattr(getattr(trace, "Module", None), m) for m in ("named_parameters", "set_parameter_values")):
    pytest.skip("opto.trace.Module lacks named_parameters/set_parameter_values", allow_module_level=True)

from opto.runtime import Candidate, LocalExecutor, Objective  # noqa: E402

pytestmark = pytest.mark.integration


def test_values_are_applied_to_the_program_before_each_call():
    objective = Objective("sandbox_objectives:program_objective", program="sandbox_objectives:make_program")
    with LocalExecutor(objective, workers=1) as ex:
        short, long, unknown = ex.map([
            Candidate({"prompt": "hi"}),
            Candidate({"prompt": "a much longer prompt"}),
            Candidate({"promt": "typo"}),
        ])
    assert short.ok and short.score == 2.0 and short.feedback == "prompt has 2 characters"
    assert long.ok and long.score == 20.0
    assert unknown.failure is not None and unknown.failure.reason == "exception"
    assert "promt" in unknown.failure.message and "prompt" in unknown.failure.message
