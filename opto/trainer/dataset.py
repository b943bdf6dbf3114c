"""Datasets for training: (input, info) pairs, in the two shapes trace-opt/OpenTrace users pass.

``info`` is whatever the guide needs to judge an output (the expected answer, test cases, ...).
Batches are drawn by a seeded shuffle per epoch, so a resumed run sees exactly the batches the
killed run would have seen.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping, Sequence
from typing import Any


@dataclasses.dataclass(frozen=True)
class Example:
    """One instance; ``index`` is its position in its split (its id in the run store)."""

    index: int
    input: Any
    info: Any


class Dataset(Sequence[Example]):
    """A split of examples. Build it from a list of pairs or ``{"inputs": [...], "infos": [...]}``."""

    def __init__(self, examples: Sequence[Example], name: str = "train") -> None:
        self.examples = list(examples)
        self.name = name

    @classmethod
    def of(cls, data: Any, name: str = "train") -> Dataset:
        """Normalize what a user passes; a bad shape is one error naming the accepted ones."""
        if isinstance(data, Dataset):
            return data if data.name == name else cls(data.examples, name)
        if isinstance(data, Mapping):
            if "inputs" not in data or "infos" not in data:
                raise ValueError(
                    f"{name} set: a dict dataset needs the keys 'inputs' and 'infos' (OpenTrace's format), "
                    f"got keys {sorted(map(str, data))}"
                )
            inputs, infos = list(data["inputs"]), list(data["infos"])
            if len(inputs) != len(infos):
                raise ValueError(
                    f"{name} set: 'inputs' has {len(inputs)} items but 'infos' has {len(infos)}; they pair up "
                    "one to one"
                )
            return cls([Example(i, x, y) for i, (x, y) in enumerate(zip(inputs, infos))], name)
        if isinstance(data, (str, bytes)) or not isinstance(data, Sequence):
            raise TypeError(
                f"{name} set must be a list of (input, info) pairs or a dict {{'inputs': [...], 'infos': [...]}}, "
                f"got {type(data).__name__}"
            )
        examples = []
        for i, item in enumerate(data):
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                raise TypeError(
                    f"{name} set item #{i} must be an (input, info) pair, got {item!r:.80}; pass "
                    "[(input, info), ...] or {'inputs': [...], 'infos': [...]}"
                )
            examples.append(Example(i, item[0], item[1]))
        return cls(examples, name)

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: Any) -> Any:
        return self.examples[i]

    def key(self, example: Example) -> str:
        """The run store's ``input_key`` of one instance, e.g. ``"val:3"``."""
        return f"{self.name}:{example.index}"

    def batches(self, batch_size: int, epoch: int, seed: int | None, shuffle: bool = True) -> list[list[Example]]:
        """The epoch's minibatches: a seeded shuffle (same seed and epoch, same batches)."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        order = list(self.examples)
        if shuffle:
            random.Random(f"{seed}:epoch:{epoch}").shuffle(order)
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]

    def steps_per_epoch(self, batch_size: int) -> int:
        return -(-len(self.examples) // batch_size)
