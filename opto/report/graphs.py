"""Graphviz pictures for the report (lineage tree, training steps' trace graphs), via opto.viz's dot runner.

A graph that dot cannot draw (dot missing, a malformed DOT text from a run) becomes a note in the
page instead of an error: the rest of the report is still worth having.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx

from opto.report.plots import Image
from opto.viz import GraphvizNotFoundError, run_dot, text_lines, to_digraph

_LINES, _LINE_WIDTH = 12, 72  # a multi-line value (code, a prompt) is drawn as its first lines
_BIG = 60  # nodes above which dot is told to spend less effort on the layout (seconds, not minutes)


def summary_dot(summary: Any) -> str:
    """DOT text of a trainer step's ``graph`` (opto.trace.summary's description), drawn as opto.viz draws traces.

    Raises ValueError naming what is wrong when the description is not one (a run store can hold anything).
    """
    if not isinstance(summary, dict) or not isinstance(summary.get("nodes"), list):
        raise ValueError("a step's graph must be a dict with a 'nodes' list (see opto.trace.summary)")
    graph = nx.DiGraph()
    for node in summary["nodes"]:
        if not isinstance(node, dict) or not isinstance(node.get("name"), str):
            raise ValueError(f"a graph node must be a dict with a 'name', got {node!r:.80}")
        value = str(node.get("value", ""))
        lines = "\n".join(text_lines(value, _LINES, _LINE_WIDTH)) if "\n" in value.strip("\n") else ""
        graph.add_node(node["name"], kind=str(node.get("kind", "op")), name=node["name"],
                       op=str(node.get("op") or ""), value=value, lines=lines,
                       description=str(node.get("description", "")), trainable=bool(node.get("trainable")))
    for edge in summary.get("edges") or []:
        if (isinstance(edge, (list, tuple)) and len(edge) == 2 and edge[0] in graph and edge[1] in graph):
            graph.add_edge(edge[0], edge[1])
    if not nx.is_directed_acyclic_graph(graph):
        raise ValueError("a step's graph has a cycle; a trace graph never does")
    digraph = to_digraph(graph)
    if graph.number_of_nodes() > _BIG:  # dot's crossing and placement passes blow up on wide traces
        digraph.graph_attr.update(mclimit="0.1", nslimit="1", nslimit1="1")
    return digraph.source


def draw(source: str, name: str, title: str, folder: Path, timeout: float = 60.0) -> Image | str:
    """An embedded SVG (also written as ``name``.svg, .png and .dot), or the reason it could not be drawn."""
    folder.mkdir(parents=True, exist_ok=True)
    dot_file = folder / f"{name}.dot"
    dot_file.write_text(source, encoding="utf-8")
    try:
        svg = run_dot(source, "svg", timeout=timeout)
        png = run_dot(source, "png", timeout=timeout)
    except GraphvizNotFoundError as err:
        return str(err)
    except (RuntimeError, OSError) as err:
        return f"graphviz could not draw this graph: {err}"
    except Exception as err:  # noqa: BLE001 - e.g. subprocess.TimeoutExpired on a huge graph
        return f"graphviz could not draw this graph ({type(err).__name__}: {err})"
    svg_file, png_file = folder / f"{name}.svg", folder / f"{name}.png"
    svg_file.write_bytes(svg)
    png_file.write_bytes(png)
    return Image(name, title, "image/svg+xml", svg, (svg_file, png_file, dot_file))
