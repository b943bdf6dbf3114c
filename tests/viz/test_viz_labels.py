"""What a picture tells its reader: a legend, the name of a trainable function, code as lines."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from opto import trace, viz
from opto.viz.graph import LINE_LIMIT, MAX_LINES


@trace.bundle(trainable=True)
def score_answer(answer, target):
    """Score an answer: 1.0 if it equals the target, else 0.0."""
    return 1.0 if answer.strip().lower() == target.lower() else 0.0


def _scored() -> tuple[trace.Node, trace.Node]:
    prompt = trace.node("Hello, {name}!", name="prompt", trainable=True)
    reply = prompt.format(name="Ada")
    return prompt, score_answer(reply, "hi, ada!")


def _line_of(source: str, node_id: str) -> str:
    return next(line for line in source.splitlines() if line.strip().startswith(node_id + " ["))


def test_legend_names_each_look_that_is_used(small_graph) -> None:
    source = viz.to_digraph(small_graph.shouted).source
    assert "subgraph cluster_legend {" in source and "label=legend" in source
    legend = source.split("subgraph cluster_legend {", 1)[1]
    for kind in ("parameter", "input", "op", "output"):
        line = _line_of(legend, f"legend_{kind}")
        assert f'label="{viz.LEGEND[kind]}"' in line or f"label={viz.LEGEND[kind]}" in line
        for attr, value in viz.STYLES[kind].items():  # the sample looks like the nodes it explains
            assert re.search(rf'\b{attr}="?{re.escape(value)}"?', line), (kind, attr)
    assert "legend_exception" not in source  # no exception in this graph: not in its legend
    assert "legend_exception" in viz.to_digraph(small_graph.shouted, small_graph.error).source


def test_legend_adds_no_edges_and_can_be_left_out(small_graph) -> None:
    with_legend = viz.to_digraph(small_graph.shouted).source
    without = viz.to_digraph(small_graph.shouted, legend=False).source
    assert with_legend.count("->") == without.count("->")
    assert "legend" not in without


def test_legend_ids_never_clash_with_node_ids() -> None:
    x = trace.node(1, name="legend_input")
    source = viz.to_digraph(x + 1).source
    assert source.count("\tlegend_input [") == 1  # the legend's sample; the node got another id
    assert "<B>legend_input:0</B>" in source


def test_trainable_bundle_call_shows_the_function_name() -> None:
    _, score = _scored()
    graph = viz.to_networkx(score)
    call = graph.nodes[score.name]
    assert call["op"] == "eval" and call["function"] == "score_answer"
    code_key = next(k for k, d in graph.nodes(data=True) if k.startswith("__code"))
    assert graph.nodes[code_key]["function"] == "score_answer"

    source = viz.to_digraph(score).source
    assert f"<B>score_answer</B> <I>({score.name})</I>" in source
    assert "source of score_answer" in _line_of(source, code_key.replace(":", "_"))


def test_plain_bundle_and_operator_functions_are_their_op(small_graph) -> None:
    graph = viz.to_networkx(small_graph.shouted)
    assert graph.nodes[small_graph.combined.name]["function"] == "repeat"
    assert graph.nodes[small_graph.prompt.name]["function"] == ""
    assert f"<B>{small_graph.combined.name}</B>" in viz.to_digraph(small_graph.shouted).source


def test_code_is_drawn_as_lines_not_as_an_escaped_repr() -> None:
    _, score = _scored()
    source = viz.to_digraph(score).source
    code_line = next(line for line in source.splitlines() if "source of score_answer" in line)
    assert "\\\\n" not in code_line and "\\n" not in code_line  # no literal \n in the label
    assert 'def score_answer(answer, target):<BR ALIGN="LEFT"/>' in code_line
    assert "    return 1.0 if answer.strip().lower() == target.lower() else 0.0" in code_line
    assert "…" not in code_line  # these lines fit: nothing is cut
    assert '<FONT FACE="monospace">' in code_line


def test_long_code_is_capped_in_lines_and_width() -> None:
    body = "".join(f"    value_{i} = compute_something_rather_long(value_{i - 1}, factor={i}, extra=True)\n"
                   for i in range(1, 40))
    code = trace.node("def long_one(x):\n" + body + "    return x\n", name="code", trainable=True)
    out = code + ""
    lines = viz.to_networkx(out).nodes[code.name]["lines"].split("\n")
    assert len(lines) == MAX_LINES + 1 and lines[-1] == f"… ({40 + 1 - MAX_LINES} more lines)"
    assert all(len(line) <= LINE_LIMIT for line in lines)
    cut = lines[1]
    assert cut.endswith("…") and cut[:-1].endswith(",")  # cut after a whole word, at a space
    assert lines[0] == "def long_one(x):"


def test_single_line_values_keep_their_repr(small_graph) -> None:
    graph = viz.to_networkx(small_graph.shouted)
    assert graph.nodes[small_graph.prompt.name]["lines"] == ""
    assert "&#x27;Say hi&#x27;" in viz.to_digraph(small_graph.shouted).source


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")
def test_the_labelled_picture_renders_with_dot() -> None:
    _, score = _scored()
    proc = subprocess.run(["dot", "-Tsvg"], input=viz.to_digraph(score).source.encode(), capture_output=True,
                          timeout=60)
    assert proc.returncode == 0 and b"rror" not in proc.stderr, proc.stderr.decode()
    svg = proc.stdout.decode()
    assert "score_answer" in svg and "trainable parameter" in svg
    assert "def score_answer(answer, target):" in svg
