"""Modules: parameter discovery, JSON save/load, mismatches, containers."""

from __future__ import annotations

import importlib
import json
import pickle
import sys
from pathlib import Path

import pytest

from opto import trace
from opto.trace.nodes import ParameterNode, node

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
bf = importlib.import_module("bundled_funcs")


def test_parameters_and_dict():
    a = bf.Agent()
    params = a.parameters()
    assert all(isinstance(p, ParameterNode) for p in params) and len(params) == 3
    assert set(a.parameters_dict()) == {"act", "prompt", "k"}  # 'fixed' is a plain Node
    assert a.parameters_dict()["act"] is a.act.parameter


def test_named_parameters_nested():
    t = bf.Team()
    names = set(t.named_parameters())
    assert {"lead.act", "lead.k", "lead.prompt", "temperature"} <= names
    assert any(n.startswith("members.0.") for n in names)
    t.set_parameter_values({"lead.k": 9, "temperature": 0.1})
    assert t.lead.k.data == 9 and t.temperature.data == 0.1
    with pytest.raises(KeyError, match="unknown parameter"):
        t.set_parameter_values({"lead.nope": 1})


def test_save_load_roundtrip_json(tmp_path):
    a = bf.Agent()
    a.k._set((1, [2, {"x": 3}]))
    path = tmp_path / "sub" / "agent.json"
    a.save(path)
    payload = json.loads(path.read_text())
    assert payload["format"] == "opto-parameters" and "def act(self, q):" in payload["parameters"]["act"]
    b = bf.Agent()
    b.load(path)
    assert b.k.data == (1, [2, {"x": 3}]) and b.act.parameter.data == a.act.parameter.data


def test_load_mismatch_names_which(tmp_path):
    a = bf.Agent()
    path = tmp_path / "p.json"
    a.save(path)
    data = json.loads(path.read_text())
    data["parameters"]["extra"] = 1
    del data["parameters"]["k"]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"missing from file \['k'\].*not in this module \['extra'\]"):
        bf.Agent().load(path)


def test_load_refuses_pickle_and_garbage(tmp_path):
    p = tmp_path / "x.pkl"
    p.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ValueError, match="never unpickles"):
        bf.Agent().load(p)
    g = tmp_path / "g.json"
    g.write_text("{not json")
    with pytest.raises(ValueError, match="invalid JSON"):
        bf.Agent().load(g)


def test_save_rejects_unserializable(tmp_path):
    a = bf.Agent()
    a.k._set(object())
    with pytest.raises(TypeError, match="'k'"):
        a.save(tmp_path / "a.json")


def test_seq_map_containers():
    p = node(1, trainable=True)
    s = trace.Seq([p, 3])
    assert s.parameters() == [p]
    m = trace.Map({"a": p})
    assert m.parameters() == [p]


def test_module_set_from_dict():
    a, b = bf.Agent(), bf.Agent()
    b.k._set(42)
    a._set(b)
    assert a.k.data == 42


def test_apply_op_broadcast():
    out = trace.apply_op(trace.operators.add, [0, 0], [node(1), node(2)], node(10))
    assert [o.data for o in out] == [11, 12]
    d = trace.apply_op(trace.operators.add, {"a": 0}, {"a": node(1)}, node(1))
    assert d["a"].data == 2
