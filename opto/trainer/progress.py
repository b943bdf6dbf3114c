"""The progress bar: counts in the budget's unit and shows the best validation score so far."""

from __future__ import annotations

from typing import Any


class Progress:
    """A tqdm bar (or nothing when ``enabled`` is False)."""

    def __init__(self, enabled: bool, total: float | None, unit: str, initial: float = 0.0) -> None:
        self.bar: Any = None
        self.integer = unit != "usd"
        self.shown = int(initial) if self.integer else initial
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=f" {unit}", initial=self.shown, desc="opto train", dynamic_ncols=True,
                            leave=True)

    def update(self, amount: float, best: float | None) -> None:
        if self.bar is None:
            return
        amount = int(amount) if self.integer else amount
        delta = amount - self.shown
        self.shown = amount
        if delta:
            self.bar.update(delta)
        if best is not None:
            self.bar.set_postfix_str(f"best={best:.4g}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
