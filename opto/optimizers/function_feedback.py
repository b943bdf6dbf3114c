"""trace-opt's ``node_to_function_feedback``: a TraceGraph read as calls, roots, intermediates and outputs.

Kept for programs that print or post-process the graph an optimizer received (trace-opt's
optimization tutorial does); OptoPrime itself builds its prompt with ``problem.summarize``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from opto.optimizers.problem import call_line, fun_name
from opto.trace.nodes import MessageNode


@dataclasses.dataclass
class FunctionFeedback:
    """``graph``: (level, "out = f(a=x)") in topological order; the dicts map a name to (data, constraint)."""

    graph: list[tuple[int, str]]
    documentation: dict[str, str]
    others: dict[str, Any]
    roots: dict[str, Any]
    output: dict[str, Any]
    user_feedback: Any


def node_to_function_feedback(node_feedback: Any) -> FunctionFeedback:
    """Split the (level-sorted) nodes of ``node_feedback`` as trace-opt does.

    A node is a root when it has no parents, or when some parent is outside the graph (a blanket
    node); the calls at the deepest level are the outputs, the other calls are intermediates.
    """
    nodes = list(node_feedback.graph)
    depth = nodes[-1][0] if nodes else 0
    out = FunctionFeedback(graph=[], documentation={}, others={}, roots={}, output={},
                           user_feedback=node_feedback.user_feedback)
    seen: set[int] = set()
    for level, node in nodes:
        seen.add(id(node))
        value = (node.data, getattr(node, "_constraint", None))
        parents = node.parents
        if not parents or not all(id(p) in seen for p in parents) or not isinstance(node, MessageNode):
            out.roots[node.py_name] = value
            continue
        name = fun_name(node)
        out.documentation[name] = node.description
        out.graph.append((level, call_line(node, name)))
        (out.output if level == depth else out.others)[node.py_name] = value
    return out
