"""Each training step stores its trace graph (opto.trace.summary) in the run store's "step" event."""

from __future__ import annotations

from opto import trace
from opto.llm import ScriptedLM
from opto.optimizers import OptoPrime
from opto.store import RunStore
from opto.trainer import train


@trace.model
class Scale:
    def __init__(self) -> None:
        self.k = trace.node(1.0, trainable=True, name="k")

    def forward(self, x: object) -> object:
        return self.k * x


def test_every_step_event_holds_the_steps_trace_graph(tmp_path):
    replies = iter(['{"reasoning": "bigger", "suggestion": {"k": 2.0}}',
                    '{"reasoning": "bigger", "suggestion": {"k": 3.0}}'] * 5)
    model = Scale()
    opt = OptoPrime(model.parameters(), lm=ScriptedLM(lambda r: next(replies)))
    data = [(x, 3 * x) for x in (1, 2, 3, 4)]
    guide = lambda x, out, want: (-abs(out - want), f"wanted {want}, got {out}")  # noqa: E731
    train(model, data, guide, optimizer=opt, epochs=1, batch_size=2, store=tmp_path / "t.db", progress=False)
    with RunStore.open(tmp_path / "t.db", readonly=True) as store:
        steps = [e.data for e in store.events("step")]
    assert len(steps) == 2
    for step in steps:
        graph = step["graph"]
        kinds = {n["name"]: n["kind"] for n in graph["nodes"]}
        params = [n for n in graph["nodes"] if n["kind"] == "parameter"]
        assert [p["name"].split(":")[0] for p in params] == ["k"] and params[0]["trainable"] is True
        # two instances of the batch joined by batch_outputs: k feeds both products, both feed the output
        products = [n["name"] for n in graph["nodes"] if n["op"] == "multiply"]
        outputs = [n for n in graph["nodes"] if n["kind"] == "output"]
        assert len(products) == 2 and len(outputs) == 1 and outputs[0]["op"] == "batch_outputs"
        assert all([params[0]["name"], p] in graph["edges"] for p in products)
        assert all([p, outputs[0]["name"]] in graph["edges"] for p in products)
        assert "ID [0]" in outputs[0]["value"] and graph["truncated"] is False
        assert set(kinds.values()) <= {"parameter", "input", "op", "output", "exception"}
    # the second step traced the updated value of k
    assert next(n for n in steps[1]["graph"]["nodes"] if n["kind"] == "parameter")["value"] == "2.0"
