"""Build the static HTML report of a run store: one file, pictures embedded, plus their PNG/SVG files.

    from opto.report import build_report
    build_report("runs/exp1.db")                     # -> runs/exp1.html and runs/exp1_files/
    build_report("runs/exp1.db", "out/report.html")  # -> out/report.html and out/report_files/

A section with nothing to show says so in a line; a section that fails to draw says why and the
rest of the report is still written (a run being written can hold anything half-way).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2

from opto.report import plots
from opto.report.data import RunData, load_run
from opto.report.graphs import draw, summary_dot
from opto.report.lineage import diffs, lineage, lineage_digraph
from opto.report.stats import failure_table, gate_table, heldout_table, operator_table, pareto_table
from opto.report.timeline import call_tokens, curves
from opto.report.usage import usage_table

log = logging.getLogger(__name__)

MAX_STEP_GRAPHS = 40  # trace graphs drawn for the first steps only: a long run would make a huge page
STEP_GRAPH_SECONDS = 120.0  # time for drawing all steps' trace graphs; later ones get a note instead
OPEN_STEPS = 20  # steps shown open; the rest are folded into one <details>
TEXT_LIMIT = 20_000  # characters of a prompt or reply shown per step
_OWN_SUFFIXES = (".png", ".svg", ".dot")


def default_out_path(store_path: Path) -> Path:
    return store_path.with_suffix(".html")


def build_report(store_path: str | Path, out_path: str | Path | None = None) -> Path:
    """Write the report of the run at ``store_path``; returns the HTML file's path.

    The store is only read (opened read-only, no writer lock), so this works on a run that another
    process is still writing. Charts and graphs also go, as PNG/SVG, into ``<report name>_files/``.
    """
    store_path = Path(store_path)
    out = Path(out_path) if out_path is not None else default_out_path(store_path)
    if out.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"the report is an HTML file; give an output path ending in .html, got {out}")
    if not out.parent.is_dir():
        raise FileNotFoundError(f"the folder {out.parent} does not exist; create it or pick another output path")
    run = load_run(store_path)
    folder = out.with_name(f"{out.stem}_files")
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder} is a file, but the report keeps its pictures there; move it or pick "
                         "another output name")
    if folder.is_dir():  # pictures of an earlier report of the same name: ours to replace
        for f in folder.iterdir():
            if f.is_file() and f.suffix in _OWN_SUFFIXES:
                f.unlink()
    context = report_context(run, folder)
    out.write_text(_environment().get_template("report.html.j2").render(**context), encoding="utf-8")
    return out


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("opto.report", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = fmt_number
    env.filters["seconds"] = fmt_seconds
    env.filters["usd"] = fmt_usd
    env.filters["short"] = lambda s, n=12: str(s)[:n]
    return env


def fmt_number(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return "—" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1e4 else f"{value:.4g}"
    return str(value)


def fmt_usd(value: float | None) -> str:
    if value is None:
        return "—"
    return f"${value:,.4f}" if value < 100 else f"${value:,.2f}"


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 120:
        return f"{value:.1f} s"
    if value < 7200:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


def _guarded(name: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """One section's content, or the reason it could not be made (logged; the report goes on)."""
    try:
        return {"error": None, **fn()}
    except Exception as err:  # noqa: BLE001 - one broken section must not cost the whole report
        log.warning("report section %s failed: %s: %s", name, type(err).__name__, err, exc_info=True)
        return {"error": f"this section could not be made ({type(err).__name__}: {err})"}


