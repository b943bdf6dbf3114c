"""Training steps' trace graphs stored as JSON descriptions (opto.trace.summary) are drawn per step."""

from __future__ import annotations

from pathlib import Path

import pytest

from opto import trace
from opto.records import Candidate
from opto.report import build_report
from opto.report.graphs import summary_dot
from opto.store import RunStore
from opto.trace.summary import graph_summary


def test_summary_dot_draws_kinds_and_code_lines():
    code = trace.node("def f(x):\n    return x + 1\n", trainable=True, name="__code")
    y = trace.node(1, name="x") + code.data.count("x")
    dot = summary_dot(graph_summary([y, code]))
    assert "#FFE2B8" in dot  # the parameter look of opto.viz
    assert "return x + 1" in dot and "legend" in dot
    for bad in ([1, 2], {"nodes": [{"value": 1}]}, {"nodes": [{"name": "a"}, {"name": "b"}],
                                                    "edges": [["a", "b"], ["b", "a"]]}):
        with pytest.raises(ValueError):
            summary_dot(bad)


def test_each_step_gets_its_picture_or_a_note(tmp_path: Path):
    k = trace.node(0, trainable=True, name="k")
    y = k
    for _ in range(30):
        y = y + 1
    big = graph_summary(y, max_nodes=10)
    with RunStore.open(tmp_path / "r.db", {"kind": "training"}, seed=1) as s:
        s.add_candidate(Candidate({"k": 0}, id="c0", operator="seed"))
        s.add_event("step", {"step": 1, "candidate_id": None, "applied": {}, "rejected": [], "graph": big})
        s.add_event("step", {"step": 2, "candidate_id": None, "applied": {}, "rejected": [],
                             "graph": {"nodes": "not a list"}})
    html = build_report(tmp_path / "r.db").read_text()
    assert html.count('alt="Trace graph of step') == 1
    assert f"only the 10 nodes nearest the output of {big['total_nodes']} are shown" in html
    assert "not drawn: a step&#39;s graph must be a dict" in html or "not drawn: a step's graph must be" in html


def test_step_graphs_past_the_time_budget_get_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import opto.report.build as build

    monkeypatch.setattr(build, "STEP_GRAPH_SECONDS", 0.0)
    with RunStore.open(tmp_path / "r.db", {"kind": "training"}, seed=1) as s:
        s.add_event("step", {"step": 1, "applied": {}, "rejected": [], "graph": graph_summary(trace.node(1) + 1)})
    html = build_report(tmp_path / "r.db").read_text()
    assert 'alt="Trace graph of step' not in html and "took the 0 s the report gives them" in html
