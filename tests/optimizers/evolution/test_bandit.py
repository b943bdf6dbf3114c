"""The operator bandit and per-operator statistics."""

from __future__ import annotations

import random
from collections import Counter

from opto.optimizers.evolution.bandit import Bandit, OperatorStats


def test_untried_arms_first_then_the_rewarding_arm_dominates():
    b = Bandit(["a", "b", "c"], exploration=0.3)
    rng = random.Random(0)
    first = []
    for _ in range(3):
        first.append(b.choose(rng))
        b.update(first[-1], 0.0)
    assert sorted(first) == ["a", "b", "c"]
    picks = Counter()
    for _ in range(300):
        arm = b.choose(rng)
        picks[arm] += 1
        b.update(arm, 1.0 if arm == "b" else 0.0)
    assert picks["b"] > 0.8 * 300
    assert b.state()["b"]["mean_reward"] > 0.9


def test_choose_respects_allowed():
    b = Bandit(["a", "b"])
    assert b.choose(random.Random(0), allowed=["b"]) == "b"


def test_stats_count_valid_improved_and_mean_gain():
    s = OperatorStats()
    s.proposals = 4
    assert s.record(1.0, 3.0) is True
    assert s.record(1.0, 0.0) is False
    assert s.record(None, 2.0) is False  # no scored parent: valid, no gain
    assert s.record(1.0, None) is False  # failed child
    e = s.event("op")
    assert e == {"operator": "op", "proposals": 4, "valid": 3, "improved": 1, "mean_gain": 0.5, "llm_tokens": 0,
                 "apply_failures": 0}
