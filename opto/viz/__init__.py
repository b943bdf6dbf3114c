"""Pictures of finished traces and runs; the only place that imports graphviz (and matplotlib).

Trace graphs::

    from opto import viz
    viz.to_networkx(output)                 # networkx.DiGraph with kind/name/op/value/... attributes
    viz.to_digraph(output)                  # graphviz.Digraph (what ``backward(visualize=True)`` returns)
    viz.render(output, path="graph.svg")    # write DOT, SVG or PNG (with a legend; legend=False: none)
"""

from opto.viz.digraph import (
    LEGEND,
    STYLES,
    GraphvizNotFoundError,
    digraph_from_nodes,
    render,
    run_dot,
    to_digraph,
)
from opto.viz.graph import IDENTITY_OPS, KINDS, ancestors, subgraph_to_networkx, to_networkx
from opto.viz.text import preview, shorten, text_lines

__all__ = [
    "IDENTITY_OPS",
    "KINDS",
    "LEGEND",
    "STYLES",
    "GraphvizNotFoundError",
    "ancestors",
    "digraph_from_nodes",
    "preview",
    "render",
    "run_dot",
    "shorten",
    "subgraph_to_networkx",
    "text_lines",
    "to_digraph",
    "to_networkx",
]
