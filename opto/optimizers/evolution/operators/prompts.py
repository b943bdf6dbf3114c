"""Prompt texts of the LLM operators, kept as data so they can be reviewed, diffed and replaced.

Each template is a ``str.format`` string; the operator modules only fill the fields. The wording
is ours; the strategies follow EoH (E1/E2/M1/M2/M3), FunSearch (best-shot prompting),
diff-based editing (SEARCH/REPLACE blocks) and Instruction Fusion (prompt crossover).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

SYSTEM = (
    "You design and improve Python heuristics. You answer with exactly what is asked: "
    "a one-sentence idea in braces, then one Python code block."
)

TASK = "Task: {task}\n"

# How an EoH-style reply must look; the parser also accepts JSON {"thought": ..., "code": ...}.
ANSWER_FORMAT = (
    "First write your idea as ONE sentence inside braces, like {{The idea is ...}}.\n"
    "Then write the complete Python function `{function}{signature}` in one ```python code block. "
    "Keep the same name and arguments; import what you use inside the block; no explanations after the code."
)

PARENT = "Version {index} (score {score}):\nIdea: {thought}\n```python\n{code}\n```\n{feedback}"

EOH: dict[str, str] = {
    "E1": (
        "Here are {k} existing versions of the function:\n\n{parents}\n"
        "Invent a NEW approach whose idea is clearly different from all of the versions above.\n"
    ),
    "E2": (
        "Here are {k} existing versions of the function:\n\n{parents}\n"
        "Find the idea these versions have in common, then write a new version built on that shared "
        "idea but different in form from each of them.\n"
    ),
    "M1": (
        "Here is the current version of the function:\n\n{parents}\n"
        "Write a modified version that changes how it works to improve its score.\n"
    ),
    "M2": (
        "Here is the current version of the function:\n\n{parents}\n"
        "Identify the main numeric parameters and constants it uses and write a version with different, "
        "better values for them; keep the structure.\n"
    ),
    "M3": (
        "Here is the current version of the function:\n\n{parents}\n"
        "Write a simpler version: remove parts that do not help the score and keep what matters.\n"
    ),
}

FUNSEARCH = (
    "Below are versions of `{function}`, from worst to best score. Each one improves on the previous.\n\n"
    "{versions}\n"
    "Write the next version, `{next_name}{signature}`, which should score better than all of the above. "
    "Answer with one ```python code block containing only that function."
)

FUNSEARCH_VERSION = "# score: {score}\n{code}\n"

DIFF = (
    "Here is the current program (score {score}):\n```python\n{code}\n```\n{feedback}\n"
    "Improve it by editing it. Give one idea as ONE sentence inside braces, then one or more edit blocks "
    "exactly in this format:\n"
    "<<<<<<< SEARCH\n(lines copied exactly from the program)\n=======\n(the new lines)\n>>>>>>> REPLACE\n"
    "The SEARCH part must match lines of the current program. Change only what the idea needs."
)

FUSION = (
    "Here are two instructions that were used for the same task:\n\n"
    "Instruction A (score {score_a}):\n<instruction>\n{text_a}\n</instruction>\n\n"
    "Instruction B (score {score_b}):\n<instruction>\n{text_b}\n</instruction>\n\n"
    "Write ONE new instruction that fuses the strengths of both: keep what makes each one work, "
    "drop what is redundant. First give your idea as ONE sentence inside braces, then the new "
    "instruction between <instruction> and </instruction>."
)

TRACE_GUIDED = (
    "The function `{function}` was run on one instance and did badly. Below is its code, the "
    "trace of that run (the inputs and the intermediate values it computed) and the feedback.\n\n"
    "Code:\n```python\n{code}\n```\n\nTrace of the run:\n{trace}\n\nFeedback:\n{feedback}\n\n"
    "Use the intermediate values to find where the computation goes wrong, and fix it.\n"
)

REJECTIONS = (
    "Recently rejected attempts (do not repeat them):\n{items}\n"
)

REJECTION_ITEM = "- [{reason}] {detail}{excerpt}"


def render_rejections(rejected: Sequence[Any], limit: int = 5, excerpt_chars: int = 160) -> str:
    """The last ``limit`` rejections as a "do not repeat" block ("" when there are none)."""
    if not rejected or limit <= 0:
        return ""
    items = []
    for r in list(rejected)[-limit:]:
        excerpt = " ".join(str(getattr(r, "values_excerpt", "")).split())[:excerpt_chars]
        detail = " ".join(str(getattr(r, "detail", "")).split())[:200]
        items.append(
            REJECTION_ITEM.format(
                reason=getattr(r, "reason", "?"), detail=detail, excerpt=f" | code: {excerpt}" if excerpt else ""
            )
        )
    return REJECTIONS.format(items="\n".join(items))


def render_feedback(feedback: str, limit: int = 600) -> str:
    """The parent's evaluation feedback, shortened; "" when there is none."""
    text = feedback.strip()
    if not text:
        return ""
    if len(text) > limit:
        text = text[: limit // 2] + "\n...\n" + text[-limit // 2 :]
    return f"Feedback from its evaluation:\n{text}\n"


def format_score(score: float | None) -> str:
    return "failed" if score is None else f"{score:.6g}"
