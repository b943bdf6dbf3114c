"""trace-opt's ``FIFOBuffer`` (``opto.optimizers.buffers``), for custom optimizers written against it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class FIFOBuffer:
    """The last ``size`` items added (size 0: keeps nothing)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.buffer: list[Any] = []

    def add(self, item: Any) -> None:
        if self.size > 0:
            self.buffer.append(item)
            del self.buffer[:-self.size]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.buffer)

    def __len__(self) -> int:
        return len(self.buffer)
