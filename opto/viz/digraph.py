"""Draw exported trace graphs with graphviz and write them as DOT, SVG or PNG.

Every label is an HTML-like label built from escaped text (see :mod:`opto.viz.text`), so values
with quotes, braces, backslashes, ``<``/``>``, newlines or odd unicode cannot break the DOT source,
and DOT escape sequences such as ``\\N`` in a value are shown literally.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import graphviz
import networkx as nx

from opto.viz.graph import IDENTITY_OPS, subgraph_to_networkx, to_networkx
from opto.viz.text import html_text, printable, shorten

if TYPE_CHECKING:
    from opto.trace.nodes import Node

Format = Literal["svg", "png", "dot"]

# One look per kind: shape tells the kind without colour, colour tells it at a glance.
STYLES: dict[str, dict[str, str]] = {
    "parameter": {"shape": "box", "style": "filled", "fillcolor": "#FFE2B8", "color": "#C77700"},
    "input": {"shape": "ellipse", "style": "filled", "fillcolor": "#E3EEFA", "color": "#4A7EBB"},
    "op": {"shape": "box", "style": "rounded,filled", "fillcolor": "#F2F2F2", "color": "#707070"},
    "output": {
        "shape": "box",
        "style": "rounded,filled",
        "peripheries": "2",
        "fillcolor": "#DDF2E0",
        "color": "#2E8B57",
    },
    "exception": {
        "shape": "octagon",
        "style": "filled",
        "fillcolor": "#F4A7A1",
        "color": "#B3261E",
        "penwidth": "2",
    },
}

# What each look means, for the legend drawn beside the graph.
LEGEND: dict[str, str] = {
    "parameter": "trainable parameter",
    "input": "input (not trained)",
    "op": "operation",
    "output": "output",
    "exception": "exception",
}
LEGEND_CLUSTER = "cluster_legend"
MONOSPACE = "monospace"  # fontconfig's alias: code keeps its indentation

_INSTALL_HINT = (
    "the graphviz 'dot' executable is not installed or not on PATH; install it with "
    "`apt-get install graphviz` (Debian/Ubuntu) or `brew install graphviz` (macOS), "
    "or write format='dot', which needs no binary"
)


class GraphvizNotFoundError(RuntimeError):
    """Raised when SVG/PNG output is asked for and the ``dot`` executable is missing."""


def to_digraph(
    *graph_or_outputs: Node | nx.DiGraph,
    print_limit: int = 100,
    simple_visualization: bool = True,
    reverse_plot: bool = False,
    legend: bool = True,
) -> graphviz.Digraph:
    """A styled ``graphviz.Digraph`` of the outputs' graph (or of an exported networkx graph).

    ``simple_visualization`` hides identity/clone ops, linking their input straight to their
    users; ``reverse_plot`` draws edges child → parent; ``print_limit`` bounds each shown value
    (multi-line strings such as code are drawn as lines, each capped); ``legend`` adds a box
    that names each node look used in the picture.
    """
    graph = _as_networkx(graph_or_outputs, print_limit)
    return _draw(graph, print_limit, simple_visualization, reverse_plot, legend)


def digraph_from_nodes(
    nodes: Iterable[Node | tuple[int, Node]],
    print_limit: int = 100,
    simple_visualization: bool = True,
    reverse_plot: bool = False,
    legend: bool = True,
) -> graphviz.Digraph:
    """Draw exactly ``nodes`` (e.g. a ``TraceGraph``'s ``(level, node)`` list) and their edges."""
    graph = subgraph_to_networkx(nodes, value_limit=print_limit)
    return _draw(graph, print_limit, simple_visualization, reverse_plot, legend)


def render(
    *graph_or_outputs: Node | nx.DiGraph | graphviz.Digraph,
    path: str | Path,
    format: Format | None = None,
    print_limit: int = 100,
    simple_visualization: bool = True,
    reverse_plot: bool = False,
    legend: bool = True,
    timeout: float = 120.0,
) -> Path:
    """Write the picture to ``path`` and return it.

    ``format`` defaults to the suffix of ``path`` (else SVG); a missing suffix is added. DOT is
    written directly; SVG and PNG run the ``dot`` executable.
    """
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".") or "svg").lower()
    if fmt not in ("svg", "png", "dot"):
        raise ValueError(f"format must be 'svg', 'png' or 'dot', not {fmt!r}")
    if not path.suffix:
        path = path.with_suffix("." + fmt)
    if len(graph_or_outputs) == 1 and isinstance(graph_or_outputs[0], graphviz.Digraph):
        digraph = graph_or_outputs[0]
    else:
        digraph = to_digraph(
            *graph_or_outputs,  # type: ignore[arg-type]
            print_limit=print_limit,
            simple_visualization=simple_visualization,
            reverse_plot=reverse_plot,
            legend=legend,
        )
    source = digraph.source
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "dot":
        path.write_text(source, encoding="utf-8")
    else:
        path.write_bytes(run_dot(source, fmt, timeout=timeout))
    return path


def run_dot(source: str, fmt: str, timeout: float = 120.0) -> bytes:
    """Run ``dot -T<fmt>`` on ``source``; raise with dot's own message when it rejects it."""
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFoundError(_INSTALL_HINT)
    proc = subprocess.run(
        [exe, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True, timeout=timeout
    )
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"dot -T{fmt} failed (exit {proc.returncode}): {message}")
    return proc.stdout


