"""The backward pass: one reverse-topological sweep from the output to its roots.

trace-opt pops a heap and scans it for membership on every push (``parent._itemize() not in
queue``), which together with list-merging feedback makes backward quadratic. Here the order is
computed once by an iterative topological sort, so the pass is linear in nodes plus edges.
"""

from __future__ import annotations

import gc
from typing import Any

from opto.trace.graph import toposort
from opto.trace.nodes import FEEDBACK_ORACLE, MessageNode, Node


def run_backward(output: Node, feedback: Any, propagator: Any, retain_graph: bool, visualize: bool,
                 simple_visualization: bool, reverse_plot: bool, print_limit: int, pause_gc: bool = True) -> Any:
    """One backward pass; with ``pause_gc`` the cyclic garbage collector waits until it ends.

    The sweep allocates a few small containers per node and frees none of them until it ends, so
    cyclic GC passes over a large live graph would make it super-linear (growth exponent 1.3
    instead of 1.0 at 10k nodes). The pause is process-wide while the pass runs (other threads
    included) and is always undone in ``finally``; ``pause_gc=False`` leaves the collector alone.
    """
    paused = pause_gc and gc.isenabled()
    if paused:
        gc.disable()
    try:
        return _sweep(output, feedback, propagator, retain_graph, visualize, simple_visualization,
                      reverse_plot, print_limit)
    finally:
        if paused:
            gc.enable()


def _sweep(output: Node, feedback: Any, propagator: Any, retain_graph: bool, visualize: bool,
           simple_visualization: bool, reverse_plot: bool, print_limit: int) -> Any:
    if propagator is None:
        from opto.trace.propagators import GraphPropagator

        propagator = GraphPropagator()
    if output._backwarded:
        raise AttributeError(f"{output} has been backwarded; call backward(..., retain_graph=True) to reuse it")
    output._add_feedback(FEEDBACK_ORACLE, propagator.init_feedback(output, feedback))
    order = toposort([output])  # a root output is its own order: nothing propagates
    for n in order:
        if n._parents and n._backwarded:
            raise AttributeError(f"{n} has been backwarded; call backward(..., retain_graph=True) to reuse it")
    for n in reversed(order):
        if not n._parents:
            continue  # roots keep their feedback for the optimizer
        if not isinstance(n, MessageNode):
            raise TypeError(f"{n.name} has parents but is not a MessageNode")
        if not n._feedback:
            continue  # reached only through a path that carried no feedback
        propagated = propagator(n)
        n.zero_feedback()
        for parent in n._parents:
            fb = propagated.get(parent, _MISSING)
            if fb is not _MISSING:
                parent._add_feedback(n, fb)
        n._backwarded = not retain_graph
    if not visualize:
        return None
    from opto.viz import to_digraph

    return to_digraph(output, print_limit=print_limit, simple_visualization=simple_visualization,
                      reverse_plot=reverse_plot)


_MISSING = object()
