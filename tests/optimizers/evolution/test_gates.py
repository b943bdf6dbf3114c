"""Gates: duplicate after normalization, syntax/name/signature, behavioural hashing in the sandbox."""

from __future__ import annotations

import pytest

from opto.optimizers.evolution.gates import Gates, normalized, values_key
from opto.optimizers.evolution.probes import behaviour
from opto.optimizers.evolution.space import SearchSpace
from opto.records import Candidate
from opto.runtime import LocalExecutor

CODE = "def f(x, y):\n    return x + y\n"
SPACE = SearchSpace.from_values({"f": CODE, "w": 0.5, "p": "be  brief"}, {"w": {"low": 0, "high": 1}})


def vals(code: str = CODE, w: float = 0.5, p: str = "be brief") -> dict:
    return {"f": code, "w": w, "p": p}


def test_normalization_ignores_layout_comments_and_docstrings():
    a = vals("def f(x, y):\n    return x + y\n")
    b = vals('def f(x,y):\n    """Add."""\n    # sum\n    return (x +   y)\n', p="be   brief\n")
    assert values_key(SPACE, a) == values_key(SPACE, b)
    assert values_key(SPACE, a) != values_key(SPACE, vals("def f(x, y):\n    return y + x\n"))
    assert values_key(SPACE, a) != values_key(SPACE, vals(w=0.25))
    assert normalized(SPACE, a)["p"] == "be brief"


def test_duplicate_gate_remembers_keys_and_counts():
    g = Gates(SPACE)
    key = values_key(SPACE, vals())
    assert g.duplicate(key).passed
    verdict = g.duplicate(key)
    assert not verdict.passed and verdict.gate == "duplicate"
    assert g.counts["duplicate"] == {"passed": 1, "rejected": 1}


@pytest.mark.parametrize("code, gate, fragment", [
    ("def f(x, y):\n    return x +\n", "syntax", "line 2"),
    ("def g(x, y):\n    return x\n", "signature", "no top-level function 'f'"),
    ("def f(x):\n    return x\n", "signature", "must keep the signature f(x, y)"),
])
def test_structure_gate_rejects_with_a_reason(code, gate, fragment):
    g = Gates(SPACE)
    verdict = g.structure(vals(code))
    assert not verdict.passed and verdict.gate == gate and fragment in verdict.reason
    assert g.counts[gate]["rejected"] == 1


def test_structure_gate_checks_ranges_and_passes_good_children():
    g = Gates(SPACE)
    bad = g.structure(vals(w=3.0))
    assert not bad.passed and "outside" in bad.reason
    assert g.structure(vals("def helper(a):\n    return a\n\ndef f(x, y):\n    return helper(x) - y\n")).passed
    assert g.counts["syntax"]["passed"] == 1 and g.counts["signature"]["passed"] == 1


def test_probe_function_hashes_behaviour_not_text():
    task = {"functions": {"f": "f"}, "probes": {"f": [[1, 2], [3, 4], [-1, 5]]}}
    same = behaviour({"f": "def f(x, y):\n    return y + x\n"}, task).artifacts["behaviour"]["f"]
    assert same == behaviour({"f": CODE}, task).artifacts["behaviour"]["f"]
    other = behaviour({"f": "def f(x, y):\n    return x * y\n"}, task).artifacts["behaviour"]["f"]
    assert other != same
    broken = behaviour({"f": "def f(x, y):\n    return x / 0\n"}, task).artifacts["behaviour"]["f"]
    assert broken not in (same, other)


def test_behaviour_gate_through_sandbox_workers():
    g = Gates(SPACE, probes=[(1, 2), (3, 4), (0.5, 0.25)])
    children = [vals(CODE), vals("def f(x, y):\n    return y + x\n"), vals("def f(x, y):\n    return x - y\n")]
    with LocalExecutor("opto.optimizers.evolution.probes:behaviour", workers=1) as ex:
        results = ex.map([Candidate(c) for c in children], input=g.probe_task())
    assert all(r.ok for r in results), [r.feedback for r in results]
    verdicts = [g.behaviour(g.behaviour_key(c, r.artifacts["behaviour"])) for c, r in zip(children, results)]
    assert [v.passed for v in verdicts] == [True, False, True]
    assert g.counts["behaviour"] == {"passed": 2, "rejected": 1}
    # the same code with a different number is a different child
    assert g.behaviour(g.behaviour_key(vals(CODE, w=0.9), results[0].artifacts["behaviour"])).passed


def test_probe_argument_errors():
    with pytest.raises(ValueError, match="not code parameters"):
        Gates(SPACE, probes={"w": [(1,)]})
    with pytest.raises(ValueError, match="is empty"):
        Gates(SPACE, probes={"f": []})
    two = SearchSpace.from_values({"f": CODE, "g": "def g(a):\n    return a\n"})
    with pytest.raises(ValueError, match="exactly one code parameter"):
        Gates(two, probes=[(1, 2)])
