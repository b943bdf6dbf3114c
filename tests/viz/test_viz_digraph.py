"""graphviz pictures: styles per kind, escaping, identity skipping, files on disk."""

from __future__ import annotations

import shutil
import struct
import subprocess

import graphviz
import pytest

from opto import trace, viz
from opto.viz import digraph as digraph_module

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")

NASTY = [
    'quote " and \\" and \\\\"',
    "braces {a} [b] ; -> -- digraph node",
    "back\\slash at end \\",
    "escapes \\N \\G \\l \\n \\E",
    "line one\nline two\r\nline three\t\x00\x07\x1b",
    "<b>not html</b> & &amp; <<>>",
    "<looks like an html label>",
    "unicode: ünïcödé 漢字 🎉 \u200d \ufeff \ud800",
]


def _node_line(source: str, name: str) -> str:
    return next(line for line in source.splitlines() if f"<B>{name}</B>" in line)


def test_each_kind_has_its_own_look(small_graph) -> None:
    looks = {tuple(sorted(style.items())) for style in viz.STYLES.values()}
    assert len(looks) == len(viz.KINDS)
    shapes = {kind: style["shape"] for kind, style in viz.STYLES.items()}
    assert shapes["exception"] == "octagon" and viz.STYLES["output"]["peripheries"] == "2"

    g = small_graph
    source = viz.to_digraph(g.shouted, g.error).source
    assert "shape=octagon" in _node_line(source, g.error.name)
    assert "peripheries=2" in _node_line(source, g.shouted.name)
    assert "shape=ellipse" in _node_line(source, g.count.name)
    assert "<I>[repeat]</I>" in _node_line(source, g.combined.name)


def test_node_ids_do_not_use_colons(small_graph) -> None:
    digraph = viz.to_digraph(small_graph.shouted)
    assert isinstance(digraph, graphviz.Digraph)
    for line in digraph.body:
        assert ":" not in line.split("[", 1)[0]  # `add:0` would be read as node `add`, port `0`


def test_simple_visualization_skips_identity_chains() -> None:
    x = trace.node("x", name="x")
    y = x.clone().clone() + "!"
    simple = viz.to_digraph(y).source
    full = viz.to_digraph(y, simple_visualization=False).source
    assert "<I>[clone]</I>" not in simple and simple.count("->") == 2  # x -> y and "!" -> y
    assert full.count("<I>[clone]</I>") == 2 and full.count("->") == 4


def test_reverse_plot_flips_edges(small_graph) -> None:
    forward = viz.to_digraph(small_graph.shouted)
    backward = viz.to_digraph(small_graph.shouted, reverse_plot=True)
    flip = {" -> ".join(reversed(line.strip().split(" -> "))) for line in forward.body if "->" in line}
    assert flip == {line.strip() for line in backward.body if "->" in line}


def test_digraph_from_nodes_draws_only_given_nodes(small_graph) -> None:
    g = small_graph
    digraph = viz.digraph_from_nodes([(n.level, n) for n in (g.prompt, g.count, g.combined)])
    assert sum("->" in line for line in digraph.body) == 2
    assert g.shouted.name not in digraph.source


def test_dot_file_needs_no_binary(small_graph, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(digraph_module.shutil, "which", lambda _: None)
    path = viz.render(small_graph.shouted, path=tmp_path / "graph", format="dot")
    assert path.suffix == ".dot" and path.read_text(encoding="utf-8").startswith("digraph {")
    with pytest.raises(viz.GraphvizNotFoundError, match="apt-get install graphviz"):
        viz.render(small_graph.shouted, path=tmp_path / "graph.png")


@needs_dot
@pytest.mark.integration
def test_nasty_values_render_with_dot(tmp_path) -> None:
    nodes = [trace.node(text, name=f"v{i}") for i, text in enumerate(NASTY)]
    out = trace.node(NASTY[0], name='weird "name" {x} <y>', trainable=True)
    for n in nodes:
        out = out + n
    digraph = viz.to_digraph(out, print_limit=1000)
    proc = subprocess.run(
        ["dot", "-Tsvg"], input=digraph.source.encode("utf-8"), capture_output=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"rror" not in proc.stderr, proc.stderr.decode()
    svg = proc.stdout.decode("utf-8")
    legend_samples = svg.count("<title>legend_")
    assert legend_samples == 4  # parameter, input, op, output
    assert svg.count('class="node"') - legend_samples == len(NASTY) * 2 + 1
    assert "&lt;looks like an html label&gt;" in svg
    assert "escapes \\\\N \\\\G" in svg  # the repr's backslashes shown as they are, not expanded
    path = viz.render(out, path=tmp_path / "nasty.svg")
    assert path.read_bytes().lstrip().startswith(b"<?xml")


@needs_dot
@pytest.mark.integration
def test_png_is_a_real_image_made_by_dot(small_graph, tmp_path) -> None:
    version = subprocess.run(["dot", "-V"], capture_output=True, text=True, timeout=30)
    assert version.returncode == 0 and "graphviz" in (version.stderr + version.stdout).lower()
    path = viz.render(small_graph.shouted, small_graph.error, path=tmp_path / "graph.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, chunk = struct.unpack(">I4s", data[8:16])
    assert chunk == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    assert width > 0 and height > 0


@needs_dot
@pytest.mark.integration
def test_backward_visualize_returns_a_digraph(small_graph) -> None:
    digraph = small_graph.shouted.backward("too quiet", visualize=True)
    assert isinstance(digraph, graphviz.Digraph)
    assert small_graph.prompt.name in digraph.source
    subprocess.run(["dot", "-Tsvg"], input=digraph.source.encode(), capture_output=True, check=True)


def test_trace_graph_visualize(small_graph) -> None:
    small_graph.shouted.backward("too quiet")
    feedback = [fb for fbs in small_graph.prompt.feedback.values() for fb in fbs]
    assert feedback, "the parameter received no feedback"
    digraph = feedback[0].visualize()
    assert isinstance(digraph, graphviz.Digraph)
    assert small_graph.prompt.name in digraph.source
