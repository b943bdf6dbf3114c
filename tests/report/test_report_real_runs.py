"""Reports of stores written by the real writers (the evolutionary search and the trainer), not by hand.

These guard the run-store conventions: if a writer changes what it logs, the report's numbers here
stop matching what the writer itself returned.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from opto.report import build_report, load_run
from opto.report.timeline import curves

pytestmark = pytest.mark.integration  # sandbox worker processes


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_report_of_a_real_evolution_run(tmp_path: Path) -> None:
    from opto.optimizers.evolution.search import Evolution
    from opto.trace import node

    params = {"x": node(-3.0, trainable=True, name="x")}
    opt = Evolution(params, config={"islands": 2, "batch_size": 4, "seed": 2, "heldout_top": 2,
                                    "space": {"x": {"low": -5, "high": 5}}})
    result = opt.search("report_objectives:quadratic", budget=16, workers=2, store=tmp_path / "evo.db",
                        heldout=0.5)
    html = build_report(tmp_path / "evo.db").read_text()
    assert "could not be made" not in html
    run = load_run(tmp_path / "evo.db")
    assert run.kind == "evolution"
    assert curves(run).best[-1].score == pytest.approx(result.score)
    assert sorted(curves(run).islands) == [0, 1]
    text = _text(html)
    assert "As logged by the search" in text
    for name, stats in result.operators.items():
        assert f"{name} {stats['proposals']} {stats['valid']} {stats['improved']}" in text
    assert len(result.heldout) == 2 and "No held-out evaluation was made" not in text
    for reason, count in result.failures.items():
        assert f"{reason} {count}" in text


def test_report_of_a_real_training_run(tmp_path: Path) -> None:
    from opto import trace
    from opto.llm import ScriptedLM
    from opto.optimizers import OptoPrime
    from opto.trainer import train

    @trace.model
    class Scale:
        def __init__(self) -> None:
            self.k = trace.node(1.0, trainable=True, name="k")

        def forward(self, x: object) -> object:
            return self.k * x

    replies = iter(['{"reasoning": "bigger", "suggestion": {"k": 2.0}}',
                    '{"reasoning": "bigger", "suggestion": {"k": 3.0}}'] * 5)
    model = Scale()
    opt = OptoPrime(model.parameters(), lm=ScriptedLM(lambda r: next(replies)))
    data = [(x, 3 * x) for x in (1, 2, 3, 4)]
    guide = lambda x, out, want: (-abs(out - want), f"wanted {want}, got {out}")  # noqa: E731
    result = train(model, data, guide, optimizer=opt, epochs=1, batch_size=2, val_set=data[:2],
                   test_set=data[2:], store=tmp_path / "train.db", progress=False)
    html = build_report(tmp_path / "train.db").read_text()
    assert "could not be made" not in html
    text = _text(html)
    assert f"Best score {result.best_score:g}" in text
    assert "Training steps" in text and "2 steps" in text
    applied = sum(1 for e in load_run(tmp_path / "train.db").events_of("step") if e.data.get("applied"))
    assert applied >= 1 and f"2 steps, {applied} with an update applied" in text
    # each step's trace graph (stored by the trainer as a JSON description) is drawn by graphviz
    assert html.count('alt="Trace graph of step') == 2
    svg = (tmp_path / "train_files" / "step_0000.svg").read_text()
    assert "batch_outputs" in svg and "k:" in svg
    assert (tmp_path / "train_files" / "step_0001.png").stat().st_size > 0
