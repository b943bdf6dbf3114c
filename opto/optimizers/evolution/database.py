"""The programs database: islands, the best program so far, resets and migration (FunSearch).

Islands evolve apart so one early good idea does not take over the whole search; every
``reset_period`` generations the weaker half is wiped and reseeded with the best program of a
surviving island, and every ``migration_period`` generations each island's best moves to the next.
"""

from __future__ import annotations

import random
from typing import Any

from opto.optimizers.evolution.config import EvolutionConfig
from opto.optimizers.evolution.island import Island
from opto.optimizers.evolution.member import Member
from opto.optimizers.evolution.pareto import pareto_front


class Database:
    def __init__(self, config: EvolutionConfig) -> None:
        self.config = config
        self.islands = [Island(i, config) for i in range(config.islands)]
        self.programs: dict[str, Member] = {}  # every member ever registered, by id
        self.births = 0

    def register(self, member: Member) -> bool:
        """Add an evaluated member to its island; returns whether the island kept it."""
        member = member.moved_to(member.island % len(self.islands), self.births)
        self.births += 1
        self.programs.setdefault(member.id, member)
        return self.islands[member.island].add(member)

    def seed_all(self, member: Member) -> None:
        """Put a starting program on every island (each island starts from the same seed)."""
        for island in self.islands:
            if not any(m.id == member.id for m in island.members):
                self.register(member.moved_to(island.index, 0))

    def best(self) -> Member | None:
        return max(self.programs.values(), key=lambda m: (m.score, -m.birth), default=None)

    def top(self, n: int) -> list[Member]:
        return sorted(self.programs.values(), key=lambda m: (-m.score, m.birth))[:n]

    def pareto(self) -> list[Member]:
        """The Pareto front over the configured objectives among all programs (empty without them)."""
        if not self.config.objectives:
            return []
        return pareto_front(sorted(self.programs.values(), key=lambda m: m.birth), self.config.objectives)

    def reset_weakest(self, rng: random.Random) -> list[int]:
        """Wipe the weaker half of the islands, reseeding each from a random stronger island's best."""
        if len(self.islands) < 2:
            return []
        keyed = [(best.score if (best := isl.best()) else float("-inf"), rng.random(), isl.index)
                 for isl in self.islands]
        order = [i for _, _, i in sorted(keyed)]
        weak, strong = order[: len(order) // 2], order[len(order) // 2 :]
        for i in weak:
            donor = self.islands[rng.choice(strong)].best()
            self.islands[i].clear()
            if donor is not None:
                self.register(donor.moved_to(i, 0))
        return weak

    def migrate(self) -> list[tuple[int, int, str]]:
        """Each island's best joins the next island (a ring); returns (from, to, member id)."""
        moves = []
        bests = [isl.best() for isl in self.islands]
        for i, best in enumerate(bests):
            j = (i + 1) % len(self.islands)
            if best is not None and j != i and not any(m.id == best.id for m in self.islands[j].members):
                self.register(best.moved_to(j, 0))
                moves.append((i, j, best.id))
        return moves

    def summary(self) -> dict[str, Any]:
        """Sizes per island (and MAP-Elites coverage) for events and progress displays."""
        return {
            "islands": [
                {"index": isl.index, "members": len(isl), "clusters": len(isl.clusters),
                 "best": (b.score if (b := isl.best()) else None),
                 **({"coverage": isl.grid.coverage} if isl.grid is not None else {})}
                for isl in self.islands
            ],
            "programs": len(self.programs),
        }
