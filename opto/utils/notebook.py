"""``render_opt_step``: one optimizer step as an HTML card (trace graph, feedback, reasoning, improvement).

trace-opt's tutorials call ``opto.trace.utils.render_opt_step(i, optimizer)`` in notebooks. It reads
``optimizer.log[i]`` and ``optimizer.summary_log[i]``. Shown with IPython when it is installed; without
IPython it prints the same parts as text and returns the HTML (trace-opt raised ImportError there).
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

_MASKED = ("#Feedback", "#Others", "#Instruction")


def _reply_parts(entry: dict[str, Any]) -> tuple[str, str]:
    """(reasoning, improvement text) from a log entry: opto's parsed fields, else the raw JSON reply."""
    reasoning = entry.get("reasoning")
    suggestion = entry.get("proposed")
    answer = entry.get("answer")
    if reasoning is None and suggestion is None:
        try:
            reply = json.loads(entry.get("response") or "")
        except (TypeError, ValueError):
            reply = {}
        reply = reply if isinstance(reply, dict) else {}
        reasoning, suggestion, answer = reply.get("reasoning", ""), reply.get("suggestion"), reply.get("answer")
    if suggestion:
        improvement = "".join(f"{name}:\n\n{value}\n\n" for name, value in suggestion.items())
    elif answer not in (None, ""):
        improvement = str(answer)
    elif entry.get("rejected"):
        improvement = "<no change: " + "; ".join(str(r.get("reason")) for r in entry["rejected"]) + ">"
    else:
        improvement = "<ERROR> NULL/INVALID RESPONSE"
    return str(reasoning or ""), improvement


def _card(label: str, sub: str, body: str, colour: str, border: str, pre: bool = False) -> str:
    inner = f"<pre style='margin:0;white-space:pre-wrap'>{html.escape(body)}</pre>" if pre else html.escape(body)
    return (f"<div style='display:flex;margin-bottom:10px'><div style='flex-grow:1;background:{colour};"
            f"border:2px solid {border};padding:10px;border-radius:5px'><b>{label}</b> {inner}</div>"
            f"<div style='width:40px;text-align:center;font-size:24px;color:{border}'>{sub}</div></div>")


def render_opt_step(step_idx: int, optimizer: Any, no_trace_graph: bool = False,
                    no_improvement: bool = False) -> str | None:
    """Show step ``step_idx`` of ``optimizer`` with IPython (None, as trace-opt); without it, print text, return HTML."""
    log = getattr(optimizer, "log", None) or []
    summaries = getattr(optimizer, "summary_log", None) or []
    if not -len(log) <= step_idx < len(log) or not -len(summaries) <= step_idx < len(summaries):
        raise IndexError(f"step {step_idx} is not in the optimizer's log ({len(log)} step(s) logged); "
                         "render a step after optimizer.step() ran with log=True")
    reasoning, improvement = _reply_parts(log[step_idx])
    record = summaries[step_idx]
    feedback = getattr(record["problem_instance"], "feedback", "")
    graph = str(optimizer.problem_instance(record["summary"], mask=list(_MASKED)))
    graph = graph.replace("#Feedback:", "#Feedback")
    for title in _MASKED:
        graph = graph.replace(title + "\n", "")
    graph = re.sub(r"\n\s*\n", "\n\n", graph)
    idx = step_idx if step_idx >= 0 else len(log) + step_idx
    parts = ["<div style='font-family:Arial,sans-serif;max-width:600px;margin-bottom:10px'>"]
    if not no_trace_graph:
        parts.append(_card("Trace Graph", f"g<sub>{idx}</sub>", graph, "#E0E0E0", "#9E9E9E", pre=True))
    parts.append(_card("Feedback:", f"f<sub>{idx}</sub>", feedback, "#FFB3BA", "#FF6B6B"))
    parts.append(_card("Reasoning:", f"r<sub>{idx + 1}</sub>", reasoning, "#BAFFC9", "#4CAF50"))
    if not no_improvement:
        parts.append(_card("Improvement", f"a<sub>{idx + 1}</sub>", improvement, "white", "#4D9DE0", pre=True))
    parts.append("</div>")
    page = "\n".join(parts)
    try:
        from IPython.display import HTML, display  # type: ignore[import-not-found]
    except ImportError:  # a plain script: the same four parts as text
        text = [] if no_trace_graph else [f"Trace Graph g{idx}:\n{graph}"]
        text += [f"Feedback f{idx}: {feedback}", f"Reasoning r{idx + 1}: {reasoning}"]
        text += [] if no_improvement else [f"Improvement a{idx + 1}:\n{improvement}"]
        print("\n\n".join(text))
        return page
    display(HTML(page))
    return None
