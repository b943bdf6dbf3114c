"""Numeric and categorical operators: Optuna's sampler, Gaussian mutation, blend crossover."""

from __future__ import annotations

import random

from opto.optimizers.evolution.operators import OPERATORS, OperatorContext, Parent, Proposal, ProposalFailure
from opto.optimizers.evolution.space import SearchSpace

SPACE = SearchSpace.from_values({"x": 0.5, "n": 3, "mode": "a", "p": "text"},
                                {"x": {"low": 0, "high": 1}, "n": {"low": 0, "high": 10},
                                 "mode": {"choices": ["a", "b", "c"]}})


def parents(k: int) -> list[Parent]:
    rng = random.Random(5)
    out = []
    for i in range(k):
        x, n, mode = rng.random(), rng.randint(0, 10), rng.choice("abc")
        out.append(Parent(f"p{i}", {"x": x, "n": n, "mode": mode, "p": f"text {i}"}, -abs(x - 0.8) - abs(n - 7)))
    return out


def ctx(seed: int = 0) -> OperatorContext:
    return OperatorContext(SPACE, random.Random(seed), None, [])


def test_every_numeric_operator_returns_a_valid_full_child():
    for name in ("optuna", "numeric_mutate", "numeric_crossover"):
        op = OPERATORS[name]()
        assert not op.needs_lm and op.applies_to(SPACE)
        for seed in range(5):
            out = op.propose(parents(max(op.arity, 2))[: op.arity], ctx(seed))
            assert isinstance(out, Proposal), out
            assert SPACE.problems(out.values) == [], (name, out.values)
            assert out.operator == name and out.parent_ids


def test_optuna_is_seeded_and_keeps_non_numeric_values_of_the_best_parent():
    op = OPERATORS["optuna"]()
    ps = parents(12)
    a, b = op.propose(ps, ctx(3)), op.propose(ps, ctx(3))
    assert isinstance(a, Proposal) and a.values == b.values
    best = max(ps, key=lambda p: p.score)
    assert a.values["p"] == best.values["p"] and a.parent_ids == (best.id,)


def test_optuna_tpe_moves_towards_good_regions():
    """After enough scored parents, TPE proposals land nearer the optimum than random ones."""
    op = OPERATORS["optuna"](parents=40, startup=5)
    ps = parents(40)
    dist = [abs(op.propose(ps, ctx(s)).values["x"] - 0.8) for s in range(20)]
    assert sum(dist) / len(dist) < 0.25  # uniform on [0, 1] would average about 0.34


def test_gaussian_mutation_changes_something_and_integer_steps_move():
    op = OPERATORS["numeric_mutate"](rate=0.0)  # exactly one parameter changes
    p = parents(1)[0]
    for seed in range(10):
        out = op.propose([p], ctx(seed))
        changed = [k for k in p.values if out.values[k] != p.values[k]]
        assert len(changed) == 1 and changed[0] in ("x", "n", "mode")


def test_crossover_mixes_within_the_blend_range():
    op = OPERATORS["numeric_crossover"](alpha=0.0)
    a = Parent("a", {"x": 0.2, "n": 2, "mode": "a", "p": "A"}, 1.0)
    b = Parent("b", {"x": 0.6, "n": 8, "mode": "b", "p": "B"}, 0.0)
    for seed in range(10):
        out = op.propose([a, b], ctx(seed))
        assert 0.2 <= out.values["x"] <= 0.6 and 2 <= out.values["n"] <= 8
        assert out.values["mode"] in ("a", "b") and out.values["p"] == "A"  # text from the better parent
    assert isinstance(op.propose([a], ctx()), ProposalFailure)


def test_not_applicable_without_numbers():
    space = SearchSpace.from_values({"p": "only text"})
    for name in ("optuna", "numeric_mutate", "numeric_crossover"):
        op = OPERATORS[name]()
        assert not op.applies_to(space)
        out = op.propose([Parent("a", {"p": "x"}, 1.0)] * 2, OperatorContext(space, random.Random(0), None, []))
        assert isinstance(out, ProposalFailure) and out.reason == "not_applicable"
