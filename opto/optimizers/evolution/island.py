"""An island: one sub-population that evolves apart from the others (FunSearch).

It keeps its members under a survival rule (all, aging, best, or a MAP-Elites grid), their
clusters by score signature, and each member's children's scores for quality-uncertainty
selection. It knows nothing about operators, gates or the store.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from opto.optimizers.evolution import selection
from opto.optimizers.evolution.cluster import Cluster
from opto.optimizers.evolution.config import EvolutionConfig
from opto.optimizers.evolution.map_elites import Grid
from opto.optimizers.evolution.member import Member


class Island:
    def __init__(self, index: int, config: EvolutionConfig) -> None:
        self.index = index
        self.config = config
        self.members: list[Member] = []
        self.clusters: dict[tuple[float, ...], Cluster] = {}
        self.children: dict[str, list[float]] = {}
        self.grid: Grid | None = Grid(config.descriptors) if config.descriptors else None
        self.registered = 0  # programs ever added (drives the temperature schedule)

    def __len__(self) -> int:
        return len(self.members)

    def best(self) -> Member | None:
        return max(self.members, key=lambda m: (m.score, -m.birth), default=None)

    def add(self, member: Member) -> bool:
        """Register a member; returns whether it stayed (survival may drop it or others)."""
        self.registered += 1
        if self.grid is not None:
            kept, displaced = self.grid.add(member)
            if displaced is not None:
                self._remove(displaced)
            if not kept:
                return False
        self.members.append(member)
        sig = member.signature
        if sig in self.clusters:
            self.clusters[sig].add(member)
        else:
            self.clusters[sig] = Cluster(sig, member)
        if self.grid is None and self.config.survival != "all":
            while len(self.members) > self.config.population_size:
                self._remove(self._victim())
        return any(m.id == member.id for m in self.members)

    def _victim(self) -> Member:
        if self.config.survival == "aging":
            return min(self.members, key=lambda m: m.birth)
        return min(self.members, key=lambda m: (m.score, m.birth))

    def _remove(self, member: Member) -> None:
        self.members = [m for m in self.members if m.id != member.id]
        cluster = self.clusters.get(member.signature)
        if cluster is not None:
            cluster.remove(member.id)
            if not cluster.members:
                del self.clusters[member.signature]

    def record_child(self, parent_ids: Sequence[str], score: float | None) -> None:
        """Credit a child's score (None: it failed, counted as this island's worst) to its parents."""
        if score is None:
            score = min((m.score for m in self.members), default=0.0)
        for pid in parent_ids:
            self.children.setdefault(pid, []).append(score)

    def temperature(self) -> float:
        """FunSearch's schedule: decays linearly over a period of registrations, then restarts."""
        period = self.config.temperature_period
        return max(self.config.temperature * (1 - (self.registered % period) / period), 1e-3)

    def sample(self, k: int, rng: random.Random) -> list[Member]:
        """k parents by the configured selection scheme; the island must not be empty."""
        if not self.members:
            raise ValueError(f"island {self.index} is empty; seed it before sampling")
        c = self.config
        if c.selection == "tempered":
            return selection.tempered([self.clusters[s] for s in sorted(self.clusters)], k, rng, self.temperature())
        if c.selection == "tournament":
            return selection.tournament(self.members, k, rng, c.tournament_size)
        if c.selection == "qube":
            return selection.qube(self.members, self.children, k, rng, c.qube_exploration)
        if c.selection == "pareto":
            return selection.pareto_tournament(self.members, c.objectives, k, rng, c.tournament_size)
        return selection.uniform(self.members, k, rng)

    def clear(self) -> None:
        self.members.clear()
        self.clusters.clear()
        self.children.clear()
        if self.grid is not None:
            self.grid.elites.clear()
