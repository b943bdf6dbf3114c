"""The report's charts, drawn with matplotlib's object API on the Agg renderer (no pyplot state, no display).

Each chart is written as PNG and SVG into the report's files folder (for slides and papers) and
its PNG is embedded in the page.
"""

from __future__ import annotations

import base64
import dataclasses
import io
from collections.abc import Callable, Sequence
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from opto.report.stats import FailureRow, HeldoutRow, OperatorRow
from opto.report.timeline import Curves, Point

INK, MUTED, GRID = "#1F2937", "#9CA3AF", "#E5E7EB"
BEST, ACCENT, BAD = "#2563EB", "#10B981", "#DC2626"
MAX_MARKS = 40  # island resets / migrations drawn as vertical lines on the score charts
ISLANDS = ["#F59E0B", "#8B5CF6", "#EC4899", "#14B8A6", "#F97316", "#6366F1", "#84CC16", "#06B6D4"]


@dataclasses.dataclass(frozen=True)
class Image:
    """A picture in the page: embedded bytes plus the files written next to the report."""

    name: str
    title: str
    mime: str
    data: bytes
    files: tuple[Path, ...] = ()

    @property
    def data_uri(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"


def _figure(width: float = 7.2, height: float = 3.6) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    ax.spines[["left", "bottom"]].set_color(MUTED)
    ax.tick_params(colors=INK, labelsize=9)
    ax.grid(True, color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    return fig, ax


def save(fig: Figure, name: str, title: str, folder: Path) -> Image:
    """Write ``name``.png and ``name``.svg into folder; embed the PNG."""
    folder.mkdir(parents=True, exist_ok=True)
    fig.tight_layout(pad=0.6)  # once, for both formats (a layout engine would redo it per save)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", facecolor="white")
    png, svg = folder / f"{name}.png", folder / f"{name}.svg"
    png.write_bytes(buf.getvalue())
    fig.savefig(svg, format="svg", facecolor="white")
    return Image(name, title, "image/png", buf.getvalue(), (png, svg))


_AXES: dict[str, tuple[str, Callable[[Point], float]]] = {
    "evaluations": ("evaluations so far", lambda p: p.evaluations),
    "tokens": ("LLM tokens so far (prompt + completion)", lambda p: p.tokens),
    "seconds": ("wall time (s)", lambda p: p.seconds),
}


def score_curve(curves: Curves, axis: str, folder: Path) -> Image:
    """Every selection score (dots), the best so far (thick step line) and each island's best."""
    label, x = _AXES[axis]
    fig, ax = _figure(9.6, 3.8) if axis == "evaluations" else _figure(5.6, 3.4)
    floor = score_floor(curves)
    shown = [p for p in curves.points if floor is None or p.score >= floor]
    ax.scatter([x(p) for p in shown], [p.score for p in shown], s=16, color="#6B7280",
               alpha=0.55, linewidths=0, label="evaluation", zorder=4)
    if floor is not None:  # a few very bad scores would squash the curve into a line: show them at the edge
        top = max(p.score for p in curves.points)
        pad = (top - floor) * 0.06 or 0.5
        low = [p for p in curves.points if p.score < floor]
        ax.scatter([x(p) for p in low], [floor - pad] * len(low), marker="v", s=18, color=BAD, alpha=0.5,
                   linewidths=0, label=f"{len(low)} below {floor:.3g}", zorder=4)
        ax.set_ylim(floor - 1.6 * pad, top + pad)
    for n, (island, pts) in enumerate(sorted(curves.islands.items())):
        _steps(ax, pts, x, curves.end, ISLANDS[n % len(ISLANDS)], 1.2, f"island {island}")
    _steps(ax, curves.best, x, curves.end, BEST, 2.4, "best so far")
    labelled: set[str] = set()
    if len(curves.marks) <= MAX_MARKS:  # more would hide the curves
        for kind, point in curves.marks:
            ax.axvline(x(point), color="#A1A1AA", linestyle=":" if kind == "migration" else "--", linewidth=0.9,
                       zorder=1, label=None if kind in labelled else kind)
            labelled.add(kind)
    ax.set_xlim(left=0)  # every clock starts at zero: a short run is not stretched across the chart
    ax.set_xlabel(label, color=INK, fontsize=10)
    ax.set_ylabel("score (higher is better)", color=INK, fontsize=10)
    if axis == "evaluations":
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    entries = 2 + len(curves.islands) + len(labelled)  # rows above the plot: they never hide the points
    ax.legend(frameon=False, fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.0),
              ncols=min(entries, 8 if axis == "evaluations" else 3), handlelength=1.6, columnspacing=1.2,
              borderaxespad=0.2)
    return save(fig, f"score_vs_{axis}", f"Score over {label.split(' (')[0]}", folder)


def score_floor(curves: Curves) -> float | None:
    """The lowest score worth a chart's room, or None when every score fits.

    Scores far below the bulk (Tukey's far-out fence: 3 interquartile ranges under the lower
    quartile) and below the starting best are outliers: a broken child scoring -1e6 would
    otherwise flatten everything else into one line.
    """
    if len(curves.points) < 10 or not curves.best:
        return None
    scores = sorted(p.score for p in curves.points)
    q1, q3 = scores[len(scores) // 4], scores[(3 * len(scores)) // 4]
    fence = q1 - 3 * max(q3 - q1, 1e-9 * max(abs(q1), 1.0))
    floor = min(curves.best[0].score, fence)
    return floor if scores[0] < floor else None


def _steps(ax: Axes, pts: Sequence[Point], x: Callable[[Point], float], end: Point | None, color: str,
           width: float, label: str) -> None:
    if not pts:
        return
    xs = [x(p) for p in pts]
    ys = [p.score for p in pts]
    if end is not None and x(end) > xs[-1]:
        xs.append(x(end))
        ys.append(ys[-1])
    ax.step(xs, ys, where="post", color=color, linewidth=width, label=label, zorder=3)


def operator_chart(rows: Sequence[OperatorRow], folder: Path) -> Image:
    names = [r.operator for r in rows][::-1]
    fig, ax = _figure(7.2, 0.9 + 0.42 * len(rows))
    y = range(len(names))
    series = [("proposals", [r.proposals for r in rows][::-1], MUTED),
              ("valid", [r.valid for r in rows][::-1], BEST),
              ("improved", [r.improved for r in rows][::-1], ACCENT)]
    h = 0.26
    for i, (label, values, color) in enumerate(series):
        ax.barh([v + (1 - i) * h for v in y], values, height=h, color=color, label=label)
    ax.set_yticks(list(y), names)
    ax.set_xlabel("children", color=INK, fontsize=10)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(frameon=False, fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3, borderaxespad=0.2)
    return save(fig, "operators", "Children per operator", folder)


def failure_chart(rows: Sequence[FailureRow], folder: Path) -> Image:
    rows = list(rows)[::-1]
    fig, ax = _figure(7.2, 0.9 + 0.36 * len(rows))
    labels = [f"{r.reason} ({'evaluation' if r.source == 'evaluation' else 'rejected'})" for r in rows]
    ax.barh(range(len(rows)), [r.count for r in rows],
            color=[BAD if r.source == "evaluation" else "#F59E0B" for r in rows], height=0.6)
    ax.set_yticks(range(len(rows)), labels)
    ax.set_xlabel("count", color=INK, fontsize=10)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return save(fig, "failures", "Failures by reason", folder)


def heldout_chart(rows: Sequence[HeldoutRow], folder: Path) -> Image:
    pairs = [(r.selection_score, r.heldout_score) for r in rows
             if r.selection_score is not None and r.heldout_score is not None]
    fig, ax = _figure(4.8, 4.0)
    xs, ys = [a for a, _ in pairs], [b for _, b in pairs]
    lo, hi = min(xs + ys), max(xs + ys)
    pad = (hi - lo) * 0.08 or 0.5
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color=MUTED, linestyle="--", linewidth=1,
            label="held-out = selection")
    ax.scatter(xs, ys, color=BEST, s=36, zorder=3, label="candidate")
    for r in rows:
        if r.selection_score is not None and r.heldout_score is not None:
            ax.annotate(r.candidate_id[:8], (r.selection_score, r.heldout_score), xytext=(5, 4),
                        textcoords="offset points", fontsize=7, color=INK)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("selection score", color=INK, fontsize=10)
    ax.set_ylabel("held-out score", color=INK, fontsize=10)
    ax.legend(frameon=False, fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2, borderaxespad=0.2)
    return save(fig, "heldout", "Selection vs held-out score", folder)


def step_chart(steps: Sequence[tuple[int, float | None, bool]], folder: Path) -> Image:
    """Training: the minibatch score of each step; filled where something was applied."""
    fig, ax = _figure(7.2, 3.0)
    scored = [(s, v, a) for s, v, a in steps if v is not None]
    ax.plot([s for s, _, _ in scored], [v for _, v, _ in scored], color=MUTED, linewidth=1, zorder=2)
    for applied, color, label in ((True, ACCENT, "update applied"), (False, BAD, "nothing applied")):
        pts = [(s, v) for s, v, a in scored if a is applied]
        if pts:
            ax.scatter([s for s, _ in pts], [v for _, v in pts], color=color, s=28, zorder=3, label=label)
    ax.set_xlabel("step", color=INK, fontsize=10)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("minibatch score", color=INK, fontsize=10)
    if scored:
        ax.set_xlim(min(s for s, _, _ in scored) - 0.5, max(s for s, _, _ in scored) + 0.5)
    ax.legend(frameon=False, fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2, borderaxespad=0.2)
    return save(fig, "steps", "Score per training step", folder)


def tokens_chart(times: Sequence[float], prompt: Sequence[int], completion: Sequence[int], folder: Path) -> Image:
    """Cumulative prompt and completion tokens over wall time."""
    fig, ax = _figure(7.2, 3.0)
    ax.stackplot(times, prompt, completion, labels=["prompt", "completion"], colors=[BEST, ACCENT], alpha=0.75,
                 step="post")
    ax.set_xlabel("wall time (s)", color=INK, fontsize=10)
    ax.set_ylabel("tokens so far", color=INK, fontsize=10)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return save(fig, "llm_tokens", "LLM tokens over time", folder)


def pareto_chart(objectives: Sequence[str], cloud: Sequence[tuple[float, float]],
                 front: Sequence[tuple[float, float]], folder: Path) -> Image:
    """All evaluated candidates on the first two objectives, the front highlighted (both maximized)."""
    fig, ax = _figure(5.6, 4.0)
    ax.scatter([a for a, _ in cloud], [b for _, b in cloud], s=14, color="#6B7280", alpha=0.5, linewidths=0,
               label="candidate")
    pts = sorted(front)  # left to right: the edge of what the front dominates steps down
    ax.step([a for a, _ in pts], [b for _, b in pts], where="post", color=BEST, linewidth=1.2, alpha=0.6)
    ax.scatter([a for a, _ in pts], [b for _, b in pts], s=36, color=BEST, zorder=3, label="Pareto front")
    ax.set_xlabel(f"{objectives[0]} (higher is better)", color=INK, fontsize=10)
    ax.set_ylabel(f"{objectives[1]} (higher is better)", color=INK, fontsize=10)
    ax.legend(frameon=False, fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2, borderaxespad=0.2)
    return save(fig, "pareto", "Pareto front", folder)
