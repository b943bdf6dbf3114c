"""A cluster: the members of an island that share a score signature (FunSearch).

Programs that score identically on every instance are probably variants of one idea; sampling
clusters rather than programs keeps one idea from crowding out the rest, and within a cluster the
shorter program is preferred (simpler code generalizes and mutates better).
"""

from __future__ import annotations

import math
import random

from opto.optimizers.evolution.member import Member


class Cluster:
    """Members with one signature; ``score`` is their shared primary score."""

    def __init__(self, signature: tuple[float, ...], first: Member) -> None:
        self.signature = signature
        self.score = first.score
        self.members: list[Member] = [first]

    def add(self, member: Member) -> None:
        self.members.append(member)

    def remove(self, member_id: str) -> None:
        self.members = [m for m in self.members if m.id != member_id]

    def sample(self, rng: random.Random) -> Member:
        """A member, shorter ones likelier: softmax over negative normalized size."""
        if len(self.members) == 1:
            return self.members[0]
        sizes = [m.size for m in self.members]
        lo, hi = min(sizes), max(sizes)
        normalized = [(s - lo) / (hi - lo + 1e-6) for s in sizes]
        return rng.choices(self.members, weights=softmax([-n for n in normalized], 1.0))[0]


def softmax(logits: list[float], temperature: float) -> list[float]:
    """Numerically safe softmax weights (they need not sum to one for ``random.choices``)."""
    top = max(logits)
    return [math.exp((x - top) / temperature) for x in logits]