def _as_networkx(items: tuple[Any, ...], value_limit: int) -> nx.DiGraph:
    if len(items) == 1 and isinstance(items[0], nx.DiGraph):
        return items[0]
    if any(isinstance(item, nx.DiGraph) for item in items):
        raise TypeError("pass either one networkx graph or one or more nodes, not a mix")
    return to_networkx(*items, value_limit=value_limit)


def _draw(
    graph: nx.DiGraph, print_limit: int, simple_visualization: bool, reverse_plot: bool, legend: bool
) -> graphviz.Digraph:
    order = list(nx.topological_sort(graph))
    hidden = set()
    if simple_visualization:
        hidden = {
            key
            for key in order
            if graph.nodes[key].get("op") in IDENTITY_OPS
            and graph.nodes[key].get("kind") not in ("output", "exception")
            and graph.in_degree(key) == 1
        }
    # A hidden node stands for its (single) parent's representative: chains collapse in one pass.
    shown_as: dict[Any, Any] = {}
    for key in order:
        shown_as[key] = shown_as[next(iter(graph.predecessors(key)))] if key in hidden else key

    ids = _dot_ids(order, reserved={_legend_id(kind) for kind in LEGEND} if legend else set())
    digraph = graphviz.Digraph(
        graph_attr={"rankdir": "BT" if reverse_plot else "TB"},
        node_attr={"fontsize": "11", "margin": "0.12,0.06"},
        edge_attr={"color": "#606060", "arrowsize": "0.7"},
    )
    for key in order:
        if key not in hidden:
            digraph.node(ids[key], **_node_attrs(key, graph.nodes[key], print_limit))
    drawn: set[tuple[str, str]] = set()
    for key in order:
        if key in hidden:
            continue
        for parent in graph.predecessors(key):
            edge = (ids[shown_as[parent]], ids[key])
            if reverse_plot:
                edge = (edge[1], edge[0])
            if edge not in drawn:
                drawn.add(edge)
                digraph.edge(*edge)
    if legend:
        shown_kinds = {graph.nodes[key].get("kind", "op") for key in order if key not in hidden}
        _add_legend(digraph, [kind for kind in LEGEND if kind in shown_kinds])
    return digraph


def _legend_id(kind: str) -> str:
    return f"legend_{kind}"


def _add_legend(digraph: graphviz.Digraph, kinds: list[str]) -> None:
    """One sample node per look in a dashed box; no edges, so it never joins the graph's layout."""
    if not kinds:
        return
    with digraph.subgraph(name=LEGEND_CLUSTER) as box:
        box.attr(label="legend", fontsize="10", fontcolor="#606060", style="rounded,dashed", color="#B0B0B0")
        for kind in reversed(kinds):  # dot lays out an edge-less rank right to left
            attrs = dict(STYLES.get(kind, STYLES["op"]))
            attrs.update(label=LEGEND[kind], fontsize="9", tooltip=LEGEND[kind])
            box.node(_legend_id(kind), **attrs)


def _dot_ids(keys: list[Any], reserved: set[str] | None = None) -> dict[Any, str]:
    """DOT-safe, unique ids: ``add:0`` would otherwise be read as node ``add``, port ``0``."""
    ids: dict[Any, str] = {}
    taken: set[str] = set(reserved or ())
    for key in keys:
        base = re.sub(r"\W", "_", str(key), flags=re.ASCII) or "node"
        if base[0].isdigit() or base.lower() in ("node", "edge", "graph", "digraph", "subgraph"):
            base = "n_" + base
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}_{n}"
        taken.add(candidate)
        ids[key] = candidate
    return ids


def _node_attrs(key: Any, data: dict[str, Any], print_limit: int) -> dict[str, str]:
    kind = data.get("kind", "op")
    name = shorten(str(data.get("name", key)), max(print_limit, 20))
    op = str(data.get("op") or "")
    function = str(data.get("function") or "")
    title = f"<B>{html_text(name)}</B>"
    if function and op and function != op:  # a trainable bundle's call: name the function it ran
        title = f"<B>{html_text(function)}</B> <I>({html_text(name)})</I>"
    elif function and not op:  # a __code parameter: say whose source it is
        title += f" <I>source of {html_text(function)}</I>"
    tag = f"<I>[{html_text(op)}]</I> " if op else ""
    lines = str(data.get("lines") or "")
    if lines:  # code and other multi-line text: one left-aligned line per line
        body = f'<FONT FACE="{MONOSPACE}">{html_text(lines)}<BR ALIGN="LEFT"/></FONT>'
        label = f"<{title}<BR/>{tag}{'<BR/>' if tag else ''}{body}>"
    else:
        value = shorten(str(data.get("value", "")), print_limit)
        label = f"<{title}<BR/>{tag}{html_text(value)}>"
    tooltip = printable(shorten(str(data.get("description", "")), 4 * print_limit))
    attrs = dict(STYLES.get(kind, STYLES["op"]))
    attrs["label"] = label
    # nohtml: a description that happens to look like "<...>" must stay a plain string.
    attrs["tooltip"] = graphviz.nohtml(graphviz.escape(tooltip).replace("\n", "\\n") or kind)
    return attrs
