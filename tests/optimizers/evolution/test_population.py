"""Population layers: clusters, islands under each survival rule, the database, MAP-Elites, Pareto."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from opto.optimizers.evolution.cluster import Cluster
from opto.optimizers.evolution.config import Descriptor, EvolutionConfig
from opto.optimizers.evolution.database import Database
from opto.optimizers.evolution.island import Island
from opto.optimizers.evolution.map_elites import Grid
from opto.optimizers.evolution.member import Member
from opto.optimizers.evolution.pareto import dominates, pareto_front, pareto_ranks


def member(i: int, score: float, island: int = 0, code: str = "x", **kw) -> Member:
    return Member(f"m{i}", {"f": code}, score, island=island, birth=i, **kw)


def test_cluster_prefers_shorter_members():
    c = Cluster((1.0,), member(0, 1.0, code="x" * 200))
    c.add(member(1, 1.0, code="x"))
    picks = Counter(c.sample(random.Random(i)).id for i in range(300))
    assert picks["m1"] > 2 * picks["m0"]


def test_island_clusters_by_signature_and_tempered_sampling_favours_high_scores():
    isl = Island(0, EvolutionConfig(temperature=0.1))
    for i, s in enumerate([0.0, 0.0, 1.0, 5.0, 10.0]):
        isl.add(member(i, s))
    assert len(isl.clusters) == 4  # two members share the signature (0.0,)
    rng = random.Random(0)
    picks = Counter(isl.sample(1, rng)[0].score for _ in range(400))
    assert picks[10.0] > picks[5.0] > picks[0.0]
    two = isl.sample(2, rng)
    assert two[0].signature != two[1].signature  # distinct clusters when there are enough


def test_aging_survival_drops_the_oldest():
    isl = Island(0, EvolutionConfig(survival="aging", population_size=3))
    for i, s in enumerate([9.0, 1.0, 2.0, 3.0]):
        isl.add(member(i, s))
    assert [m.id for m in isl.members] == ["m1", "m2", "m3"]  # the best (m0) aged out


def test_best_survival_keeps_mu_best():
    isl = Island(0, EvolutionConfig(survival="best", population_size=2))
    for i, s in enumerate([1.0, 5.0, 3.0, 0.5]):
        isl.add(member(i, s))
    assert sorted(m.score for m in isl.members) == [3.0, 5.0]
    assert sum(len(c.members) for c in isl.clusters.values()) == 2  # clusters follow removals


def test_tournament_uniform_and_qube_selection():
    rng = random.Random(1)
    for selection in ("tournament", "uniform", "qube"):
        isl = Island(0, EvolutionConfig(selection=selection, tournament_size=3))
        for i in range(6):
            isl.add(member(i, float(i)))
        picks = [m.id for _ in range(50) for m in isl.sample(2, rng)]
        assert set(picks) <= {f"m{i}" for i in range(6)}
    isl = Island(0, EvolutionConfig(selection="tournament", tournament_size=6))
    for i in range(6):
        isl.add(member(i, float(i)))
    assert isl.sample(1, rng)[0].id == "m5"  # a tournament over everyone picks the best


def test_qube_tries_untried_parents_and_rewards_good_children():
    isl = Island(0, EvolutionConfig(selection="qube", qube_exploration=1.0))
    isl.add(member(0, 1.0))
    isl.add(member(1, 1.0))
    for _ in range(10):
        isl.record_child(["m0"], 0.0)  # m0's children were all bad
    assert isl.sample(1, random.Random(0))[0].id == "m1"
    isl2 = Island(0, EvolutionConfig(selection="qube", qube_exploration=0.0))
    isl2.add(member(0, 1.0))
    isl2.add(member(1, 1.0))
    isl2.record_child(["m1"], 5.0)  # m1 had a great child
    assert isl2.sample(1, random.Random(0))[0].id == "m1"


def test_database_reset_reseeds_weak_islands_from_strong_ones():
    db = Database(EvolutionConfig(islands=4))
    for i, s in enumerate([1.0, 2.0, 30.0, 40.0]):
        db.register(member(i, s, island=i))
    weak = db.reset_weakest(random.Random(0))
    assert sorted(weak) == [0, 1]
    for i in weak:
        assert [m.score for m in db.islands[i].members] in ([30.0], [40.0])
    assert db.best().score == 40.0


def test_database_migration_is_a_ring():
    db = Database(EvolutionConfig(islands=3))
    for i in range(3):
        db.register(member(i, float(i), island=i))
    moves = db.migrate()
    assert moves == [(0, 1, "m0"), (1, 2, "m1"), (2, 0, "m2")]
    assert {m.id for m in db.islands[0].members} == {"m0", "m2"}
    assert len(db.programs) == 3  # the same programs, now on two islands


def test_map_elites_keeps_one_elite_per_fixed_cell():
    grid = Grid([Descriptor(name="size", edges=(10.0, 20.0))])
    a = Member("a", {}, 1.0, artifacts={"size": 5})
    b = Member("b", {}, 2.0, artifacts={"size": 7})
    c = Member("c", {}, 0.5, artifacts={"size": 15})
    d = Member("d", {}, 0.1, artifacts={"size": 9})
    assert grid.add(a) == (True, None)
    assert grid.add(b) == (True, a)  # b displaces a in cell (0,)
    assert grid.add(c) == (True, None)
    assert grid.add(d) == (False, None)
    assert [m.id for m in grid.members()] == ["b", "c"]
    assert grid.coverage == pytest.approx(2 / 3)
    assert grid.add(Member("e", {}, 9.0)) == (False, None)  # no descriptor -> not placed
    isl = Island(0, EvolutionConfig(descriptors=[{"name": "size", "edges": [10, 20]}]))
    for m in (a, b, c, d):
        isl.add(m)
    assert sorted(m.id for m in isl.members) == ["b", "c"]


def test_pareto_front_and_ranks():
    assert dominates((2, 2), (1, 2)) and not dominates((1, 2), (1, 2))
    items = [Member(str(i), {}, 0.0, scores={"a": a, "b": b}) for i, (a, b) in
             enumerate([(1, 5), (2, 4), (1, 1), (3, 0), (2, 2)])]
    assert [m.id for m in pareto_front(items, ["a", "b"])] == ["0", "1", "3"]
    assert pareto_ranks([(1, 5), (2, 4), (1, 1), (3, 0), (2, 2)]) == [0, 0, 2, 0, 1]
    isl = Island(0, EvolutionConfig(selection="pareto", objectives=("a", "b"), tournament_size=5))
    for m in items:
        isl.add(m)
    assert isl.sample(1, random.Random(0))[0].id in {"0", "1", "3"}
