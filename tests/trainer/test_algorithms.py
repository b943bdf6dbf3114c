"""Selection logic of beam, priority (UCB) and Pareto search, and each one end to end."""

from __future__ import annotations

import math

import pytest
from trainer_fakes import FakeOptimizer, Shift, nudging_lm, shift_data, shift_guide

from opto.llm import ScriptedLM
from opto.store import RunStore
from opto.trainer import BeamSearch, ParetoSearch, PrioritySearch, train


def fit(algorithm, lm=None, **kw):
    model = Shift()
    opt = FakeOptimizer(model.parameters(), lm or nudging_lm())
    kw.setdefault("epochs", 2)
    kw.setdefault("batch_size", 2)
    return model, train(model, shift_data(6), shift_guide, optimizer=opt, algorithm=algorithm,
                        val_set=shift_data(3, start=10), progress=False, **kw)


@pytest.mark.parametrize("algorithm", ["minibatch", "beam", "priority", "pareto"])
def test_every_algorithm_improves_on_the_numeric_task(algorithm):
    model, result = fit(algorithm, epochs=3)
    assert result.best_score > result.seed_score
    assert model.x.data == result.best_values["x"]


def test_beam_keeps_the_best_width_by_validation():
    proposals = iter(['{"0": 1.0}', '{"0": 5.0}', '{"0": 2.0}', '{"0": 3.0}', '{"0": 2.5}', '{"0": 9.0}'])
    beam = BeamSearch(width=2, branch=2)
    model, result = fit(beam, lm=ScriptedLM(lambda r: next(proposals)), epochs=1, batch_size=6)
    # seed 0 (val -3); children 1 (-2) and 5 (-2): ties keep the older first
    assert [v["x"] for _, v, _ in beam.beam] == [1.0, 5.0]
    assert [s for _, _, s in beam.beam] == [-2.0, -2.0]


def test_beam_branches_from_one_forward_pass_per_member(tmp_path):
    beam = BeamSearch(width=2, branch=3)
    lm = nudging_lm()
    fit(beam, lm=lm, epochs=1, batch_size=6)
    assert len(lm.requests) == 3  # one member at the start: three proposals from the same feedback


def test_priority_ucb_tries_unvisited_then_balances_mean_and_visits():
    p = PrioritySearch(exploration=1.0)
    p.pool = {"a": {"values": {}, "sum": 3.0, "n": 3}, "b": {"values": {}, "sum": 0.0, "n": 0},
              "c": {"values": {}, "sum": 0.9, "n": 1}}
    assert p.ucb("b") == math.inf
    p.pool["b"]["n"], p.pool["b"]["sum"] = 1, 0.5
    total = 5
    assert p.ucb("a") == pytest.approx(1.0 + math.sqrt(math.log(total) / 3))
    assert p.ucb("c") == pytest.approx(0.9 + math.sqrt(math.log(total) / 1))
    assert max(p.pool, key=p.ucb) == "c"  # tried once: its bonus (1.27) outweighs a's better mean
    p.exploration = 0.0
    assert max(p.pool, key=p.ucb) == "a"  # pure exploitation: the best mean


def test_priority_refines_its_best_candidate_and_keeps_the_pool_bounded():
    prio = PrioritySearch(exploration=0.0, max_candidates=2)
    model, result = fit(prio, epochs=2)
    assert len(prio.pool) <= 2
    _, values = prio.current()
    assert result.best_score > result.seed_score
    assert values["x"] > 0  # the pool's best mean moved toward the optimum (3)


def pareto_with(pool):
    p = ParetoSearch()
    p.pool = {cid: {"values": v, "parents": parents, "val": {str(i): s for i, s in enumerate(scores)}}
              for cid, (v, parents, scores) in pool.items()}
    return p


def test_pareto_frontier_counts_wins_and_drops_dominated():
    p = pareto_with({
        "seed": ({"a": 0, "b": 0}, [], [0.0, 0.0, 0.0]),
        "x": ({"a": 1, "b": 0}, ["seed"], [1.0, 0.0, 0.5]),
        "y": ({"a": 0, "b": 1}, ["seed"], [0.0, 1.0, 0.5]),
        "z": ({"a": 2, "b": 0}, ["x"], [1.0, 0.0, 0.2]),  # ties x on instance 0, dominated by x
    })
    assert p.wins() == {"x": 2, "y": 2}
    assert p.ancestors("z") == {"x", "seed"}


def test_pareto_merge_takes_each_parameter_from_the_side_that_changed_it():
    p = pareto_with({
        "seed": ({"a": 0, "b": 0}, [], [0.0, 0.0]),
        "x": ({"a": 1, "b": 0}, ["seed"], [1.0, 0.0]),
        "y": ({"a": 0, "b": 1}, ["seed"], [0.0, 1.0]),
    })
    assert p.merge_pair() == ("x", "y", "seed")
    assert p.merged_values("x", "y", "seed") == {"a": 1, "b": 1}
    p.tried_merges.append(["x", "y"])
    assert p.merge_pair() is None


def test_pareto_accepts_a_child_only_if_it_beats_its_parent_on_the_minibatch(tmp_path):
    replies = iter(['{"0": -4.0}', '{"0": 2.0}'] + ['{"0": 3.0}'] * 10)
    path = tmp_path / "run.db"
    pareto = ParetoSearch(merge_every=None)
    fit(pareto, lm=ScriptedLM(lambda r: next(replies)), epochs=1, batch_size=2, store=path)
    with RunStore.open(path, readonly=True) as store:
        rejected = [e.data for e in store.events("rejected")]
        assert rejected and rejected[0]["reason"] == "minibatch"
        # the rejected child (-4) never paid for a full validation
        bad = next(c for c in store.candidates() if c.values == {"x": -4.0})
        assert not any(e.artifacts["input_key"].startswith("val") for e in store.evaluations(bad.id))
    assert {e["values"]["x"] for e in pareto.pool.values()} == {0.0, 2.0, 3.0}
