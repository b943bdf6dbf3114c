"""What an optimizer remembers between steps: past rounds, and proposals it must not repeat.

Both hold JSON-serializable dicts only, so ``state_dict()`` can checkpoint them as they are.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator
from typing import Any


def jsonable(value: Any) -> Any:
    """``value`` if JSON holds it as is, else its ``str`` (memory must always be checkpointable)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return str(value)


class RoundMemory:
    """The last ``size`` rounds as {"variables": {name: value}, "feedback": str} (0: remember nothing)."""

    def __init__(self, size: int = 0) -> None:
        if size < 0:
            raise ValueError(f"memory_size must be >= 0, got {size}")
        self.size = size
        self._rounds: deque[dict[str, Any]] = deque(maxlen=size or None)

    def add(self, variables: dict[str, Any], feedback: Any) -> None:
        if self.size > 0:
            self._rounds.append({"variables": {k: jsonable(v) for k, v in variables.items()},
                                 "feedback": jsonable(feedback)})

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._rounds)

    def __len__(self) -> int:
        return len(self._rounds)

    def state(self) -> list[dict[str, Any]]:
        return list(self._rounds)

    def load(self, rounds: list[dict[str, Any]]) -> None:
        self._rounds.clear()
        if self.size > 0:
            self._rounds.extend(rounds[-self.size:])


class RejectionMemory:
    """Rejected proposals with their reasons; ``find`` says whether a value was rejected before.

    Keeps the last ``size`` distinct (parameter, value) pairs; the newest are shown in the prompt.
    Reply-level rejections (no parameter) are kept too, so the next prompt says what went wrong.
    """

    def __init__(self, size: int = 20) -> None:
        self.size = size
        self._items: dict[str, dict[str, Any]] = {}

    @staticmethod
    def key(param: str | None, value: Any) -> str:
        text = value if isinstance(value, str) else json.dumps(jsonable(value), sort_keys=True)
        return f"{param}\x00{' '.join(text.split())}"

    def add(self, step: int, param: str | None, value: Any, reason: str) -> None:
        k = self.key(param, value)
        self._items.pop(k, None)
        self._items[k] = {"step": step, "param": param, "value": jsonable(value), "reason": reason}
        while len(self._items) > self.size:
            self._items.pop(next(iter(self._items)))

    def find(self, param: str, value: Any) -> dict[str, Any] | None:
        return self._items.get(self.key(param, value))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)

    def state(self) -> list[dict[str, Any]]:
        return list(self._items.values())

    def load(self, items: list[dict[str, Any]]) -> None:
        self._items.clear()
        for item in items:
            self.add(item["step"], item["param"], item["value"], item["reason"])
