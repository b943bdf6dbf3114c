"""``opto train``: a model and guide from files, a JSON dataset, dry run, a resumable store, the best values."""

from __future__ import annotations

import json

from trainer_fakes import optoprime_nudge

import opto
from opto.cli import main
from opto.llm import ScriptedLM
from opto.store import RunStore

MODEL = '''
from opto import trace

@trace.model
class Shift:
    def __init__(self):
        self.x = trace.node(0.0, trainable=True)

    def forward(self, inp):
        return self.x + inp

def guide(inp, out, info):
    d = out - info
    return (1.0, "correct") if d == 0 else (-abs(d), "too low" if d < 0 else "too high")
'''


def files(tmp_path):
    (tmp_path / "shift_model.py").write_text(MODEL)
    data = {"train": [[i, i + 3] for i in range(4)], "val": [[10, 13]], "test": [[20, 23]]}
    (tmp_path / "data.json").write_text(json.dumps(data))
    model = f"{tmp_path / 'shift_model.py'}:Shift"
    return ["train", model, "--data", str(tmp_path / "data.json"), "--guide", f"{tmp_path / 'shift_model.py'}:guide",
            "--epochs", "2", "--batch-size", "2", "--no-progress"]


def test_dry_run_prints_the_plan(tmp_path, capsys):
    assert main(files(tmp_path) + ["--dry-run", "--budget", "2"]) == 0
    out = capsys.readouterr().out
    assert "proposals:    2" in out and "WARNING" in out


def test_train_writes_the_store_and_the_best_values(tmp_path, capsys):
    store, best = tmp_path / "run.db", tmp_path / "best.json"
    with opto.context(lm=ScriptedLM(optoprime_nudge)):
        assert main(files(tmp_path) + ["--store", str(store), "--output", str(best)]) == 0
    out = capsys.readouterr().out
    assert "val score: -3 at the start" in out and "held-out test score" in out
    assert json.loads(best.read_text()) == {"x": 3.0}
    with RunStore.open(store, readonly=True) as s:
        assert s.info().config["kind"] == "training" and len(s.events("step")) == 4


def test_bad_model_spec_is_one_clear_error(tmp_path, capsys):
    args = files(tmp_path)
    args[1] = "no_colon_here"
    assert main(args) == 2
    assert "module:name" in capsys.readouterr().err
