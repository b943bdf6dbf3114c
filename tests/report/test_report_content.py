"""The report's content on synthetic stores: sections, numbers, pictures that decode, files next to it."""

from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image
from report_stores import BEST_CODE, evolution_store, training_store

from opto import cli
from opto.records import Candidate, EvalResult
from opto.report import build_report, load_run
from opto.report.lineage import MAX_NODES, lineage
from opto.report.stats import failure_table, gate_table, heldout_table, operator_table
from opto.report.timeline import curves
from opto.report.usage import usage_table
from opto.store import RunStore, StoreError

DATA_URI = re.compile(r'src="data:(image/[a-z+]+);base64,([A-Za-z0-9+/=]+)"')


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}">')
    return html[start: html.index("</section>", start)]


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))


@pytest.fixture(scope="module")
def evo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One evolution store and its report (built once: drawing charts takes seconds on a busy machine)."""
    store = evolution_store(tmp_path_factory.mktemp("evo") / "evo.db")
    assert build_report(store) == store.with_suffix(".html")
    return store


@pytest.fixture(scope="module")
def train(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = training_store(tmp_path_factory.mktemp("train") / "train.db")
    build_report(store)
    return store


def _html(store: Path) -> str:
    return store.with_suffix(".html").read_text()


def test_evolution_report_has_every_section_and_its_numbers(evo: Path) -> None:
    html = _html(evo)
    for sid in ("scores", "lineage", "operators", "failures", "usage", "heldout", "config"):
        assert f'<section id="{sid}">' in html
    assert 'id="steps"' not in html  # not a training run
    assert "could not be made" not in html
    cards = _text(html[: html.index('<section id="scores">')])
    assert "Best score -2 " in cards  # the selection best: not the cascade (-1) nor held-out row
    assert "Evaluations 10 2 failed" in cards and "Candidates 8" in cards
    assert "LLM calls 4 600 tokens" in cards and "$0.0030" in cards
    assert "The run stopped: budget" in _text(html)
    scores = _text(_section(html, "scores"))
    assert "Best -2 (candidate best ), reached after 8 evaluations, 600 LLM tokens" in scores
    ops = _text(_section(html, "operators"))
    assert "As logged by the search" in ops
    assert "M1 4 1 1 1 300" in ops and "ast_perturb 3 2 2 0.75 0" in ops
    assert "duplicate 9 1 same code as a1" in ops and "behaviour 1 0" in ops
    fails = _text(_section(html, "failures"))
    assert "timeout 1 a2 : timeout in a2" in fails and "syntax 2 M1 : invalid syntax at line 2" in fails
    assert "Traceback of b3" in _section(html, "failures")
    usage = _text(_section(html, "usage"))
    assert "gpt-4o-mini 4 1 0 400 200 0.5 s $0.0030" in usage
    held = _text(_section(html, "heldout"))
    assert "best -2 -2.6 -0.6" in held and "a3 -3 -2.5 0.5" in held


def test_pareto_front_section(evo: Path, train: Path) -> None:
    section = _section(_html(evo), "pareto")
    text = _text(section)
    assert "score, speed" in text and "best -2 0.2" in text and "b1 -4.5 0.9" in text
    assert section.count("data:image/png") == 1 and '<a href="#pareto">' in _html(evo)
    assert 'id="pareto"' not in _html(train)  # no front logged: no section


def test_lineage_and_diff_of_the_best(evo: Path) -> None:
    run = load_run(evo)
    lin = lineage(run)
    assert lin is not None
    assert [c.id for c in lin.chain] == ["best", "a3", "a1", "seed0000"]
    assert lin.start.id == "seed0000" and lin.best_score == -2.0 and not lin.truncated
    section = _section(_html(evo), "lineage")
    assert 'class="diff"' in section and "diff_add" in section
    assert "gap&nbsp;=&nbsp;bins&nbsp;-&nbsp;item" in section  # difflib's escaped text of BEST_CODE
    assert "idea of a3" in section  # the thought, in the lineage table
    assert "diff_next" not in section
    assert BEST_CODE


def test_score_curves_best_and_per_island(evo: Path) -> None:
    c = curves(load_run(evo))
    assert [(p.evaluations, p.score) for p in c.best] == [(1, -5.0), (2, -4.0), (5, -3.5), (6, -3.0), (8, -2.0)]
    assert [p.score for p in c.islands[0]] == [-5.0, -4.0, -3.0, -2.0]
    assert [p.score for p in c.islands[1]] == [-5.0, -4.5, -3.5]
    assert c.best[0].tokens == 0 and c.best[-1].tokens == 600  # all four calls came before the children
    assert all(a.seconds <= b.seconds for a, b in zip(c.points, c.points[1:]))
    assert c.end is not None and c.end.evaluations == 10
    assert [(kind, p.evaluations) for kind, p in c.marks] == [("island reset", 10), ("migration", 10)]


def test_tables_from_events(evo: Path) -> None:
    run = load_run(evo)
    rows, source = operator_table(run)
    assert source == "events" and [r.operator for r in rows] == ["M1", "ast_perturb", "E1", "M2"]
    gates = {g.gate: g for g in gate_table(run)}
    assert (gates["syntax"].passed, gates["syntax"].rejected) == (8, 1)
    assert gates["syntax"].example == "invalid syntax at line 2"
    fails = [(f.source, f.reason, f.count) for f in failure_table(run)]
    assert fails == [("evaluation", "exception", 1), ("evaluation", "timeout", 1), ("rejected", "syntax", 2),
                     ("rejected", "duplicate", 1)]
    assert [round(r.gap or 0, 6) for r in heldout_table(run)] == [-0.6, 0.5]
    per_model, total = usage_table(run)
    assert total is not None and total.calls == 4 and total.cached == 1 and total.tokens == 600
    assert total.cost_usd == pytest.approx(0.003) and total.unpriced == 0


def test_every_embedded_image_decodes_and_is_also_a_file(evo: Path) -> None:
    html = _html(evo)
    found = DATA_URI.findall(html)
    assert len(found) >= 7  # 3 score charts, lineage, operators, failures, tokens, held-out
    for mime, data in found:
        raw = base64.b64decode(data)
        if mime == "image/png":
            with Image.open(io.BytesIO(raw)) as im:
                assert im.size[0] > 100 and im.size[1] > 100
        else:
            assert mime == "image/svg+xml" and ET.fromstring(raw).tag.endswith("svg")
    folder = evo.with_name("evo_files")
    for name in ("score_vs_evaluations", "score_vs_tokens", "score_vs_seconds", "operators", "failures",
                 "heldout", "llm_tokens", "pareto"):
        assert (folder / f"{name}.png").stat().st_size > 1000
        assert ET.parse(folder / f"{name}.svg").getroot().tag.endswith("svg")
    assert (folder / "lineage.svg").exists() and (folder / "lineage.dot").exists()
    with Image.open(folder / "lineage.png") as im:
        assert im.size[0] > 50 and im.size[1] > 50


def test_training_report_shows_steps_graphs_and_what_was_applied(train: Path) -> None:
    html = _html(train)
    assert "could not be made" not in html
    steps = _section(html, "steps")
    text = _text(steps)
    assert "3 steps, 2 with an update applied, 2 with their trace graph" in text  # graph_dot and graph
    assert "Applied to prompt : Answer with one word." in text
    assert "reply contains &lt;think&gt; leakage" in steps  # escaped, not a tag
    assert "the optimizer proposed no change" in text
    assert "graphviz could not draw this graph" in text  # step 3's DOT is broken: a note, not a crash
    assert steps.count("data:image/svg+xml") == 2
    cards = _text(html[: html.index('<section id="scores">')])
    assert "Best score 0.75" in cards  # the validation aggregate, not the test row or per-instance rows
    assert "Evaluations 4 0 failed" in cards  # instance evaluations: the split summaries are not runs
    assert "reached after 3 evaluations" in _text(_section(html, "scores"))
    c = curves(load_run(train))
    assert [(p.evaluations, p.score) for p in c.best] == [(1, 0.25), (2, 0.5), (3, 0.75)]
    assert "LLM cost — 1 unpriced" in cards  # smollm2 has no list price and the call recorded no cost
    assert "p2 0.75 0.7 -0.05" in _text(_section(html, "heldout"))
    run = load_run(train)
    rows, source = operator_table(run)
    assert source == "derived"
    assert {r.operator: (r.proposals, r.valid, r.improved) for r in rows} == {"optoprime": (2, 2, 2), "seed": (1, 1, 0)}
    lin = lineage(run)
    assert lin is not None and [c.id for c in lin.chain] == ["p2", "p1", "p0"]


def test_empty_run_says_so_in_each_section(tmp_path: Path) -> None:
    RunStore.open(tmp_path / "empty.db", {"kind": "evolution"}).close()
    html = build_report(tmp_path / "empty.db").read_text()
    assert "could not be made" not in html
    for line in ("No successful evaluation yet", "No candidate has a score yet", "No operator produced a child",
                 "No gate was logged", "No evaluation failed", "The run made no LLM call",
                 "No held-out evaluation was made"):
        assert line in html
    assert "data:image" not in html
    assert "The search has not logged its end yet" in html  # an evolution run without its "stopped" event


def test_report_of_a_run_still_being_written_takes_no_lock(tmp_path: Path) -> None:
    path = tmp_path / "live.db"
    writer = RunStore.open(path, {"kind": "training"})
    try:
        writer.add_candidate(Candidate({"x": 1}, id="c1"))
        writer.add_candidate(Candidate({"x": 2}, id="c2", parent_ids=("c1",)))
        writer.mark_in_flight(["c2"])
        writer.record_evaluation(EvalResult("c1", ok=True, score=1.0), "val")
        html = build_report(path).read_text()
        assert "1 candidates pending" not in html and "in flight when this report was made" in html
        writer.record_evaluation(EvalResult("c2", ok=True, score=2.0), "val")  # the writer is not blocked
        assert "Best score 2" in _text(build_report(path).read_text())
    finally:
        writer.close()


def test_stale_pictures_of_an_earlier_report_are_replaced(train: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    (tmp_path / "r_files").mkdir()
    stale = tmp_path / "r_files" / "step_0099.svg"
    stale.write_text("<svg/>")
    keep = tmp_path / "r_files" / "notes.txt"  # not a picture type the report writes: left alone
    keep.write_text("mine")
    build_report(train, out)
    assert not stale.exists() and (tmp_path / "r_files" / "step_0000.svg").exists() and keep.exists()


def test_long_lineage_is_cut_to_the_nearest_ancestors(tmp_path: Path) -> None:
    with RunStore.open(tmp_path / "chain.db", {"kind": "evolution"}) as s:
        prev: tuple[str, ...] = ()
        for i in range(MAX_NODES + 20):
            s.add_candidate(Candidate({"x": i}, id=f"c{i}", parent_ids=prev, operator="M2", generation=i))
            s.record_evaluation(EvalResult(f"c{i}", ok=True, score=float(i)), "train")
            prev = (f"c{i}",)
    lin = lineage(load_run(tmp_path / "chain.db"))
    assert lin is not None and lin.truncated and len(lin.chain) == MAX_NODES
    assert lin.chain[0].id == f"c{MAX_NODES + 19}"
    assert "Only the nearest 80 ancestors are drawn" in build_report(tmp_path / "chain.db").read_text()


def test_a_section_that_fails_says_why_and_the_rest_is_written(evo: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from opto.report import build, plots

    def broken(*args: object, **kw: object) -> None:
        raise RuntimeError("chart exploded")

    monkeypatch.setattr(plots, "operator_chart", broken)
    monkeypatch.setattr(build, "_scores", lambda run, folder: {"images": [], "islands": [], "note": "skipped"})
    html = build_report(evo, tmp_path / "r.html").read_text()
    assert "this section could not be made (RuntimeError: chart exploded)" in _section(html, "operators")
    assert "data:image/png" in _section(html, "failures")


def test_bad_inputs_get_one_clear_error(tmp_path: Path, evo: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="damaged or is not an SQLite database"):
        build_report(junk)
    (tmp_path / "new.db").touch()  # a run file its writer has only just created
    with pytest.raises(StoreError, match="no run in it yet"):
        build_report(tmp_path / "new.db")
    with pytest.raises(ValueError, match="ending in .html"):
        build_report(evo, tmp_path / "report.pdf")
    (tmp_path / "taken_files").write_text("not a folder")
    with pytest.raises(ValueError, match="is a file, but the report keeps its pictures there"):
        build_report(evo, tmp_path / "taken.html")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        build_report(evo, tmp_path / "nowhere" / "r.html")


def test_cli_writes_the_report_and_reports_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli.html"
    assert cli.main(["report", str(tmp_path / "missing.db"), "-o", str(out)]) == 2
    assert "no run store at" in capsys.readouterr().err
    RunStore.open(tmp_path / "small.db", {"kind": "evolution"}).close()
    assert cli.main(["report", str(tmp_path / "small.db"), "-o", str(out)]) == 0
    assert out.exists() and str(out) in capsys.readouterr().out
    junk = tmp_path / "junk.db"
    junk.write_text("x" * 200)
    assert cli.main(["report", str(junk)]) == 2
    assert "opto report:" in capsys.readouterr().err


def test_many_steps_fold_after_the_first_ones(tmp_path: Path) -> None:
    from opto.report.build import OPEN_STEPS

    with RunStore.open(tmp_path / "steps.db", {"kind": "training"}) as s:
        for i in range(OPEN_STEPS + 5):
            s.add_event("step", {"step": i + 1, "epoch": 0, "applied": {"p": f"v{i}"}, "rejected": [], "score": i})
    steps = _section(build_report(tmp_path / "steps.db").read_text(), "steps")
    assert steps.count('class="step"') == OPEN_STEPS + 5
    folded = steps[steps.index('<details class="more">'):]
    assert "5 more steps" in folded and folded.count('class="step"') == 5


def test_outlier_scores_do_not_flatten_the_score_chart() -> None:
    from opto.report.plots import score_floor
    from opto.report.timeline import Curves, Point, running_best

    def curve(scores: list[float]) -> Curves:
        pts = [Point(i + 1, 0, float(i), s, f"c{i}", None) for i, s in enumerate(scores)]
        return Curves(pts, running_best(pts), {}, None)

    normal = [-5.0, -4.9, -5.2, -4.5, -4.8, -4.0, -4.4, -3.9, -4.1, -3.5, -3.7, -3.2]
    assert score_floor(curve(normal)) is None  # everything fits
    floor = score_floor(curve(normal + [-150.0, -1e6]))
    assert floor is not None and -10 < floor <= -5.2  # the start and the bulk stay on the chart
