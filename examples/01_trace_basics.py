"""Trace a small program, send feedback backward, print the trace and draw the graph.

Run:  python examples/01_trace_basics.py [--out out/]
Prints every traced operation, what the trainable parameters received as feedback, and writes
the graph as SVG, PNG and DOT into the output folder.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from opto import trace
from opto.trace.graph import toposort
from opto.viz import render, to_networkx


@trace.bundle(trainable=True)
def score_answer(answer, target):
    """Score an answer: 1.0 if it equals the target, else 0.0."""
    return 1.0 if answer.strip().lower() == target.lower() else 0.0


@trace.model
class Greeter:
    """A toy 'agent': a prompt template and a number, both trainable."""

    def __init__(self) -> None:
        self.template = trace.node("Hello, {name}!", name="template", trainable=True,
                                   description="greeting template")
        self.repeat = trace.node(1, name="repeat", trainable=True, description="how many times to greet")

    def forward(self, name):
        greeting = self.template.format(name=name)
        return greeting * self.repeat


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out", help="folder for the pictures (default: out/)")
    args = parser.parse_args()
    out_dir = Path(args.out)

    agent = Greeter()
    reply = agent("Ada")
    score = score_answer(reply, "hi, ada!")

    print("== trace (parents before children) ==")
    for n in toposort([score]):
        kind = type(n).__name__
        op = n.op_name if n.parents else "-"
        inputs = ", ".join(f"{k}={v.name}" for k, v in getattr(n, "_inputs", {}).items())
        print(f"{n.name:<22} {kind:<14} op={op:<14} value={n.data!r:.50}" + (f"  <- {inputs}" if inputs else ""))

    score.backward("The score is 0.0: the reply should be 'Hi, Ada!' (greet once, say Hi).")
    print("\n== feedback received by each parameter ==")
    for name, param in agent.named_parameters().items():
        for graph in (g for items in param.feedback.values() for g in items):
            print(f"{name}: {len(graph.graph)} nodes on its path; user feedback: {graph.user_feedback!r}")
    code = score_answer.parameter
    print(f"score_answer.__code: {sum(len(v) for v in code.feedback.values())} feedback item(s)")

    graph = to_networkx(score)
    kinds: dict[str, int] = {}
    for _, data in graph.nodes(data=True):
        kinds[data["kind"]] = kinds.get(data["kind"], 0) + 1
    print(f"\n== graph: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges, kinds {kinds} ==")
    for fmt in ("dot", "svg", "png"):
        path = render(score, path=out_dir / f"trace_basics.{fmt}")
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
