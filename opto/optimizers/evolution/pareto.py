"""Multi-objective bookkeeping: Pareto dominance over named scores (all maximized)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def objective_vector(scores: Mapping[str, float], objectives: Sequence[str]) -> tuple[float, ...]:
    """The scores named in ``objectives``, in order; a missing one counts as -inf (worst)."""
    return tuple(float(scores.get(name, float("-inf"))) for name in objectives)


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """a is at least as good everywhere and strictly better somewhere."""
    return all(x >= y for x, y in zip(a, b)) and any(x > y for x, y in zip(a, b))


def pareto_front(items: Sequence[Any], objectives: Sequence[str], key: Any = None) -> list[Any]:
    """The non-dominated items; ``key(item)`` gives its named scores (default ``item.scores``)."""
    vectors = [objective_vector(key(i) if key else i.scores, objectives) for i in items]
    return [item for item, v in zip(items, vectors) if not any(dominates(w, v) for w in vectors)]


def pareto_ranks(vectors: Sequence[Sequence[float]]) -> list[int]:
    """Non-dominated sorting: rank 0 is the front, rank 1 the front once rank 0 is removed, ..."""
    remaining = set(range(len(vectors)))
    ranks = [0] * len(vectors)
    rank = 0
    while remaining:
        front = {i for i in remaining if not any(dominates(vectors[j], vectors[i]) for j in remaining if j != i)}
        for i in front:
            ranks[i] = rank
        remaining -= front
        rank += 1
    return ranks
