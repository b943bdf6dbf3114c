"""MAP-Elites (ELM): one elite per cell of a grid over user-given behaviour descriptors.

Bin edges come from the config and never move during a run, so a cell means the same thing at
generation 1 and generation 1,000 (adaptive grids make cells drift and elites incomparable).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from opto.optimizers.evolution.config import Descriptor
from opto.optimizers.evolution.member import Member

Cell = tuple[int, ...]


def descriptor_value(member: Member, name: str) -> float | None:
    """A descriptor from the evaluation's named scores or artifacts; ``code_length`` is built in."""
    if name in member.scores:
        return float(member.scores[name])
    value = member.artifacts.get(name)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if name == "code_length":
        return float(member.size)
    return None


class Grid:
    """The archive: cell -> elite. ``add`` says which member (if any) left the archive."""

    def __init__(self, descriptors: Sequence[Descriptor]) -> None:
        if not descriptors:
            raise ValueError("MAP-Elites needs at least one descriptor with bin edges")
        self.descriptors = tuple(descriptors)
        self.elites: dict[Cell, Member] = {}

    def cell_of(self, member: Member) -> Cell | None:
        """The member's cell, or None when a descriptor is missing from its evaluation."""
        cell = []
        for d in self.descriptors:
            value = descriptor_value(member, d.name)
            if value is None:
                return None
            cell.append(bisect.bisect_right(d.edges, value))
        return tuple(cell)

    def add(self, member: Member) -> tuple[bool, Member | None]:
        """(kept, displaced): kept if its cell was empty or it beats the incumbent."""
        cell = self.cell_of(member)
        if cell is None:
            return False, None
        incumbent = self.elites.get(cell)
        if incumbent is not None and incumbent.score >= member.score:
            return False, None
        self.elites[cell] = member
        return True, incumbent

    def members(self) -> list[Member]:
        return [self.elites[c] for c in sorted(self.elites)]

    @property
    def coverage(self) -> float:
        """Share of cells holding an elite."""
        total = 1
        for d in self.descriptors:
            total *= len(d.edges) + 1
        return len(self.elites) / total
