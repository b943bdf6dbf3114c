"""Graphviz pictures for the report (lineage tree, training steps' trace graphs), via opto.viz's dot runner.

A graph that dot cannot draw (dot missing, a malformed DOT text from a run) becomes a note in the
page instead of an error: the rest of the report is still worth having.
"""

from __future__ import annotations

from pathlib import Path

from opto.report.plots import Image
from opto.viz import GraphvizNotFoundError, run_dot


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