def report_context(run: RunData, folder: Path) -> dict[str, Any]:
    sections = {
        "scores": _guarded("scores", lambda: _scores(run, folder)),
        "lineage": _guarded("lineage", lambda: _lineage(run, folder)),
        "operators": _guarded("operators", lambda: _operators(run, folder)),
        "failures": _guarded("failures", lambda: _failures(run, folder)),
        "usage": _guarded("usage", lambda: _usage(run, folder)),
        "heldout": _guarded("heldout", lambda: _heldout(run, folder)),
    }
    if run.events_of("pareto"):
        sections["pareto"] = _guarded("pareto", lambda: _pareto(run, folder))
    if run.kind == "training" or run.events_of("step"):
        sections["steps"] = _guarded("steps", lambda: _steps(run, folder))
    return {"run": _summary(run), "s": sections, "folder": folder.name, "open_steps": OPEN_STEPS,
            "generated": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def _summary(run: RunData) -> dict[str, Any]:
    info = run.info
    scores = [e.score for e in run.evaluations if e.selection and e.score is not None]
    last = max([e.created_at for e in run.evaluations] + [c.created_at for c in run.llm_calls], default=None)
    tokens = sum(call_tokens(c) for c in run.llm_calls)
    _, total = usage_table(run)
    return {
        "path": str(run.path.resolve()), "name": run.path.name, "run_id": info.run_id, "kind": run.kind,
        "created": dt.datetime.fromtimestamp(info.created_at, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "seed": info.seed, "forked_from": info.forked_from,
        "config": json.dumps(info.config, indent=2, sort_keys=True, default=str),
        "code_version": ", ".join(f"{k} {v}" for k, v in info.code_version.items() if v),
        "candidates": len(run.candidates), "evaluations": run.evaluations[-1].seq if run.evaluations else 0,
        "failed": sum(not e.ok for e in run.evaluations), "llm_calls": len(run.llm_calls), "tokens": tokens,
        "cost": total.cost_usd if total and total.unpriced < total.calls else None,
        "unpriced": total.unpriced if total else 0,
        "best": max(scores) if scores else None,
        "wall": (last - run.start_time) if last is not None else None,
        "pending": run.status.get("pending", 0), "in_flight": run.status.get("in_flight", 0),
        "stopped": run.stopped,
    }


def _scores(run: RunData, folder: Path) -> dict[str, Any]:
    c = curves(run)
    if c.empty:
        return {"images": [], "islands": [], "note": "No successful evaluation yet: no score to plot."}
    axes = ["evaluations", "tokens", "seconds"]
    note = ""
    if c.end is not None and c.end.tokens == 0:
        axes.remove("tokens")
        note = "No LLM tokens were recorded, so there is no score-over-tokens chart."
    images = [plots.score_curve(c, axis, folder) for axis in axes]
    best = c.best[-1]
    return {"images": images, "note": note, "islands": sorted(c.islands), "points": len(c.points),
            "best": {"score": best.score, "candidate_id": best.candidate_id, "evaluations": best.evaluations,
                     "tokens": best.tokens, "seconds": best.seconds}}


def _lineage(run: RunData, folder: Path) -> dict[str, Any]:
    lin = lineage(run)
    if lin is None:
        return {"lin": None, "note": "No candidate has a score yet."}
    picture = draw(lineage_digraph(lin).source, "lineage", "Lineage of the best candidate", folder)
    chain = [{"id": c.id, "operator": c.operator or "", "generation": c.generation, "island": c.island,
              "score": lin.scores.get(c.id), "thought": str(c.meta.get("thought", "")) if c.meta else "",
              "best": c.id == lin.best.id, "start": c.id == lin.start.id} for c in lin.chain]
    return {"lin": lin, "image": picture if isinstance(picture, plots.Image) else None,
            "graph_note": picture if isinstance(picture, str) else "", "chain": chain,
            "diffs": diffs(lin.start, lin.best) if lin.start.id != lin.best.id else [], "note": ""}


def _operators(run: RunData, folder: Path) -> dict[str, Any]:
    rows, source = operator_table(run)
    gates = gate_table(run)
    chart = plots.operator_chart(rows, folder) if any(r.operator != "seed" for r in rows) else None
    return {"rows": rows, "source": source, "gates": gates, "chart": chart}


def _failures(run: RunData, folder: Path) -> dict[str, Any]:
    rows = failure_table(run)
    return {"rows": rows, "chart": plots.failure_chart(rows, folder) if rows else None}


def _usage(run: RunData, folder: Path) -> dict[str, Any]:
    rows, total = usage_table(run)
    chart = None
    if run.llm_calls and total is not None and total.tokens > 0:
        t0 = run.start_time
        ordered = sorted(run.llm_calls, key=lambda c: c.created_at)
        times, prompt, completion = [0.0], [0], [0]
        for call in ordered:
            times.append(max(call.created_at - t0, 0.0))
            prompt.append(prompt[-1] + int(call.prompt_tokens or 0))
            completion.append(completion[-1] + int(call.completion_tokens or 0))
        end = max([times[-1]] + [e.created_at - t0 for e in run.evaluations])
        times.append(end if end > times[-1] else times[-1] * 1.02 + 1e-3)  # the last step gets a width
        prompt.append(prompt[-1])
        completion.append(completion[-1])
        chart = plots.tokens_chart(times, prompt, completion, folder)
    return {"rows": rows, "total": total, "chart": chart}


def _heldout(run: RunData, folder: Path) -> dict[str, Any]:
    rows = heldout_table(run)
    both = [r for r in rows if r.gap is not None]
    return {"rows": rows, "chart": plots.heldout_chart(rows, folder) if both else None}


def _pareto(run: RunData, folder: Path) -> dict[str, Any]:
    objectives, rows = pareto_table(run)
    chart = None
    if len(objectives) >= 2:
        a, b = objectives[:2]

        def pair(scores: dict[str, Any]) -> tuple[float, float] | None:
            x, y = scores.get(a), scores.get(b)
            if isinstance(x, (int, float)) and isinstance(y, (int, float)) and math.isfinite(x) and math.isfinite(y):
                return float(x), float(y)
            return None

        cloud = [p for e in run.evaluations if e.selection and (p := pair(e.scores)) is not None]
        front = [p for _, scores in rows if (p := pair(scores)) is not None]
        if front:
            chart = plots.pareto_chart(objectives, cloud, front, folder)
    return {"objectives": objectives, "rows": rows, "chart": chart}


def _text(value: Any, limit: int = TEXT_LIMIT) -> str:
    text = value if isinstance(value, str) else json.dumps(value, indent=2, default=str)
    return text if len(text) <= limit else text[:limit] + f"\n… ({len(text) - limit:,} more characters)"


def _steps(run: RunData, folder: Path) -> dict[str, Any]:
    steps = []
    drawn = 0
    start = time.monotonic()
    for n, e in enumerate(run.events_of("step")):
        d = e.data
        applied: dict[str, Any] = d["applied"] if isinstance(d.get("applied"), dict) else {}
        rejected = [r for r in d.get("rejected") or [] if isinstance(r, dict)]
        graph: plots.Image | str | None = None
        source: str | None = None
        if isinstance(d.get("graph_dot"), str) and d["graph_dot"].strip():
            source = d["graph_dot"]
        elif d.get("graph") is not None:
            try:
                source = summary_dot(d["graph"])
            except ValueError as err:
                graph = f"not drawn: {err}"
        if source is not None:
            left = STEP_GRAPH_SECONDS - (time.monotonic() - start)
            if drawn >= MAX_STEP_GRAPHS:
                graph = f"not drawn: only the first {MAX_STEP_GRAPHS} steps' graphs are drawn (the graph is in the store)"
            elif left <= 0:
                graph = (f"not drawn: drawing the earlier steps' graphs took the {STEP_GRAPH_SECONDS:g} s the report "
                         "gives them (the graph is in the store)")
            else:
                graph = draw(source, f"step_{n:04d}", f"Trace graph of step {d.get('step', n)}", folder,
                             timeout=min(60.0, left))
                drawn += 1
        if (isinstance(graph, plots.Image) and isinstance(d.get("graph"), dict) and d["graph"].get("truncated")):
            total = d["graph"].get("total_nodes")
            graph_note = f"only the {len(d['graph'].get('nodes') or [])} nodes nearest the output of {total} are shown"
        else:
            graph_note = graph if isinstance(graph, str) else ""
        score = d.get("score")
        steps.append({
            "step": d.get("step", n), "epoch": d.get("epoch"), "candidate_id": d.get("candidate_id"),
            "score": score if isinstance(score, (int, float)) else None,
            "applied": {str(k): _text(v, 4000) for k, v in applied.items()},
            "rejected": [{"param": str(r.get("param", "")), "reason": str(r.get("reason", ""))} for r in rejected],
            "note": str(d.get("note") or ""), "prompt": _text(d.get("prompt") or ""),
            "reply": _text(d.get("reply") or ""),
            "image": graph if isinstance(graph, plots.Image) else None,
            "graph_note": graph_note,
        })
    series = [(int(s["step"]) if isinstance(s["step"], int) else i, s["score"], bool(s["applied"]))
              for i, s in enumerate(steps)]
    chart = plots.step_chart(series, folder) if any(v is not None for _, v, _ in series) else None
    return {"steps": steps, "chart": chart, "applied": sum(bool(s["applied"]) for s in steps),
            "with_graph": sum(1 for s in steps if s["image"] is not None)}
