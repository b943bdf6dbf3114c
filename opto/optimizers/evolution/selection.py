"""Parent selection schemes; each takes an island's members and a seeded random generator.

tempered: FunSearch -- a cluster by softmax of its (normalized) score at a temperature, then a
  short member of it. tournament: regularized evolution's choice, best of a random sample.
uniform: (mu+lambda) with survival "best". qube: quality-uncertainty balance -- a parent's quality
  is how good its children turned out, its uncertainty shrinks with the number of children, so
  promising but untried parents are chosen too. pareto: tournament by non-dominated rank.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence

from opto.optimizers.evolution.cluster import Cluster, softmax
from opto.optimizers.evolution.member import Member
from opto.optimizers.evolution.pareto import objective_vector, pareto_ranks


def tempered(clusters: Sequence[Cluster], k: int, rng: random.Random, temperature: float) -> list[Member]:
    """k parents from distinct clusters when there are enough, sampled by tempered softmax."""
    scores = [c.score for c in clusters]
    lo, hi = min(scores), max(scores)
    logits = [(s - lo) / (hi - lo) if hi > lo else 0.0 for s in scores]
    pool = list(range(len(clusters)))
    chosen: list[int] = []
    for _ in range(k):
        if not pool:
            pool = list(range(len(clusters)))
        i = rng.choices(pool, weights=softmax([logits[j] for j in pool], temperature))[0]
        pool.remove(i)
        chosen.append(i)
    return [clusters[i].sample(rng) for i in chosen]


def tournament(members: Sequence[Member], k: int, rng: random.Random, size: int) -> list[Member]:
    """k winners, each the best of ``size`` members drawn without replacement."""
    out = []
    for _ in range(k):
        contestants = rng.sample(list(members), min(size, len(members)))
        out.append(max(contestants, key=lambda m: (m.score, -m.birth)))
    return out


def uniform(members: Sequence[Member], k: int, rng: random.Random) -> list[Member]:
    """k distinct members when there are enough (with replacement otherwise)."""
    if k <= len(members):
        return rng.sample(list(members), k)
    return [rng.choice(list(members)) for _ in range(k)]


def qube(members: Sequence[Member], children: Mapping[str, Sequence[float]], k: int, rng: random.Random,
         exploration: float) -> list[Member]:
    """The k members with the highest quality + exploration * uncertainty (scores normalized to [0, 1]).

    children: member id -> scores of its evaluated children (failures count as the island's worst).
    """
    all_scores = [m.score for m in members] + [s for c in children.values() for s in c]
    lo, hi = min(all_scores), max(all_scores)

    def norm(s: float) -> float:
        return (s - lo) / (hi - lo) if hi > lo else 0.5

    total = sum(len(children.get(m.id, ())) for m in members) + 1
    keyed = []
    for m in members:
        kids = children.get(m.id, ())
        quality = (norm(m.score) + sum(norm(s) for s in kids)) / (1 + len(kids))
        uncertainty = math.sqrt(math.log(total + 1) / (1 + len(kids)))
        keyed.append((quality + exploration * uncertainty, rng.random(), m))
    keyed.sort(key=lambda t: (t[0], t[1]), reverse=True)
    picked = [m for _, _, m in keyed[:k]]
    while len(picked) < k:
        picked.append(picked[len(picked) % len(keyed)])
    return picked


def pareto_tournament(members: Sequence[Member], objectives: Sequence[str], k: int, rng: random.Random,
                      size: int) -> list[Member]:
    """Tournaments won by the lower non-dominated rank, ties by primary score."""
    ranks = dict(zip((m.id for m in members), pareto_ranks([objective_vector(m.scores, objectives)
                                                           for m in members])))
    out = []
    for _ in range(k):
        contestants = rng.sample(list(members), min(size, len(members)))
        out.append(min(contestants, key=lambda m: (ranks[m.id], -m.score, m.birth)))
    return out
