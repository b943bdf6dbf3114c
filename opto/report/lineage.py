"""The best candidate, where it came from (its ancestors back to a starting candidate), and what changed.

"Best" is the highest selection score (held-out and cascade evaluations excluded); the start it is
compared with is its oldest ancestor without parents, or the run's first candidate when the best
has no recorded ancestry.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import re
from collections import deque
from typing import Any

import graphviz

from opto.records import Candidate
from opto.report.data import RunData

_NEXT_CELL = re.compile(r'<t[dh] class="diff_next"[^>]*>.*?</t[dh]>', re.S)
_LAYOUT = re.compile(r'<colgroup></colgroup>\s*| (?:cellspacing|cellpadding|rules)="[^"]*"')
MAX_NODES = 80  # a lineage drawn beyond this is unreadable; the nearest ancestors are kept


@dataclasses.dataclass(frozen=True)
class Lineage:
    best: Candidate
    best_score: float
    start: Candidate
    chain: list[Candidate]  # best and its ancestors, nearest first (breadth-first), at most MAX_NODES
    scores: dict[str, float]  # best selection score of each candidate that has one
    truncated: bool


def selection_scores(run: RunData) -> dict[str, float]:
    scores: dict[str, float] = {}
    for e in run.evaluations:
        if e.selection and e.score is not None:
            scores[e.candidate_id] = max(scores.get(e.candidate_id, -math.inf), float(e.score))
    return scores


def lineage(run: RunData) -> Lineage | None:
    """None when no candidate has a selection score yet."""
    scores = selection_scores(run)
    known = [cid for cid in run.candidates if cid in scores]
    if not known:
        return None
    best_id = max(known, key=lambda cid: scores[cid])  # max() keeps the first of equal scores
    order = {cid: i for i, cid in enumerate(run.candidates)}
    chain: list[Candidate] = []
    seen = {best_id}
    queue = deque([best_id])
    truncated = False
    while queue:
        cid = queue.popleft()
        if len(chain) >= MAX_NODES:
            truncated = True
            break
        cand = run.candidates[cid]
        chain.append(cand)
        for pid in cand.parent_ids:
            if pid in run.candidates and pid not in seen:
                seen.add(pid)
                queue.append(pid)
    best = run.candidates[best_id]
    roots = [c for c in chain if not any(p in run.candidates for p in c.parent_ids)]
    start = min(roots, key=lambda c: order[c.id]) if len(chain) > 1 and roots else next(iter(run.candidates.values()))
    return Lineage(best, scores[best_id], start, chain, scores, truncated)


def _dot_text(text: str, limit: int = 60) -> str:
    text = " ".join(str(text).split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("\\", "\\\\")


def lineage_digraph(lin: Lineage) -> graphviz.Digraph:
    """Ancestors above, the best at the bottom; each box: operator, score, id, generation/island."""
    g = graphviz.Digraph("lineage", graph_attr={"rankdir": "TB", "nodesep": "0.25", "ranksep": "0.35",
                                                "bgcolor": "transparent", "fontname": "Helvetica"},
                         node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica",
                                    "fontsize": "10", "fillcolor": "#F3F5F8", "color": "#8A94A6"},
                         edge_attr={"color": "#8A94A6", "arrowsize": "0.6"})
    ids = {c.id for c in lin.chain}
    for c in lin.chain:
        score = lin.scores.get(c.id)
        where = f"gen {c.generation}" + (f" · island {c.island}" if c.island is not None else "")
        label = "\\n".join([_dot_text(c.operator or "?"), "score " + (f"{score:.4g}" if score is not None else "—"),
                            f"{c.id[:8]} · {where}"])
        attrs: dict[str, str] = {}
        if c.id == lin.best.id:
            attrs = {"fillcolor": "#DDF2E0", "color": "#2E8B57", "penwidth": "2"}
        elif c.id == lin.start.id:
            attrs = {"fillcolor": "#E3EEFA", "color": "#4A7EBB"}
        g.node(c.id, label, **attrs)
        for p in c.parent_ids:
            if p in ids:
                g.edge(p, c.id)
    return g


def _lines(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.splitlines() or [""]
    return json.dumps(value, indent=2, sort_keys=True, default=str).splitlines()


@dataclasses.dataclass(frozen=True)
class ParamDiff:
    name: str
    changed: bool
    table: str  # difflib's HTML table ("" when unchanged)


def diffs(start: Candidate, best: Candidate) -> list[ParamDiff]:
    """One HTML side-by-side diff per parameter (context lines only around changes)."""
    maker = difflib.HtmlDiff(tabsize=4, wrapcolumn=62)  # two columns of ~62 monospace characters fit the page
    out = []
    for name in list(dict.fromkeys([*start.values, *best.values])):
        a, b = start.values.get(name, ""), best.values.get(name, "")
        if a == b:
            out.append(ParamDiff(name, False, ""))
            continue
        table = maker.make_table(_lines(a), _lines(b), "start", "best", context=True, numlines=3)
        table = _NEXT_CELL.sub("", table)  # difflib's "next change" link column: noise in a report
        table = _LAYOUT.sub("", table)  # its colgroup rules and spacing: the stylesheet lays it out
        out.append(ParamDiff(name, True, table))
    return out
